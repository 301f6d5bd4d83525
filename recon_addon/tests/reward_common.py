from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import ReconCommon


@tagged("post_install", "-at_install")
class RewardCommon(ReconCommon):
    """A sales rep (a user and their partner) receiving rewards, and the
    company's reward accounts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.advance = cls.company.recon_advance_account_id
        cls.payable = cls.company.recon_commission_payable_account_id
        cls.forgiven = cls.company.recon_forgiven_account_id
        cls.rep_user = new_test_user(cls.env, login="rep_north", name="Northern Rep",
                                     groups="base.group_user", company_id=cls.company.id)
        cls.rep = cls.rep_user.partner_id
        cls.rep_b = cls.env["res.partner"].create({"name": "Southern Rep"})
        cls.recon_user = new_test_user(
            cls.env, login="recon_clerk", name="Reconciliation Clerk",
            groups="base.group_user,recon_addon.recon_addon_group_user", company_id=cls.company.id,
        )
        cls.reason = cls.env.ref("recon_addon.recon_reason_uncollectible")

    @classmethod
    def _reward(cls, amount, partner=None, date="2024-02-01", recoverable=True, currency=None,
                confirm=True, name=None, company=None):
        company = company or cls.company
        reward = cls.env["recon.reward"].with_company(company).create({
            "name": name or ("Draw" if amount > 0 else "Repayment"),
            "partner_id": (partner or cls.rep).id,
            "date": fields.Date.from_string(date),
            "amount": amount,
            "recoverable": recoverable,
            "currency_id": (currency or company.currency_id).id,
            "company_id": company.id,
        })
        if confirm:
            reward.action_confirm()
        return reward

    def _balance(self, partner=None, company=None):
        partner = (partner or self.rep).with_company(company or self.company)
        partner.invalidate_recordset(["recoverable_balance"])
        return partner.recoverable_balance

    def _clear_wizard(self, action, reason=None):
        """The clear confirmation opened by ``action``, its reason chosen."""
        wizard = self.env["recon.reward.clear.wizard"].browse(action["res_id"])
        wizard.reason_id = reason or self.reason
        return wizard
