import { registry } from "@web/core/registry";
import { openAccounting, openMenu } from "./recon_tour_steps";

/**
 * A chief accountant creates an auto-adjustment rule (Configuration > Auto
 * Adjustment Rules): a flat 25 late fee each month on accounts at least 30
 * days overdue, disputed accounts excluded; saves it and previews which
 * accounts it would adjust today. Nothing is posted.
 */
registry.category("web_tour.tours").add("recon_adjustments_tour", {
    url: "/web",
    steps: () => [
        ...openAccounting(),
        ...openMenu(
            ["Configuration", "account.menu_finance_configuration"],
            ["Auto Adjustment Rules", "recon_addon.recon_menu_config_adjustment_rules"]
        ),
        {
            content: "Create a rule",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Describe the rule",
            trigger: '.o_field_widget[name="name"] input',
            run: "edit Late fee on overdue accounts",
        },
        {
            content: "It runs monthly",
            trigger: '.o_field_widget[name="frequency"] select',
            run: 'select "monthly"',
        },
        {
            content: "On the first of the month",
            trigger: '.o_field_widget[name="month_day"] input',
            run: "edit 1",
        },
        {
            content: "Look for the Late fee line item code",
            trigger: '.o_field_widget[name="product_id"] input',
            run: "edit Late fee",
        },
        {
            content: "Choose it",
            trigger: '.o_field_widget[name="product_id"] .o-autocomplete--dropdown-item a:contains("Late fee")',
            run: "click",
        },
        {
            content: "A flat fee",
            trigger: '.o_field_widget[name="adjustment_type"] select',
            run: 'select "flat"',
        },
        {
            content: "Of 25",
            trigger: '.o_field_widget[name="value"] input',
            run: "edit 25",
        },
        {
            content: "Look for the Disputed status",
            trigger: '.o_field_widget[name="excluded_status_ids"] input',
            run: "edit Disputed",
        },
        {
            content: "Exclude disputed accounts",
            trigger: '.o_field_widget[name="excluded_status_ids"] .o-autocomplete--dropdown-item a:contains("Disputed")',
            run: "click",
        },
        {
            content: "Disputed accounts are excluded",
            trigger: '.o_field_widget[name="excluded_status_ids"] .o_tag:contains("Disputed")',
        },
        {
            content: "Only accounts at least 30 days overdue",
            trigger: '.o_field_widget[name="min_days_overdue"] input',
            run: "edit 30",
        },
        {
            content: "Save the rule",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: the rule is disabled",
            trigger: '.o_form_saved .o_statusbar_status button[data-value="disabled"].o_arrow_button_current',
        },
        {
            content: "Preview the rule",
            trigger: 'button[name="action_preview"]',
            run: "click",
        },
        {
            content: "The preview says nothing is posted",
            trigger: '.modal .alert-info:contains("Nothing is posted")',
        },
        {
            content: "Three open accounts examined",
            trigger: '.modal .o_field_widget[name="examined_count"]:contains(/^\\s*3\\s*$/)',
        },
        {
            content: "One qualifies",
            trigger: '.modal .o_field_widget[name="qualifying_count"]:contains(/^\\s*1\\s*$/)',
        },
        {
            content: "One left out for its status",
            trigger: '.modal .o_field_widget[name="skipped_status_count"]:contains(/^\\s*1\\s*$/)',
        },
        {
            content: "One left out as not overdue enough",
            trigger: '.modal .o_field_widget[name="skipped_overdue_count"]:contains(/^\\s*1\\s*$/)',
        },
        {
            content: "Overdue Bakery would get a fee of 25.00",
            trigger: '.modal .o_data_row:has(td[name="partner_id"]:contains("Overdue Bakery")) td[name="amount"]:contains("25.00")',
        },
        {
            content: "Disputing Diner is left out: excluded status",
            trigger: '.modal .o_data_row:has(td[name="partner_id"]:contains("Disputing Diner")) td[name="reason"]:contains("Excluded account status")',
        },
        {
            content: "Fresh Market is left out: not overdue enough",
            trigger: '.modal .o_data_row:has(td[name="partner_id"]:contains("Fresh Market")) td[name="reason"]:contains("Not overdue enough")',
        },
        {
            content: "Close the preview",
            trigger: '.modal .modal-footer button:contains("Close")',
            run: "click",
        },
        {
            content: "Back on the rule, still disabled and never run",
            trigger: 'body:not(:has(.modal)) .o_form_view button[name="action_open_runs"] .o_stat_value:contains(/^\\s*0\\s*$/)',
        },
    ],
});
