import { registry } from "@web/core/registry";
import { openAccounting, openMenu } from "./recon_tour_steps";

/**
 * An accountant finds the addon in Accounting: the collection statuses in
 * Configuration > Reconciliation, then Collections > Accounts with the
 * posted invoices grouped by collection status.
 */
registry.category("web_tour.tours").add("recon_foundation_tour", {
    url: "/web",
    steps: () => [
        ...openAccounting(),
        ...openMenu(
            ["Configuration", "account.menu_finance_configuration"],
            ["Collection Statuses", "recon_addon.recon_menu_config_collection_status"]
        ),
        {
            content: "The default statuses are listed",
            trigger: '.o_list_view .o_data_row td[name="name"]:contains("Payment plan")',
        },
        ...openMenu(
            ["Collections", "recon_addon.recon_menu_collections"],
            ["Accounts", "recon_addon.recon_menu_collection_accounts"]
        ),
        {
            content: "Posted invoices are grouped by collection status, starting Active",
            trigger: '.o_list_view .o_group_name:contains("Active")',
        },
    ],
});
