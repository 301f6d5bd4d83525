def post_init_hook(env):
    """Give every company that already has a chart of accounts the addon's
    defaults (journal, accounts, days to default), so nothing has to be
    configured before first use. Companies that get a chart later receive
    them when the chart is loaded (see ``account.chart.template``)."""
    env["res.company"].search([("chart_template", "!=", False)])._recon_setup_defaults()
