import { registry } from "@web/core/registry";

/**
 * An accountant finds the addon in Accounting: the collection statuses in
 * Configuration > Reconciliation, then Collections > Accounts with the
 * posted invoices grouped by collection status.
 */
registry.category("web_tour.tours").add("recon_foundation_tour", {
    url: "/web",
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open Accounting",
            trigger: '.o_app[data-menu-xmlid="account.menu_finance"]',
            run: "click",
        },
        {
            content: "Open Configuration",
            trigger: '.o_menu_sections [data-menu-xmlid="account.menu_finance_configuration"]',
            run: "click",
        },
        {
            content: "Open Collection Statuses",
            trigger: '.dropdown-item[data-menu-xmlid="recon_addon.recon_menu_config_collection_status"]',
            run: "click",
        },
        {
            content: "The default statuses are listed",
            trigger: '.o_list_view .o_data_row td[name="name"]:contains("Payment plan")',
        },
        {
            content: "Open Collections",
            trigger: '.o_menu_sections [data-menu-xmlid="recon_addon.recon_menu_collections"]',
            run: "click",
        },
        {
            content: "Open Accounts",
            trigger: '.dropdown-item[data-menu-xmlid="recon_addon.recon_menu_collection_accounts"]',
            run: "click",
        },
        {
            content: "Posted invoices are grouped by collection status, starting Active",
            trigger: '.o_list_view .o_group_name:contains("Active")',
        },
    ],
});
