import { registry } from "@web/core/registry";
import { openAccounting, openMenu } from "./recon_tour_steps";

/** The file a collections manager uploads: two accounts in default, one
 * too recent, one cancelled, one that does not exist. */
const ACCOUNTS_CSV = [
    "Account ID;Customer;Note",
    "ARCH/00001;Harbour Foods Ltd;no contact since spring",
    "ARCH/00002;Mill Street Grocers;",
    "ARCH/00003;Corner Deli;too recent",
    "ARCH/00004;Corner Deli;cancelled",
    "ARCH/09999;Unknown;no such account",
].join("\n");

/**
 * A collections manager opens Collections > Bulk Write-off, uploads the
 * list of accounts, reads the preview (what can be written off and why the
 * others cannot), confirms, and reads the batch's failure list.
 */
registry.category("web_tour.tours").add("recon_bulk_write_off_tour", {
    url: "/web",
    steps: () => [
        ...openAccounting(),
        ...openMenu(
            ["Collections", "recon_addon.recon_menu_collections"],
            ["Bulk Write-off", "recon_addon.recon_menu_bulk_write_off"]
        ),
        {
            content: "Upload the list of accounts",
            trigger: '.modal .o_field_widget[name="file"] .o_select_file_button',
            async run() {
                const input = this.anchor
                    .closest(".o_field_widget")
                    .querySelector('input[type="file"]');
                const file = new File([ACCOUNTS_CSV], "defaulted_accounts.csv", { type: "text/csv" });
                const transfer = new DataTransfer();
                transfer.items.add(file);
                input.files = transfer.files;
                input.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "The file is attached",
            trigger: '.modal .o_field_widget[name="file"] input.o_input:value("defaulted_accounts.csv")',
        },
        {
            content: "Choose the reason of the batch",
            trigger: '.modal .o_field_widget[name="reason_id"] input',
            run: "edit Uncollectible",
        },
        {
            content: "Uncollectible",
            trigger: '.o-autocomplete--dropdown-item:contains("Uncollectible")',
            run: "click",
        },
        {
            content: "Preview it",
            trigger: '.modal button[name="action_preview"]',
            run: "click",
        },
        {
            content: "Five accounts listed",
            trigger: '.modal .o_field_widget[name="count_listed"]:contains(/^\\s*5\\s*$/)',
        },
        {
            content: "Two can be written off",
            trigger: '.modal .o_field_widget[name="count_eligible"]:contains(/^\\s*2\\s*$/)',
        },
        {
            content: "Three cannot",
            trigger: '.modal .o_field_widget[name="count_ineligible"]:contains(/^\\s*3\\s*$/)',
        },
        {
            content: "1,730.50 to write off",
            trigger: '.modal .o_field_widget[name="amount_eligible"]:contains("1,730.50")',
        },
        {
            content: "ARCH/00001 of Harbour Foods Ltd can be written off",
            trigger: '.modal .o_data_row:has(td[name="account_ref"]:contains("ARCH/00001")) td[name="partner_id"]:contains("Harbour Foods Ltd")',
        },
        {
            content: "ARCH/00002 is open for 480.50",
            trigger: '.modal .o_data_row:has(td[name="account_ref"]:contains("ARCH/00002")) td[name="open_amount"]:contains("480.50")',
        },
        {
            content: "ARCH/00003 is not in default",
            trigger: '.modal .o_data_row:has(td[name="account_ref"]:contains("ARCH/00003")) td[name="reason"]:contains("Account is not in default")',
        },
        {
            content: "ARCH/00004 is already terminated",
            trigger: '.modal .o_data_row:has(td[name="account_ref"]:contains("ARCH/00004")) td[name="reason"]:contains("Account has already been terminated")',
        },
        {
            content: "ARCH/09999 does not exist",
            trigger: '.modal .o_data_row:has(td[name="account_ref"]:contains("ARCH/09999")) td[name="reason"]:contains("Account ID doesn\'t exist")',
        },
        {
            content: "Write off the eligible accounts",
            trigger: '.modal button[name="action_confirm"]',
            run: "click",
        },
        {
            content: "Confirm",
            trigger: '.modal:contains("Post a write-off entry for every eligible account") .modal-footer .btn-primary',
            run: "click",
        },
        {
            content: "The batch is done",
            trigger: 'body:not(:has(.modal)) .o_form_view .o_statusbar_status button[data-value="done"].o_arrow_button_current',
        },
        {
            content: "Two accounts written off",
            trigger: '.o_form_view button[name="action_open_write_offs"] .o_stat_value:contains(/^\\s*2\\s*$/)',
        },
        {
            content: "For 1,730.50",
            trigger: '.o_form_view .o_field_widget[name="amount_total"]:contains("1,730.50")',
        },
        {
            content: "Three accounts not written off",
            trigger: '.o_form_view .o_field_widget[name="count_failed"]:contains(/^\\s*3\\s*$/)',
        },
        {
            content: "Open the failure list",
            trigger: '.o_notebook .nav-link[name="failures"]',
            run: "click",
        },
        {
            content: "ARCH/00003: not in default",
            trigger: '.o_field_widget[name="failure_ids"] .o_data_row:has(td[name="account_ref"]:contains("ARCH/00003")) td[name="reason"]:contains("Account is not in default")',
        },
        {
            content: "ARCH/00004: already terminated",
            trigger: '.o_field_widget[name="failure_ids"] .o_data_row:has(td[name="account_ref"]:contains("ARCH/00004")) td[name="reason"]:contains("Account has already been terminated")',
        },
        {
            content: "ARCH/09999: does not exist",
            trigger: '.o_field_widget[name="failure_ids"] .o_data_row:has(td[name="account_ref"]:contains("ARCH/09999")) td[name="reason"]:contains("Account ID doesn\'t exist")',
        },
        {
            content: "The failure list can be downloaded",
            trigger: 'button[name="action_download_failures"]',
        },
    ],
});
