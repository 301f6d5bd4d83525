import { registry } from "@web/core/registry";
import { openAccounting, openMenu } from "./recon_tour_steps";

/**
 * A payroll manager opens a payee who owes advances back (from one of the
 * payee's rewards), clears the balance from the contact's Rewards tab after
 * reading the amount in the confirmation, and sees the balance at zero with
 * the rewards still listed.
 */
registry.category("web_tour.tours").add("recon_rewards_tour", {
    url: "/web",
    steps: () => [
        ...openAccounting(),
        ...openMenu(
            ["Rewards", "recon_addon.recon_menu_rewards"],
            ["Recoverable Balances", "recon_addon.recon_menu_reward_balances"]
        ),
        {
            content: "Northern Rep owes 1,200.00",
            trigger: '.o_list_view .o_data_row:has(td[name="partner_id"]:contains("Northern Rep")) td[name="balance"]:contains("1,200.00")',
        },
        ...openMenu(
            ["Rewards", "recon_addon.recon_menu_rewards"],
            ["the rewards list", "recon_addon.recon_menu_reward_rewards"]
        ),
        {
            content: "Open Northern Rep's January draw",
            trigger: '.o_list_view .o_data_row td[name="name"]:contains("January draw")',
            run: "click",
        },
        {
            content: "Open the payee",
            trigger: '.o_form_view .o_field_widget[name="partner_id"] a:contains("Northern Rep")',
            run: "click",
        },
        {
            content: "The contact shows what the payee owes",
            trigger: '.o_form_view button[name="action_view_recon_rewards"] .o_stat_value:contains("1,200.00")',
        },
        {
            content: "Open the Rewards tab",
            trigger: '.o_notebook .nav-link[name="recon_rewards"]',
            run: "click",
        },
        {
            content: "Clear the balance",
            trigger: '.o_notebook button[name="action_clear_recoverable_balance"]',
            run: "click",
        },
        {
            content: "The confirmation names the payee and the amount",
            trigger: '.modal .o_field_widget[name="summary"]:contains("Northern Rep"):contains("1,200.00")',
        },
        {
            content: "One payee to clear, for 1,200.00",
            trigger: '.modal .o_data_row:has(td[name="partner_id"]:contains("Northern Rep")) td[name="balance"]:contains("1,200.00")',
        },
        {
            content: "Choose the reason",
            trigger: '.modal .o_field_widget[name="reason_id"] input',
            run: "edit Uncollectible",
        },
        {
            content: "Uncollectible",
            trigger: '.o-autocomplete--dropdown-item:contains("Uncollectible")',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: '.modal button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "The balance was forgiven",
            trigger: '.o_notification:contains("The owed balance of Northern Rep was forgiven")',
        },
        {
            content: "The contact owes nothing any more",
            trigger: 'body:not(:has(.modal)) .o_notebook .o_field_widget[name="recoverable_balance"]:contains("0.00"):not(:contains("1,200"))',
        },
        {
            content: "See the payee's rewards",
            trigger: '.o_notebook button[name="action_view_recon_rewards"]',
            run: "click",
        },
        {
            content: "No recoverable reward is left",
            trigger: 'body:has(.o_searchview_facet:contains("Recoverable")) .o_list_view .o_view_nocontent',
        },
        {
            content: "Show all the payee's rewards, not only recoverable ones",
            trigger: '.o_searchview_facet:contains("Recoverable") .o_facet_remove',
            run: "click",
        },
        {
            content: "The three rewards are still listed",
            trigger: '.o_list_view:has(td[name="name"]:contains("January draw")):has(td[name="name"]:contains("February draw")) td[name="name"]:contains("March repayment")',
        },
        {
            content: "None of them counts as recoverable any more",
            trigger: '.o_list_view:not(:has(td[name="recoverable"] input:checked)) .o_data_row',
        },
    ],
});
