from odoo import fields

from .common import ReconCommon


class DeductionCommon(ReconCommon):
    """Deduction fixtures: a promotion expense account, a Below Threshold
    promotion for March 2024, a fund type, and helpers to record
    transactions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.promo_account = cls.env["account.account"].create({
            "name": "Trade Promotions", "code": "612900", "account_type": "expense",
        })
        cls.write_off_account = cls.env["account.account"].create({
            "name": "Small Balance Write-offs", "code": "612800", "account_type": "expense",
        })
        cls.promotion_march = cls.env["recon.promotion"].create({
            "name": "Below Threshold - March 2024",
            "date_from": "2024-03-01", "date_to": "2024-03-31",
            "below_threshold": True, "account_id": cls.promo_account.id,
        })
        # a resolution by hand needs its reason
        cls.reason = cls.env.ref("recon_addon.recon_reason_goodwill")
        cls.fund_type = cls.env["recon.fund.type"].create({
            "name": "Small balances", "write_off_account_id": cls.write_off_account.id,
        })

    @classmethod
    def _transaction(cls, amounts, original=None, partner=None, date="2024-03-10", invoices=None,
                     ref="CHQ-1001", breakout=False):
        transaction = cls.env["recon.deduction.transaction"].create({
            "partner_id": (partner or cls.customer).id,
            "date": fields.Date.from_string(date),
            "ref": ref,
            "original_amount": sum(amounts) if original is None else original,
            "invoice_ids": [(6, 0, invoices.ids)] if invoices else [],
            "deduction_ids": [(0, 0, {"ref": f"CLM-{i}", "reason": "Promotion", "amount": amount})
                              for i, amount in enumerate(amounts, start=1)],
        })
        if breakout:
            transaction.action_breakout()
        return transaction

    @staticmethod
    def _by_amount(transaction, amount):
        return transaction.deduction_ids.filtered(lambda d: d.amount == amount)
