"""18.0.1.1.0: the period key of an adjustment applied unlimited times is the
period of its rule's schedule (ISO week, month, year), no longer its date."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["recon.adjustment"]._migrate_period_keys()
