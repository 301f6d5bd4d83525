import { registry } from "@web/core/registry";
import { openAccounting, openMenu } from "./recon_tour_steps";

/**
 * A chief accountant builds the below-threshold rule (Configuration >
 * Deduction Automations): a name, the recommended threshold, this month's
 * Below Threshold promotion; saves and enables it. Then opens a broken-out
 * transaction (Deductions > Transactions), runs the rule on it, reads the
 * run summary and sees nothing left open.
 */
registry.category("web_tour.tours").add("recon_deductions_tour", {
    url: "/web",
    steps: () => [
        ...openAccounting(),
        ...openMenu(
            ["Configuration", "account.menu_finance_configuration"],
            ["Deduction Automations", "recon_addon.recon_menu_config_deduction_automations"]
        ),
        {
            content: "Create a rule",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name the rule",
            trigger: '.o_field_widget[name="name"] input',
            run: "edit Small claims to the monthly promotion",
        },
        {
            content: "Type a threshold of one's own",
            trigger: '.o_field_widget[name="threshold"] input',
            run: "edit 25",
        },
        {
            content: "The recommendation is 100 (less than 3 months of history)",
            trigger: '.o_field_widget[name="recommended_threshold"]:contains("100.00")',
        },
        {
            content: "The recommendation says why",
            trigger: '.o_field_widget[name="recommendation_note"]:contains("Less than 3 months")',
        },
        {
            content: "Use the recommended threshold",
            trigger: 'button[name="action_apply_recommended_threshold"]',
            run: "click",
        },
        {
            content: "The threshold is now the recommended one",
            trigger: '.o_field_widget[name="threshold"] input:value("100.00")',
        },
        {
            content: "Clear to a promotion",
            trigger: '.o_field_widget[name="clearing_method"] input[data-value="promotion"]',
            run: "check",
        },
        {
            content: "Look for this month's Below Threshold promotion",
            trigger: '.o_field_widget[name="promotion_ids"] input',
            run: "edit Below Threshold",
        },
        {
            content: "Choose it",
            trigger: '.o-autocomplete--dropdown-item:not(.o_m2o_dropdown_option) a:contains("Below Threshold")',
            run: "click",
        },
        {
            content: "The promotion is on the rule",
            trigger: '.o_field_widget[name="promotion_ids"] .o_tag:contains("Below Threshold")',
        },
        {
            content: "Save the rule",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: the rule is still disabled",
            trigger: '.o_form_saved .o_statusbar_status button[data-value="disabled"].o_arrow_button_current',
        },
        {
            content: "Enable it",
            trigger: 'button[name="action_enable"]',
            run: "click",
        },
        {
            content: "The rule is enabled",
            trigger: '.o_statusbar_status button[data-value="enabled"].o_arrow_button_current',
        },
        ...openMenu(
            ["Deductions", "recon_addon.recon_menu_deductions"],
            ["Transactions", "recon_addon.recon_menu_deduction_transactions"]
        ),
        {
            content: "Open the broken-out remittance CHQ-4410",
            trigger: '.o_list_view .o_data_row td[name="ref"]:contains("CHQ-4410")',
            run: "click",
        },
        {
            content: "75.50 of deductions are open",
            trigger: '.o_field_widget[name="open_amount"]:contains("75.50")',
        },
        {
            content: "Run the below-threshold rule on it",
            trigger: 'button[name="action_run_below_threshold"]',
            run: "click",
        },
        {
            content: "The run summary: two deductions cleared",
            trigger: '.modal .o_field_widget[name="cleared_count"]:contains(/^\\s*2\\s*$/)',
        },
        {
            content: "The run summary: 75.50 cleared",
            trigger: '.modal .o_field_widget[name="cleared_amount"]:contains("75.50")',
        },
        {
            content: "The run summary: nothing left open or refused",
            trigger: '.modal .o_field_widget[name="summary"]:contains("left open 0"):contains("refused 0")',
        },
        {
            content: "Close the summary",
            trigger: ".modal .modal-header .btn-close",
            run: "click",
        },
        {
            content: "No deduction is left open on the transaction",
            trigger: 'body:not(:has(.modal)) .o_field_widget[name="open_amount"]:contains("0.00")',
        },
        {
            content: "Both deductions are resolved",
            trigger: '.o_field_widget[name="deduction_ids"] .o_list_table:not(:has(.o_data_row td[name="state"]:not(:contains("Resolved"))))',
        },
    ],
});
