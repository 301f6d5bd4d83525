import { registry } from "@web/core/registry";
import { openAccounting, openMenu } from "./recon_tour_steps";

/**
 * A collections manager finds a bulk write-off done with the wrong file in
 * Collections > Write-off Batches, undoes it with a reason, and sees the
 * batch undone: the Undo button is gone and the chatter says why.
 */
registry.category("web_tour.tours").add("recon_write_off_undo_tour", {
    url: "/web",
    steps: () => [
        ...openAccounting(),
        ...openMenu(
            ["Collections", "recon_addon.recon_menu_collections"],
            ["Write-off Batches", "recon_addon.recon_menu_write_off_batches"]
        ),
        {
            content: "Open the batch of the wrong file",
            trigger: '.o_list_view .o_data_row td[name="filename"]:contains("wrong_accounts.csv")',
            run: "click",
        },
        {
            content: "The batch wrote off two accounts",
            trigger: '.o_form_view button[name="action_open_write_offs"] .o_stat_value:contains(/^\\s*2\\s*$/)',
        },
        {
            content: "Undo it",
            trigger: '.o_form_view .o_statusbar_buttons button[name="action_undo"]',
            run: "click",
        },
        {
            content: "Say why",
            trigger: '.modal .o_field_widget[name="reason"] textarea',
            run: "edit Wrong file uploaded",
        },
        {
            content: "Confirm the undo",
            trigger: '.modal .modal-footer button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "The batch cannot be undone again",
            trigger: 'body:not(:has(.modal)) .o_form_view .o_form_statusbar:not(:has(button[name="action_undo"])) .o_statusbar_status',
        },
        {
            content: "The chatter says it was undone, and why",
            trigger: '.o-mail-Chatter .o-mail-Message-body:contains("Wrong file uploaded")',
        },
    ],
});
