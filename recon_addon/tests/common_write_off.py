import base64

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import tagged

from .common import ReconCommon


@tagged("post_install", "-at_install")
class WriteOffCommon(ReconCommon):
    """Invoices in and out of default, and a collections manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.company.recon_days_to_default = 90
        cls.reason = cls.env.ref("recon_addon.recon_reason_uncollectible")
        cls.manager = cls.env["res.users"].create({
            "name": "Collections Manager",
            "login": "recon_wo_manager",
            "company_id": cls.company.id,
            "company_ids": [(6, 0, [cls.company.id])],
            "groups_id": [(6, 0, [cls.env.ref("recon_addon.recon_addon_group_manager").id,
                                   cls.env.ref("account.group_account_invoice").id])],
        })
        cls.clerk = cls.env["res.users"].create({
            "name": "Collections Clerk",
            "login": "recon_wo_clerk",
            "company_id": cls.company.id,
            "company_ids": [(6, 0, [cls.company.id])],
            "groups_id": [(6, 0, [cls.env.ref("recon_addon.recon_addon_group_user").id])],
        })

    @classmethod
    def _overdue_invoice(cls, amount, days_overdue, partner=None, **kwargs):
        """A posted invoice due (immediate terms) ``days_overdue`` days ago."""
        invoice = cls._invoice(amount, partner=partner, date=cls.today - relativedelta(days=days_overdue),
                               post=False, **kwargs)
        invoice.invoice_payment_term_id = cls.pay_terms_a
        invoice.action_post()
        return invoice

    def _pay(self, invoice, amount=None):
        """Pay ``amount`` (the whole open balance unless given) today."""
        return super()._pay(invoice, amount or invoice.amount_residual, self.today)

    @staticmethod
    def _file(text, encoding="utf-8"):
        return base64.b64encode(text.encode(encoding) if isinstance(text, str) else text)
