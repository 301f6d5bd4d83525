import { registry } from "@web/core/registry";
import { openAccounting } from "./recon_tour_steps";

/**
 * The addon in French (recon_addon/i18n/fr.po loaded, the user's language
 * French): a chief accountant opens Configuration > Automatisations des
 * déductions, reads the form of a new below-threshold rule in French (a
 * field label, the recommendation written in Python, the chart rendered
 * by QWeb), saves the rule and enables it without a promotion: the
 * refusal comes in French. Menu, labels and messages are found by their
 * French words.
 */
registry.category("web_tour.tours").add("recon_french_tour", {
    url: "/web",
    steps: () => [
        ...openAccounting(),
        {
            content: "Open Configuration",
            trigger: '.o_menu_sections [data-menu-xmlid="account.menu_finance_configuration"]',
            run: "click",
        },
        {
            content: "The menu item is in French: open it",
            trigger:
                '.dropdown-item[data-menu-xmlid="recon_addon.recon_menu_config_deduction_automations"]:contains("Automatisations des déductions")',
            run: "click",
        },
        {
            content: "The window's name is in French",
            trigger: '.o_breadcrumb .active:contains("Automatisations des déductions")',
        },
        {
            content: "So is the help of the empty list",
            trigger: '.o_view_nocontent:contains("Créer une règle sous le seuil")',
        },
        {
            content: "Create a rule",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "The threshold's label is in French",
            trigger: '.o_form_label:contains("Seuil recommandé")',
        },
        {
            content: "Name the rule",
            trigger: '.o_field_widget[name="name"] input',
            run: "edit Petites déductions vers la promotion du mois",
        },
        {
            content: "The recommendation, written in Python, is in French",
            trigger:
                '.o_field_widget[name="recommendation_note"]:contains("Moins de 3 mois de déductions")',
        },
        {
            content: "The chart, rendered by QWeb, is in French",
            trigger: '.o_field_widget[name="amount_chart"]:contains("Aucune déduction depuis le")',
        },
        {
            content: "The clearing method's choices are in French",
            trigger: '.o_field_widget[name="clearing_method"]:contains("Solder sur une promotion")',
        },
        {
            content: "Save the rule",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: the rule is disabled, in French",
            trigger:
                '.o_form_saved .o_statusbar_status button[data-value="disabled"].o_arrow_button_current:contains("Désactivée")',
        },
        {
            content: "Enable it, by its French button",
            trigger: 'button[name="action_enable"]:contains("Activer")',
            run: "click",
        },
        {
            content: "Refused, in French: the rule has no promotion",
            trigger:
                '.modal .modal-body:contains("solde sur des promotions : ajoutez au moins une promotion Sous le seuil active.")',
        },
        {
            content: "Close the message",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The rule is still disabled",
            trigger:
                'body:not(:has(.modal)) .o_statusbar_status button[data-value="disabled"].o_arrow_button_current',
        },
    ],
});
