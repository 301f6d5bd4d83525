import io
from pathlib import Path
from unittest.mock import patch

import polib

from odoo.exceptions import UserError
from odoo.modules.module import get_module_path
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools.translate import TranslationModuleReader, code_translations, trans_export

from odoo.addons.recon_addon.services import thresholds

from .common import ReconCommon
from .test_run_progress import ProgressAssertions, chunk_size
from .test_threshold_rule import ThresholdCommon

#: the names of the journal and accounts the addon creates from Python
DEFAULT_NAMES = ["Reconciliation", "Bad Debts", "Advances to Payees", "Commissions Payable", "Forgiven Advances"]


def exported_terms(env):
    """``{source: {(type, name, res_id)}}`` of the addon's translation template,
    as ``--i18n-export`` reads it."""
    terms = {}
    for __, ttype, name, res_id, source, __, __ in TranslationModuleReader(env.cr, modules=["recon_addon"]):
        terms.setdefault(source, set()).add((ttype, name, res_id))
    return terms


def template_entries(content):
    """``{msgid: (plural, references, extracted comments)}`` of a
    translation template's text, its header left out."""
    return {
        entry.msgid: (entry.msgid_plural, tuple(":".join(filter(None, ref)) for ref in entry.occurrences),
                      entry.comment)
        for entry in polib.pofile(content)
    }


def exported_template(env, module):
    """The translation template of ``module`` exported from this database, as
    ``--i18n-export`` writes it."""
    buffer = io.BytesIO()
    trans_export(None, [module], buffer, "po", env.cr)
    return buffer.getvalue().decode()


def template_differences(committed, exported, limit=30):
    """Lines telling what differs between the entries of two templates (the
    header is not compared: Odoo writes the time of the export there)."""
    old, new = template_entries(committed), template_entries(exported)
    lines = [f"+ {msgid!r} (not in the template)" for msgid in sorted(new.keys() - old.keys())]
    lines += [f"- {msgid!r} (no longer in the code)" for msgid in sorted(old.keys() - new.keys())]
    for msgid in sorted(old.keys() & new.keys()):
        if old[msgid] != new[msgid]:
            (old_plural, old_refs, old_comment), (new_plural, new_refs, new_comment) = old[msgid], new[msgid]
            added, removed = sorted(set(new_refs) - set(old_refs)), sorted(set(old_refs) - set(new_refs))
            changes = [f"references +{added} -{removed}" if old_refs != new_refs else "",
                       f"plural {old_plural!r} -> {new_plural!r}" if old_plural != new_plural else "",
                       f"comments {old_comment!r} -> {new_comment!r}" if old_comment != new_comment else ""]
            lines.append(f"~ {msgid!r}: {'; '.join(filter(None, changes))}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"… and {len(lines) - limit} more"]
    return lines


def check_template_is_current(case, module):
    """Fail ``case`` when ``module``'s committed ``i18n/<module>.pot`` is not
    what Odoo exports from the test database (a label, message or view
    string added, changed or removed since ``make pot``)."""
    if case.env["ir.module.module"]._get(module).demo:
        case.skipTest("the templates are made without demo data (make pot); this database has it")
    path = Path(get_module_path(module)) / "i18n" / f"{module}.pot"
    case.assertTrue(path.is_file(), f"{module} has no translation template {path.name}: run make pot")
    # a file Odoo cannot extract terms from is logged, and left out of the export
    with case.assertNoLogs("odoo.tools.translate", "ERROR"):
        exported = exported_template(case.env, module)
    differences = template_differences(path.read_text(encoding="utf-8"), exported)
    if differences:
        case.fail(f"{module}/i18n/{module}.pot is stale: run make pot and commit it. What differs:\n"
                  + "\n".join(differences))


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

    def test_committed_template_is_current(self):
        check_template_is_current(self, "recon_addon")

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


def load_french(env):
    """French active and the addon's French terms loaded, as when a user
    adds the language."""
    env["res.lang"]._activate_lang("fr_FR")
    env["ir.module.module"]._load_module_terms(["recon_addon"], ["fr_FR"], overwrite=True)


@tagged("post_install", "-at_install")
class TestFrench(ThresholdCommon, ProgressAssertions):
    """The addon in French (i18n/fr.po): labels, messages and notifications."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_french(cls.env)

    def test_user_error_comes_out_in_the_users_language(self):
        rule = self.env["recon.threshold.rule"].create({"name": "Sans promotion", "clearing_method": "promotion"})
        with self.assertRaises(UserError) as french:
            rule.with_context(lang="fr_FR").action_enable()
        self.assertEqual(str(french.exception), "La règle Sans promotion solde sur des promotions : ajoutez au moins "
                                                "une promotion Sous le seuil active.")
        with self.assertRaises(UserError) as english:
            rule.with_context(lang="en_US").action_enable()
        self.assertEqual(str(english.exception), "Rule Sans promotion clears to promotions: add at least one active "
                                                 "Below Threshold promotion.")

    def test_labels_and_selections_are_french(self):
        Rule = self.env["recon.threshold.rule"].with_context(lang="fr_FR")
        self.assertEqual(Rule._fields["threshold"]._description_string(Rule.env), "Seuil")
        self.assertEqual(dict(Rule._fields["clearing_method"]._description_selection(Rule.env))["promotion"],
                         "Solder sur une promotion")
        self.assertEqual(self.env.ref("recon_addon.recon_menu_config_deduction_automations")
                         .with_context(lang="fr_FR").name, "Automatisations des déductions")

    def test_run_finished_by_the_scheduler_tells_its_user_in_the_users_language(self):
        """The scheduler works in its own language; the notification of the
        run it finishes is in the language of the user who started the run."""
        self.user.lang = "fr_FR"
        transactions = self._transaction([10.0, 5.0], ref="CHQ-1") | self._transaction([7.0], ref="CHQ-2")
        with chunk_size(self, "recon.threshold.run", 1), self._bus():
            action = transactions.with_user(self.user).action_run_below_threshold()
        run = self.env["recon.threshold.run"].browse(action["res_id"])
        self.assertEqual(run.state, "running")
        with chunk_size(self, "recon.threshold.run", 1), self._bus() as bus_send:
            self.env["recon.threshold.run"].with_context(lang="en_US")._cron_process_runs()
        self.assertEqual(run.state, "done")
        [message] = self._progress_messages(bus_send, run)
        french = run.with_context(lang="fr_FR")
        self.assertEqual(message["notification"]["title"],
                         f"Exécution sous le seuil terminée : {french.display_name}")
        self.assertTrue(message["notification"]["message"].startswith("Soldées : 3 pour "),
                        message["notification"]["message"])
        # the same run read in English in the same transaction keeps its English words
        self.assertTrue(run.with_context(lang="en_US").summary.startswith("Cleared 3 for "))
        self.assertTrue(french.display_name.startswith("Exécution "))


@tagged("post_install", "-at_install")
class TestFrenchTour(ReconCommon, HttpCase):
    """The French path in the browser: a chief accountant whose language is
    French, in a company of its own like the other tours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        load_french(cls.env)
        cls.company = cls.setup_other_company(name="Harbour Trading")["company"]
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=cls.company.ids))
        cls.chief = new_test_user(
            cls.env, login="chef_comptable", name="Chef comptable", company_id=cls.company.id, lang="fr_FR",
            groups="base.group_user,account.group_account_manager,recon_addon.recon_addon_group_manager",
        )

    def test_french_tour(self):
        self.start_tour("/web", "recon_french_tour", login=self.chief.login)
        rule = self.env["recon.threshold.rule"].search([("name", "=", "Petites déductions vers la promotion du mois")])
        self.assertRecordValues(rule, [{"state": "disabled", "clearing_method": "promotion",
                                        "company_id": self.company.id}])
