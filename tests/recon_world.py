"""What the outside-world tests act on, made over XML-RPC as admin.

Every run makes its own users, partners, rules and records, named with a
tag of its own, so a second run never meets the first one's; what would
act on later runs (enabled rules, users who can log in) is switched off
by :meth:`World.close`.
"""
import base64
import datetime
import uuid

PASSWORD = "recon-rpc-Secret-42"

#: the people of the access matrix: login suffix -> groups (XML ids)
ROLES = {
    "internal": ["base.group_user"],
    "invoicing": ["base.group_user", "account.group_account_invoice"],
    "recon_user": ["base.group_user", "recon_addon.recon_addon_group_user"],
    "recon_manager": ["base.group_user", "recon_addon.recon_addon_group_manager"],
    "other_manager": ["base.group_user", "recon_addon.recon_addon_group_manager"],
}


class World:

    def __init__(self, admin, login, json_admin):
        self.admin = admin
        self.json_admin = json_admin
        self.tag = uuid.uuid4().hex[:8]
        self.today = datetime.date.today()
        [me] = admin.call("res.users", "read", [admin.uid], ["company_id"])
        self.company_id = me["company_id"][0]
        self.other_company_id = self._other_company()
        self.users = {}
        self.clients = {}
        for role, groups in ROLES.items():
            company = self.other_company_id if role == "other_manager" else self.company_id
            self.users[role] = admin.call("res.users", "create", {
                "name": f"RPC {role} {self.tag}",
                "login": f"rpc_{role}_{self.tag}",
                "email": f"rpc_{role}_{self.tag}@example.com",
                "password": PASSWORD,
                "company_id": company,
                "company_ids": [(6, 0, [company])],
                "groups_id": [(6, 0, [self.ref(group) for group in groups])],
            })
            self.clients[role] = login(f"rpc_{role}_{self.tag}", PASSWORD)
        self.customer_id = admin.call("res.partner", "create", {"name": f"RPC Customer {self.tag}"})
        self.reason_id = self.ref("recon_addon.recon_reason_uncollectible")
        self.expense_account_id = admin.call("account.account", "search", [
            ("account_type", "=", "expense"), ("company_ids", "in", [self.company_id])], limit=1)[0]
        self.fund_type_id = admin.call("recon.fund.type", "create", {
            "name": f"RPC small balances {self.tag}", "write_off_account_id": self.expense_account_id,
            "company_id": self.company_id})
        self.enabled_before = admin.call("recon.threshold.rule", "search", [
            ("company_id", "=", self.company_id), ("state", "=", "enabled")])
        if self.enabled_before:
            admin.call("recon.threshold.rule", "action_disable", self.enabled_before)
        self.rule_id = admin.call("recon.threshold.rule", "create", {
            "name": f"RPC below 100 {self.tag}", "threshold": 100.0, "clearing_method": "write_off",
            "fund_type_id": self.fund_type_id, "company_id": self.company_id})
        admin.call("recon.threshold.rule", "action_enable", [self.rule_id])
        self.product_id = admin.call("product.product", "create", {
            "name": f"RPC carrying fee {self.tag}", "type": "service", "taxes_id": [(6, 0, [])]})
        # a rule that qualifies no account: running it posts nothing
        self.adjustment_rule_id = admin.call("recon.adjustment.rule", "create", {
            "name": f"RPC monthly fee {self.tag}", "frequency": "monthly", "month_day": 1,
            "apply_limit": "unlimited", "product_id": self.product_id, "adjustment_type": "flat",
            "value": 5.0, "domain": "[('id', '=', 0)]", "company_id": self.company_id})

    def close(self):
        admin = self.admin
        admin.call("recon.threshold.rule", "action_disable", [self.rule_id])
        if self.enabled_before:
            admin.call("recon.threshold.rule", "action_enable", self.enabled_before)
        admin.call("recon.adjustment.rule", "action_disable", [self.adjustment_rule_id])
        admin.call("res.users", "write", list(self.users.values()), {"active": False})

    # ------------------------------------------------------------------
    # Makers, each giving fresh records (as admin)
    # ------------------------------------------------------------------
    def ref(self, xmlid):
        module, name = xmlid.split(".")
        [data] = self.admin.call("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)],
                                 fields=["res_id"])
        return data["res_id"]

    def _other_company(self):
        """A second company with its chart of accounts, made once and kept."""
        name = "Recon RPC Other Company"
        found = self.admin.call("res.company", "search_read", [("name", "=", name)], fields=["chart_template"])
        company_id = found[0]["id"] if found else self.admin.call("res.company", "create", {"name": name})
        if not (found and found[0]["chart_template"]):
            # Odoo's own try_loading answers None, which only JSON-RPC carries
            self.json_admin.call_kw("account.chart.template", "try_loading", [[], "generic_coa", company_id],
                                    {"context": {"allowed_company_ids": [company_id]}})
        return company_id

    def invoice(self, amount, days_ago=0, company_id=None):
        """A posted customer invoice due on its date, ``days_ago`` days ago."""
        day = (self.today - datetime.timedelta(days=days_ago)).isoformat()
        company_id = company_id or self.company_id
        move_id = self.admin.call("account.move", "create", {
            "move_type": "out_invoice", "partner_id": self.customer_id, "invoice_date": day,
            "invoice_date_due": day, "company_id": company_id,
            "invoice_line_ids": [(0, 0, {"name": f"Goods {self.tag}", "quantity": 1, "price_unit": amount,
                                         "tax_ids": [(6, 0, [])]})],
        }, context={"allowed_company_ids": [company_id]})
        self.admin.call("account.move", "action_post", [move_id],
                        context={"allowed_company_ids": [company_id]})
        return move_id

    def short_paid_invoice(self, residual):
        """A posted customer invoice that a payment left ``residual`` open on:
        the balance the below-threshold rule exists to clear."""
        move_id = self.invoice(residual + 1000.0)
        context = {"active_model": "account.move", "active_ids": [move_id],
                   "allowed_company_ids": [self.company_id]}
        wizard_id = self.admin.call("account.payment.register", "create", {
            "amount": 1000.0, "payment_date": self.today.isoformat()}, context=context)
        self.admin.call("account.payment.register", "action_create_payments", [wizard_id], context=context)
        return move_id

    def deduction(self, amount=30.0):
        """A broken-out deduction of ``amount`` (its transaction has no invoice)."""
        transaction_id = self.admin.call("recon.deduction.transaction", "create", {
            "partner_id": self.customer_id, "date": self.today.isoformat(), "ref": f"CHQ-{self.tag}",
            "original_amount": amount, "company_id": self.company_id,
            "deduction_ids": [(0, 0, {"ref": f"CLM-{self.tag}", "amount": amount})],
        })
        self.admin.call("recon.deduction.transaction", "action_breakout", [transaction_id])
        [transaction] = self.admin.call("recon.deduction.transaction", "read", [transaction_id], ["deduction_ids"])
        return transaction["deduction_ids"][0]

    def transaction(self, amount=12.0):
        """A draft transaction with one small deduction."""
        return self.admin.call("recon.deduction.transaction", "create", {
            "partner_id": self.customer_id, "date": self.today.isoformat(), "ref": f"CHQ-{self.tag}",
            "original_amount": amount, "company_id": self.company_id,
            "deduction_ids": [(0, 0, {"ref": f"CLM-{self.tag}", "amount": amount})],
        })

    def payee(self, amount=40.0):
        """A payee owing ``amount`` through one confirmed reward."""
        partner_id = self.admin.call("res.partner", "create", {"name": f"RPC Payee {self.tag}"})
        reward_id = self.admin.call("recon.reward", "create", {
            "name": f"Draw {self.tag}", "partner_id": partner_id, "amount": amount, "company_id": self.company_id})
        self.admin.call("recon.reward", "action_confirm", [reward_id])
        return partner_id, reward_id

    def upload(self, *names):
        return base64.b64encode(("Account ID\n" + "\n".join(names) + "\n").encode()).decode()

    def read(self, model, record_id, fields):
        return self.admin.call(model, "read", [record_id], fields, load="")[0]
