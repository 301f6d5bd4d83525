"""18.0.1.2.0: one scheduled action continues every kind of background run
(``ir_cron_recon_runs``) and the nightly auto adjustments only start the
runs due (``ir_cron_recon_adjustment_due_runs``); the three scheduled
actions they replace are removed (loaded as ``noupdate`` data, an update
would keep them)."""
from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

REMOVED = [
    "recon_addon.ir_cron_recon_threshold_runs",
    "recon_addon.ir_cron_recon_write_off_batches",
    "recon_addon.ir_cron_recon_adjustments",
]


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid in REMOVED:
        cron = env.ref(xmlid, raise_if_not_found=False)
        if cron:
            cron.unlink()
    # runs open before the update are served in the order they were created
    for model in ("recon.threshold.run", "recon.adjustment.run", "recon.write.off.batch"):
        cr.execute(SQL("UPDATE %s SET waiting_since = create_date WHERE waiting_since IS NULL",
                       SQL.identifier(env[model]._table)))
