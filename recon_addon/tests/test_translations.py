from unittest.mock import patch

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader, code_translations

from odoo.addons.recon_addon.services import thresholds

from .common import ReconCommon

#: the names of the journal and accounts the addon creates from Python
DEFAULT_NAMES = ["Reconciliation", "Bad Debts", "Advances to Payees", "Commissions Payable", "Forgiven Advances"]


def exported_terms(env):
    """``{source: {(type, name, res_id)}}`` of the addon's translation template,
    as ``--i18n-export`` reads it."""
    terms = {}
    for __, ttype, name, res_id, source, __, __ in TranslationModuleReader(env.cr, modules=["recon_addon"]):
        terms.setdefault(source, set()).add((ttype, name, res_id))
    return terms


@tagged("post_install", "-at_install")
class TestTranslationTemplate(TransactionCase):
    """Labels built in Python reach the translation template."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.terms = exported_terms(cls.env)

    def test_default_journal_and_account_names_are_exported(self):
        for name in DEFAULT_NAMES:
            with self.subTest(name=name):
                self.assertIn("code", {ttype for ttype, __, __ in self.terms.get(name, ())},
                              f"{name!r} is not in the template as a code term")

    def test_amount_bucket_labels_are_exported_as_their_selection(self):
        selection = thresholds.bucket_selection()
        self.assertEqual(len(selection), len(thresholds.BUCKET_EDGES) + 1)
        for key, label in selection:
            with self.subTest(label=label):
                self.assertIn(
                    ("model", "ir.model.fields.selection,name",
                     f"recon_addon.selection__recon_deduction__amount_bucket__{key}"),
                    self.terms.get(label, set()), f"{label!r} is not in the template as a selection")


@tagged("post_install", "-at_install")
class TestTranslatedDefaults(ReconCommon):

    def test_default_accounts_are_named_in_the_users_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        french = {"Bad Debts": "Créances irrécouvrables"}
        company = self.company.with_context(lang="fr_FR")
        self.company.recon_bad_debt_account_id = False
        with patch.dict(code_translations.python_translations, {("recon_addon", "fr_FR"): french}):
            company._recon_setup_defaults()
        account = self.company.recon_bad_debt_account_id
        self.assertTrue(account)
        self.assertNotEqual(account, self.bad_debt)
        self.assertEqual(account.with_context(lang="fr_FR").name, "Créances irrécouvrables")
        self.assertEqual(account.account_type, "expense")

    def test_requested_by_shows_the_model_name_in_the_users_language(self):
        """An entry's "Requested By" offers the addon's models under their
        translated names, as Odoo's own model selections do."""
        self.env["res.lang"]._activate_lang("fr_FR")
        model = self.env["ir.model"]._get("recon.write.off")
        model.with_context(lang="fr_FR").name = "Passage en perte"
        Move = self.env["account.move"]
        french = dict(Move.with_context(lang="fr_FR")._selection_recon_source_ref())
        english = dict(Move.with_context(lang="en_US")._selection_recon_source_ref())
        self.assertEqual(french["recon.write.off"], "Passage en perte")
        self.assertEqual(english["recon.write.off"], self.env["recon.write.off"]._description)
