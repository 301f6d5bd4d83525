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
        "views/recon_reward_views.xml",
        "views/res_partner_views.xml",
        "wizards/recon_reward_clear_views.xml",
        "data/recon_write_off_data.xml",
        "views/recon_write_off_views.xml",
        "wizards/bulk_write_off_views.xml",
        "views/menus.xml",
    ],
    "demo": [
        "demo/recon_rewards_demo.xml",
        "demo/recon_write_off_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "recon_addon/static/tests/tours/**/*",
        ],
    },
    "post_init_hook": "post_init_hook",
    "installable": True,
    "application": False,
}
