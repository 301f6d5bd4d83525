/**
 * Steps the tours share: the way an accountant reaches a page, by the menus.
 */

/** Open Accounting from the apps menu. */
export function openAccounting() {
    return [
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
    ];
}

/**
 * Open a menu of the top bar, then one of its items; each is given as
 * `[label, menu xmlid]`.
 */
export function openMenu([sectionLabel, section], [itemLabel, item]) {
    return [
        {
            content: `Open ${sectionLabel}`,
            trigger: `.o_menu_sections [data-menu-xmlid="${section}"]`,
            run: "click",
        },
        {
            content: `Open ${itemLabel}`,
            trigger: `.dropdown-item[data-menu-xmlid="${item}"]`,
            run: "click",
        },
    ];
}
