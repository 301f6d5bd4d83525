from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase
from odoo.tools import SQL

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

#: tables whose rows a test that commits must leave as it found them
COUNTED_TABLES = [
    "res_partner", "product_product", "account_move", "account_move_line", "account_partial_reconcile",
    "account_full_reconcile", "recon_promotion", "recon_threshold_rule", "recon_threshold_run",
    "recon_threshold_run_line", "recon_deduction_transaction", "recon_deduction", "recon_deduction_line",
    "recon_adjustment_rule", "recon_adjustment_run", "recon_adjustment", "mail_message", "mail_followers",
    "ir_cron_trigger",
]


class CommittedDataCase(TransactionCase):
    """Tests that need two database connections, so committed data: each
    test says what it created, everything is deleted in a committed
    teardown, and the test fails when a counted table does not have the
    rows it had before (the suite can run twice on the same database).

    Work with :meth:`_env` on cursors of your own
    (``with self.registry.cursor() as cr``): the test's own cursor does not
    see what other connections commit after it started.
    """

    def setUp(self):
        super().setUp()
        self._rows_before = self._count_rows()
        self.addCleanup(self._check_rows_unchanged)

    def _env(self, cr, **context):
        if cr.transaction is None:
            # Odoo's own test runner holds the registry's lock while it runs
            # the tests: a worker thread must not look the registry up by name
            cr.transaction = api.Transaction(self.registry)
        return api.Environment(cr, SUPERUSER_ID, dict({"tracking_disable": True}, **context))

    def _count_rows(self):
        with self.registry.cursor() as cr:
            cr.execute(SQL(" UNION ALL ".join(
                f"SELECT '{table}', COUNT(*) FROM {table}" for table in COUNTED_TABLES)))
            return dict(cr.fetchall())

    def _check_rows_unchanged(self):
        self.assertEqual(self._count_rows(), self._rows_before, "a committed record was left behind")

    def _purge(self, cr, moves, referencing=(), referenced=()):
        """Delete for good, in ``cr``: the ``referencing`` records (those
        that point to ``moves``), then ``moves`` (reset to draft first, which
        undoes their reconciliations), then the ``referenced`` records
        (those the entries point to), each group in its order.

        What a test committed is not business data: the guards that protect
        posted work are lifted (as when the addon is uninstalled), and the
        chain of entry numbers may have a hole where the entries were.
        """
        env = self._env(cr, force_delete=True, **{MODULE_UNINSTALL_FLAG: True})
        moves = moves.with_env(env).exists()
        moves.filtered(lambda m: m.state == "posted").button_draft()
        for records in referencing:
            records.with_env(env).exists().unlink()
        moves.exists().unlink()
        for records in referenced:
            records.with_env(env).exists().unlink()
