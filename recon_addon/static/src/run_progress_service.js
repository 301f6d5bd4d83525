import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

/** The bus notification a run sends its user after each chunk it commits. */
export const RUN_PROGRESS = "recon_addon.run_progress";

/**
 * When a run that continued in the background is done, its user gets its
 * summary in a notification that opens the run.
 */
export const reconRunProgressService = {
    dependencies: ["action", "bus_service", "notification"],
    start(env, { action, bus_service, notification }) {
        bus_service.subscribe(RUN_PROGRESS, ({ model, id, notification: params }) => {
            if (!params) {
                return;
            }
            const close = notification.add(params.message, {
                title: params.title,
                type: params.type,
                sticky: params.sticky,
                buttons: [
                    {
                        name: _t("Open Summary"),
                        primary: true,
                        onClick: () => {
                            close();
                            action.doAction({
                                type: "ir.actions.act_window",
                                res_model: model,
                                res_id: id,
                                views: [[false, "form"]],
                                target: "current",
                            });
                        },
                    },
                ],
            });
        });
        bus_service.start();
    },
};

registry.category("services").add("recon_run_progress", reconRunProgressService);
