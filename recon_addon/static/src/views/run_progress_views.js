import { onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { FormController } from "@web/views/form/form_controller";
import { formView } from "@web/views/form/form_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";
import { RUN_PROGRESS } from "../run_progress_service";

/**
 * Call ``onProgress(payload)`` for each progress notification of a run
 * (``{model, id, state, progress, done}``) while the component is on screen.
 */
export function useRunProgress(onProgress) {
    const busService = useService("bus_service");
    const callback = (payload) => onProgress(payload);
    onMounted(() => busService.subscribe(RUN_PROGRESS, callback));
    onWillUnmount(() => busService.unsubscribe(RUN_PROGRESS, callback));
}

/** A run's form reloads when the run reports progress: its bar moves by itself. */
export class ReconRunFormController extends FormController {
    setup() {
        super.setup();
        useRunProgress(({ model, id }) => {
            const record = this.model.root;
            if (model === this.props.resModel && id === record.resId && !record.dirty) {
                record.load();
            }
        });
    }
}

/** A list of runs reloads when one of its runs reports progress. */
export class ReconRunListController extends ListController {
    setup() {
        super.setup();
        useRunProgress(({ model, id }) => {
            const root = this.model.root;
            const shown = root.isGrouped || root.records.some((r) => r.resId === id);
            if (model === this.props.resModel && !root.editedRecord && shown) {
                this.model.load();
            }
        });
    }
}

registry.category("views").add("recon_run_form", { ...formView, Controller: ReconRunFormController });
registry.category("views").add("recon_run_list", { ...listView, Controller: ReconRunListController });
