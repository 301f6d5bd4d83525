import re
from pathlib import Path

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import BaseCase, Form, tagged
from odoo.tools import mute_logger

from .common import ReconCommon


@tagged("post_install", "-at_install")
class TestFoundation(ReconCommon):

    def test_install_gives_each_company_a_journal_and_accounts(self):
        other = self.setup_other_company(name="Second Branch")["company"]
        for company in (self.company, other):
            self.assertRecordValues(company.recon_journal_id, [{
                "type": "general", "code": "RECON", "company_id": company.id,
            }])
            self.assertEqual(company.recon_days_to_default, 90)
            self.assertEqual(company.recon_bad_debt_account_id.account_type, "expense")
            self.assertEqual(company.recon_advance_account_id.account_type, "asset_current")
            self.assertTrue(company.recon_advance_account_id.reconcile)
            self.assertEqual(company.recon_forgiven_account_id.account_type, "expense")
            self.assertEqual(company.recon_commission_payable_account_id.account_type, "liability_current")
            self.assertIn(company, company.recon_bad_debt_account_id.company_ids)
        self.assertNotEqual(self.company.recon_journal_id, other.recon_journal_id)

    def test_setup_defaults_keeps_the_users_choice(self):
        chosen = self.copy_account(self.company_data["default_account_expense"])
        self.company.recon_bad_debt_account_id = chosen
        self.company._recon_setup_defaults()
        self.assertEqual(self.company.recon_bad_debt_account_id, chosen)

    def test_settings_write_to_the_company(self):
        with Form(self.env["res.config.settings"]) as settings:
            settings.recon_days_to_default = 120
        self.assertEqual(self.company.recon_days_to_default, 120)

    def test_negative_days_to_default_refused(self):
        with self.assertRaisesRegex(ValidationError, "cannot be negative"):
            self.company.recon_days_to_default = -1

    def test_posted_customer_invoice_is_active_in_collections(self):
        invoice = self._invoice(100.0)
        self.assertEqual(invoice.collection_status_id.code, "active")
        draft = self._invoice(100.0, post=False)
        self.assertFalse(draft.collection_status_id)
        bill = self._invoice(100.0, move_type="in_invoice")
        self.assertFalse(bill.collection_status_id)

    def test_status_code_is_unique(self):
        with self.assertRaises(IntegrityError), self.cr.savepoint(), mute_logger("odoo.sql_db"):
            self.env["recon.collection.status"].create({"name": "Again", "code": "active"})

    def test_account_manager_is_reconciliation_manager(self):
        manager = self.env.ref("recon_addon.recon_addon_group_manager")
        user_group = self.env.ref("recon_addon.recon_addon_group_user")
        adviser = self.env.ref("account.group_account_manager")
        self.assertIn(manager, adviser.implied_ids)
        self.assertIn(user_group, manager.implied_ids)
        self.assertTrue(self.env.user.has_group("recon_addon.recon_addon_group_manager"))

    def test_menus_visible_to_manager(self):
        user = self.env["res.users"].create({
            "name": "Collections Manager",
            "login": "recon_manager_menu",
            "groups_id": [(6, 0, [self.env.ref("recon_addon.recon_addon_group_manager").id,
                                   self.env.ref("account.group_account_manager").id])],
        })
        visible = self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
        for xmlid in ("recon_menu_deductions", "recon_menu_collections", "recon_menu_rewards",
                      "recon_menu_config", "recon_menu_config_collection_status"):
            self.assertIn(self.env.ref(f"recon_addon.{xmlid}").id, visible, xmlid)
        # settings are Odoo's: administrators only, like Accounting > Settings
        settings_menu = self.env.ref("recon_addon.recon_menu_config_settings").id
        self.assertNotIn(settings_menu, visible)
        self.assertIn(settings_menu, self.env["ir.ui.menu"]._visible_menu_ids())

    def test_collection_status_editable_by_manager_only(self):
        user = self.env["res.users"].create({
            "name": "Collections Clerk",
            "login": "recon_clerk_status",
            "groups_id": [(6, 0, [self.env.ref("recon_addon.recon_addon_group_user").id])],
        })
        status = self.env.ref("recon_addon.recon_collection_status_legal")
        self.assertEqual(status.with_user(user).name, "Legal")
        with self.assertRaises(AccessError):
            status.with_user(user).write({"name": "Court"})


@tagged("post_install", "-at_install")
class TestTranslationIdiom(BaseCase):

    def test_user_strings_go_through_the_environment(self):
        """Messages are translated with ``self.env._(...)`` (or the lazy
        ``_lt`` of a module without an environment), never the bare ``_``."""
        root = Path(__file__).resolve().parent.parent
        bare = re.compile(r"(?<![\w.])_\(|^from odoo import .*\b_\b|^\s*_ = ", re.M)
        offenders = [
            f"{path.relative_to(root)}:{text.count(chr(10), 0, match.start()) + 1}"
            for path in sorted(root.rglob("*.py")) if "tests" not in path.parts
            for text in [path.read_text()] for match in bare.finditer(text)
        ]
        self.assertEqual(offenders, [])
