from odoo import fields, models


class ReconCollectionStatus(models.Model):
    """Where a customer invoice ("account") stands in collections.

    Statuses are shared by all companies: they are a vocabulary, not data of
    a company. Rules exclude accounts by status and set one when an
    adjustment brings a balance to zero. An account in a status marked as a
    repossession may be written off before it reaches default.
    """

    _name = "recon.collection.status"
    _description = "Collection Status"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Stable code used by rules and integrations.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    is_repossession = fields.Boolean(
        string="Repossession",
        help="The goods of accounts in this status were repossessed: they may be written off "
        "whatever their days past due, before they reach default.",
    )

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "The code of a collection status must be unique."),
    ]
