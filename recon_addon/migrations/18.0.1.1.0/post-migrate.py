"""18.0.1.1.0: the period key of an adjustment applied unlimited times is the
period of its rule's schedule (ISO week, month, year), no longer its date."""
from odoo import SUPERUSER_ID, api

#: the stored values this migration rewrites on purpose (make upgrade-test
#: accepts their change)
REWRITES = ["recon.adjustment.period_key"]


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["recon.adjustment"]._migrate_period_keys()
