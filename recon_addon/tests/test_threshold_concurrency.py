from odoo.tests import tagged

from .common_committed import CommittedDataCase


@tagged("post_install", "-at_install")
class TestThresholdConcurrency(CommittedDataCase):
    """Two runs on the same transaction from two database connections.

    The data is committed (another connection cannot see uncommitted rows),
    in a month no other test uses, and deleted afterwards: the entries, the
    runs, the rule, its promotion and the customer; the rules it disabled
    are enabled again.
    """

    def _setup_committed_data(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            company = env.ref("base.main_company")
            env = env(context=dict(env.context, allowed_company_ids=company.ids))
            enabled = env["recon.threshold.rule"].search([("company_id", "=", company.id), ("state", "=", "enabled")])
            enabled.action_disable()
            promotion = env["recon.promotion"].create({
                "name": "Below Threshold - July 2019 (concurrency)",
                "date_from": "2019-07-01", "date_to": "2019-07-31", "below_threshold": True,
                "account_id": company.recon_bad_debt_account_id.id, "company_id": company.id,
            })
            rule = env["recon.threshold.rule"].create({
                "name": "Concurrency", "threshold": 100.0, "company_id": company.id,
                "promotion_ids": [(6, 0, promotion.ids)],
            })
            rule.action_enable()
            partner = env["res.partner"].create({"name": "Concurrent Customer"})
            transaction = env["recon.deduction.transaction"].create({
                "partner_id": partner.id, "date": "2019-07-10", "original_amount": 60.0, "company_id": company.id,
                "deduction_ids": [(0, 0, {"ref": f"C{i}", "amount": a}) for i, a in enumerate([10.0, 20.0, 30.0])],
            })
            transaction.action_breakout()
        self.addCleanup(self._cleanup, rule.id, promotion.id, enabled.ids, transaction.id, partner.id)
        return company.id, transaction.id

    def _cleanup(self, rule_id, promotion_id, enabled_ids, transaction_id, partner_id):
        """Delete what the test committed; enable the rules it disabled."""
        with self.registry.cursor() as cr:
            env = self._env(cr)
            rule = env["recon.threshold.rule"].browse(rule_id)
            runs = env["recon.threshold.run"].search([("rule_id", "=", rule_id)])
            transaction = env["recon.deduction.transaction"].browse(transaction_id)
            partner = env["res.partner"].browse(partner_id)
            moves = env["account.move.line"].search([("partner_id", "=", partner_id)]).move_id
            self._purge(cr, moves, referencing=[transaction.deduction_ids.line_ids, runs, transaction],
                        referenced=[rule, env["recon.promotion"].browse(promotion_id), partner])
            env["recon.threshold.rule"].browse(enabled_ids).action_enable()

    def test_two_runs_at_once_clear_each_deduction_exactly_once(self):
        company_id, transaction_id = self._setup_committed_data()
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        try:
            env1 = self._env(cr1)(context={"allowed_company_ids": [company_id]})
            env2 = self._env(cr2)(context={"allowed_company_ids": [company_id]})
            action1 = env1["recon.deduction.transaction"].browse(transaction_id).action_run_below_threshold()
            # the second run starts while the first has not committed yet
            action2 = env2["recon.deduction.transaction"].browse(transaction_id).action_run_below_threshold()
            run1 = env1["recon.threshold.run"].browse(action1["res_id"])
            run2 = env2["recon.threshold.run"].browse(action2["res_id"])
            self.assertEqual((run1.cleared_count, run1.skipped_count), (3, 0))
            self.assertEqual((run2.cleared_count, run2.skipped_count), (0, 1))
            self.assertEqual(run2.line_ids.reason, "Being processed by another run.")
            cr2.commit()
            cr1.commit()
        finally:
            cr1.close()
            cr2.close()

        with self.registry.cursor() as cr:
            env = self._env(cr)(context={"allowed_company_ids": [company_id]})
            transaction = env["recon.deduction.transaction"].browse(transaction_id)
            deductions = transaction.deduction_ids
            self.assertEqual(deductions.mapped("state"), ["resolved"] * 3)
            for deduction in deductions:
                self.assertEqual(len(deduction.line_ids), 1)
                self.assertTrue(deduction.receivable_line_id.reconciled)
            moves = env["account.move"].search([("recon_source_model", "=", "recon.threshold.run"),
                                                ("recon_source_id", "in", deductions.line_ids.run_id.ids)])
            self.assertEqual(moves, deductions.line_ids.move_id, "one clearing entry, no second one")
            self.assertEqual(len(moves), 1)
            # and a third run, after both, has nothing left to do
            run3 = env["recon.threshold.run"].browse(transaction.action_run_below_threshold()["res_id"])
            self.assertEqual(run3.cleared_count, 0)
            cr.rollback()

    def test_deductions_held_by_another_run_are_skipped_and_reported(self):
        company_id, transaction_id = self._setup_committed_data()
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        try:
            env1 = self._env(cr1)(context={"allowed_company_ids": [company_id]})
            deductions = env1["recon.deduction.transaction"].browse(transaction_id).deduction_ids
            held = deductions.filtered(lambda d: d.amount == 20.0)
            # another run holds one deduction (its clearing not committed yet)
            cr1.execute("SELECT id FROM recon_deduction WHERE id = %s FOR NO KEY UPDATE", [held.id])
            env2 = self._env(cr2)(context={"allowed_company_ids": [company_id]})
            action = env2["recon.deduction.transaction"].browse(transaction_id).action_run_below_threshold()
            run = env2["recon.threshold.run"].browse(action["res_id"])
            self.assertEqual((run.cleared_count, run.skipped_count), (2, 1))
            self.assertRecordValues(run.line_ids, [{"result": "skipped", "deduction_id": held.id,
                                                    "reason": "Being cleared by another run."}])
            self.assertEqual(env2["recon.deduction"].browse(held.id).state, "new")
            cr2.commit()
        finally:
            cr1.close()
            cr2.close()
