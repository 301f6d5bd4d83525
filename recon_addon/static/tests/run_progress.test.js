import { click, contains, defineMailModels, openView, start, startServer } from "@mail/../tests/mail_test_helpers";
import { describe, expect, test } from "@odoo/hoot";
import { defineModels, fields, models, patchWithCleanup, serverState } from "@web/../tests/web_test_helpers";

class ReconThresholdRun extends models.Model {
    _name = "recon.threshold.run";

    name = fields.Char();
    state = fields.Selection({ selection: [["running", "Running"], ["done", "Done"]] });
    progress = fields.Float();

    _records = [
        { id: 1, name: "Below 100, run 1", state: "running", progress: 40 },
    ];
}
const FORM = `
    <form js_class="recon_run_form">
        <field name="state"/>
        <field name="progress" widget="progressbar"/>
    </form>`;
const LIST = `
    <list js_class="recon_run_list">
        <field name="name"/>
        <field name="progress" widget="progressbar"/>
    </list>`;

describe.current.tags("desktop");
defineMailModels();
defineModels([ReconThresholdRun]);

const PROGRESS = "recon_addon.run_progress";

test("a run's form follows its progress and opens from the done notification", async () => {
    const pyEnv = await startServer();
    const env = await start();
    await openView({ res_model: "recon.threshold.run", res_id: 1, views: [[false, "form"]], arch: FORM });
    await contains(".o_field_widget[name=progress] .o_progress[aria-valuenow='40']");

    // this run is done: the form reloads and the user gets its summary
    pyEnv["recon.threshold.run"].write([1], { state: "done", progress: 100 });
    pyEnv["bus.bus"]._sendone(serverState.partnerId, PROGRESS, {
        model: "recon.threshold.run", id: 1, state: "done", progress: 100, done: true,
        notification: { type: "success", title: "Below-threshold run done", message: "Cleared 10", sticky: false },
    });
    await contains(".o_field_widget[name=progress] .o_progress[aria-valuenow='100']");
    await contains(".o_notification", { text: "Cleared 10" });

    const opened = [];
    patchWithCleanup(env.services.action, {
        doAction(action) {
            opened.push([action.res_model, action.res_id]);
        },
    });
    await click(".o_notification_buttons button", { text: "Open Summary" });
    await contains(".o_notification", { count: 0 });
    expect(opened).toEqual([["recon.threshold.run", 1]]);
});

test("a list of runs reloads when one of them reports progress", async () => {
    const pyEnv = await startServer();
    await start();
    await openView({ res_model: "recon.threshold.run", views: [[false, "list"]], arch: LIST });
    await contains(".o_data_row:eq(0) .o_field_widget[name=progress] .o_progress[aria-valuenow='40']");
    pyEnv["recon.threshold.run"].write([1], { progress: 80 });
    pyEnv["bus.bus"]._sendone(serverState.partnerId, PROGRESS, {
        model: "recon.threshold.run", id: 1, state: "running", progress: 80, done: false,
    });
    await contains(".o_data_row:eq(0) .o_field_widget[name=progress] .o_progress[aria-valuenow='80']");
    await contains(".o_notification", { count: 0 });
});
