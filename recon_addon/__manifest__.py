{
    "name": "Receivables Reconciliation",
    "summary": "Settle small, stuck and uncollectable receivable balances "
    "with posted, reconciled journal entries",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "license": "LGPL-3",
    "author": "recon_addon",
    "depends": ["account", "mail"],
    "data": [
        "security/groups.xml",
        "security/ir.model.access.csv",
        "security/ir_rules.xml",
        "data/recon_collection_status_data.xml",
        "views/recon_collection_status_views.xml",
        "views/account_move_views.xml",
        "views/res_config_settings_views.xml",
        "data/ir_cron_data.xml",
        "views/recon_adjustment_rule_views.xml",
        "views/recon_adjustment_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/recon_adjustment_demo.xml",
    ],
    "post_init_hook": "post_init_hook",
    "installable": True,
    "application": False,
}
