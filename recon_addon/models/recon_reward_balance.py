from odoo import fields, models, tools
from odoo.tools import SQL


class ReconRewardBalance(models.Model):
    """Owed balance of each payee in each company (read-only, a database view).

    One row per (payee, company) with confirmed rewards. Amounts are in the
    company's currency, each reward converted at its own date (the converted
    amount is stored on the reward), so the balance never depends on today's
    rates and is always in step with the rewards.
    """

    _name = "recon.reward.balance"
    _description = "Recoverable Balance"
    _auto = False
    _order = "balance desc, partner_id"
    _rec_name = "partner_id"
    _depends = {
        "recon.reward": ["partner_id", "company_id", "amount_company", "recoverable", "state", "date"],
        "res.users": ["partner_id"],
        "res.company": ["currency_id"],
    }

    partner_id = fields.Many2one("res.partner", string="Payee", readonly=True)
    user_id = fields.Many2one("res.users", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    balance = fields.Monetary(string="Owed Balance", currency_field="currency_id", readonly=True)
    advanced = fields.Monetary(currency_field="currency_id", readonly=True,
                               help="All advances and draws, recoverable or not.")
    repaid = fields.Monetary(currency_field="currency_id", readonly=True)
    forgiven = fields.Monetary(currency_field="currency_id", readonly=True,
                               help="Net amount of the rewards that are no longer recoverable.")
    reward_count = fields.Integer(string="Rewards", readonly=True)
    last_date = fields.Date(string="Last Reward", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL(
            """
            CREATE OR REPLACE VIEW %(table)s AS (
                SELECT MIN(r.id) AS id,
                       r.partner_id,
                       (SELECT MIN(u.id) FROM res_users u WHERE u.partner_id = r.partner_id) AS user_id,
                       r.company_id,
                       c.currency_id,
                       COALESCE(SUM(r.amount_company) FILTER (WHERE r.recoverable), 0) AS balance,
                       COALESCE(SUM(r.amount_company) FILTER (WHERE r.amount_company > 0), 0) AS advanced,
                       COALESCE(-SUM(r.amount_company) FILTER (WHERE r.amount_company < 0), 0) AS repaid,
                       COALESCE(SUM(r.amount_company) FILTER (WHERE NOT r.recoverable), 0) AS forgiven,
                       COUNT(*) AS reward_count,
                       MAX(r.date) AS last_date
                  FROM recon_reward r
                  JOIN res_company c ON c.id = r.company_id
                 WHERE r.state = 'confirmed'
              GROUP BY r.partner_id, r.company_id, c.currency_id
            )
            """,
            table=SQL.identifier(self._table),
        ))

    def action_clear_recoverable_balance(self):
        """Clear the selected payees' balances, each in its own company."""
        return self.env["recon.reward.clear.wizard"]._action_open(
            [(balance.partner_id, balance.company_id) for balance in self]
        )

    def action_view_rewards(self):
        self.ensure_one()
        return self.partner_id.with_company(self.company_id).action_view_recon_rewards()
