"""The access matrix of docs/security.md, walked over XML-RPC.

Each cell calls the action as that person on fresh records and checks the
ledger's answer: done when allowed; an access error and nothing changed
when not. A manager of another company sees none of this company's
records: a bulk upload naming one of its invoices reads "doesn't exist".
"""
import xmlrpc.client

import pytest

from conftest import XmlRpc

YES, NO = "yes", "no"
#: a manager of another company uploading this company's invoice number
NOT_FOUND = "doesn't exist"
#: a manager of another company clearing a payee who owes only here
NOTHING_THERE = "nothing to clear"

ROLES = ["internal", "invoicing", "recon_user", "recon_manager", "other_manager"]

#: action -> what each role gets (the table of docs/security.md)
MATRIX = {
    "run_below_threshold": [NO, NO, YES, YES, NO],
    "run_adjustment_rule": [NO, NO, NO, YES, NO],
    "set_threshold": [NO, NO, NO, YES, NO],
    "enable_disable": [NO, NO, NO, YES, NO],
    "void": [NO, NO, YES, YES, NO],
    "resolve": [NO, NO, YES, YES, NO],
    "bulk_write_off": [NO, NO, NO, YES, NOT_FOUND],
    "single_write_off": [NO, NO, NO, YES, NO],
    "clear_balance": [NO, NO, NO, YES, NOTHING_THERE],
}


def _refused(call):
    with pytest.raises(xmlrpc.client.Fault) as fault:
        call()
    assert fault.value.faultCode == XmlRpc.ACCESS_ERROR, fault.value.faultString
    return fault.value


def _residual(world, invoice_id):
    return world.read("account.move", invoice_id, ["amount_residual"])["amount_residual"]


def run_below_threshold(world, client, expected):
    invoice_id = world.short_paid_invoice(12.0)

    def call():
        return client.call("account.move", "action_run_below_threshold", [invoice_id])

    if expected == YES:
        action = call()
        assert action["res_model"] == "recon.threshold.run"
        assert _residual(world, invoice_id) == 0.0
    else:
        _refused(call)
        assert _residual(world, invoice_id) == 12.0


def run_adjustment_rule(world, client, expected):
    def call():
        return client.call("recon.adjustment.rule", "action_run_now", [world.adjustment_rule_id])

    world.admin.call("recon.adjustment.rule", "action_enable", [world.adjustment_rule_id])
    try:
        if expected == YES:
            action = call()
            assert action["res_model"] == "recon.adjustment.run"
            run = world.read("recon.adjustment.run", action["res_id"], ["state", "adjusted_count"])
            assert run == {"id": action["res_id"], "state": "done", "adjusted_count": 0}
        else:
            _refused(call)
    finally:
        world.admin.call("recon.adjustment.rule", "action_disable", [world.adjustment_rule_id])


def set_threshold(world, client, expected):
    def call():
        return client.call("recon.threshold.rule", "write", [world.rule_id], {"threshold": 90.0})

    if expected == YES:
        assert call() is True
        assert world.read("recon.threshold.rule", world.rule_id, ["threshold"])["threshold"] == 90.0
        world.admin.call("recon.threshold.rule", "write", [world.rule_id], {"threshold": 100.0})
    else:
        _refused(call)
        assert world.read("recon.threshold.rule", world.rule_id, ["threshold"])["threshold"] == 100.0


def enable_disable(world, client, expected):
    if expected == YES:
        assert client.call("recon.threshold.rule", "action_disable", [world.rule_id]) is True
        assert world.read("recon.threshold.rule", world.rule_id, ["state"])["state"] == "disabled"
        assert client.call("recon.threshold.rule", "action_enable", [world.rule_id]) is True
    else:
        _refused(lambda: client.call("recon.threshold.rule", "action_disable", [world.rule_id]))
    assert world.read("recon.threshold.rule", world.rule_id, ["state"])["state"] == "enabled"


def void(world, client, expected):
    deduction_id = world.deduction()

    def call():
        return client.call("recon.deduction", "action_void", [deduction_id])

    if expected == YES:
        assert call() is True
        deduction = world.read("recon.deduction", deduction_id, ["state", "void_move_id", "open_amount"])
        assert deduction["state"] == "void" and deduction["void_move_id"] and deduction["open_amount"] == 0.0
    else:
        _refused(call)
        assert world.read("recon.deduction", deduction_id, ["state"])["state"] == "new"


def resolve(world, client, expected):
    deduction_id = world.deduction()

    def call():
        return client.call("recon.deduction", "resolve", [deduction_id], "write_off", 30.0,
                           fund_type_id=world.fund_type_id, reason_id=world.reason_id)

    if expected == YES:
        line_ids = call()
        deduction = world.read("recon.deduction", deduction_id, ["state", "line_ids", "open_amount"])
        assert deduction["line_ids"] == line_ids and len(line_ids) == 1
        assert deduction["state"] == "resolved" and deduction["open_amount"] == 0.0
    else:
        _refused(call)
        assert world.read("recon.deduction", deduction_id, ["state"])["state"] == "new"


def bulk_write_off(world, client, expected):
    invoice_id = world.invoice(50.0, days_ago=200)
    name = world.read("account.move", invoice_id, ["name"])["name"]

    def create():
        return client.call("recon.bulk.write.off.wizard", "create", {
            "file": world.upload(name), "filename": "accounts.csv", "reason_id": world.reason_id})

    if expected == NO:
        _refused(create)
    else:
        wizard_id = create()
        action = client.call("recon.bulk.write.off.wizard", "action_preview", [wizard_id])
        assert action["res_id"] == wizard_id
        rows = client.call("recon.bulk.write.off.wizard.line", "search_read", [("wizard_id", "=", wizard_id)],
                           fields=["account_ref", "eligible", "reason", "invoice_id"])
        if expected == YES:
            assert [(r["account_ref"], r["eligible"]) for r in rows] == [(name, True)]
            action = client.call("recon.bulk.write.off.wizard", "action_confirm", [wizard_id])
            assert action["tag"] == "display_notification"
        else:  # another company's invoice: it does not exist for them, nothing is said of it
            assert [(r["account_ref"], r["eligible"], r["reason"], r["invoice_id"]) for r in rows] == [
                (name, False, "not_found", False)]
            with pytest.raises(xmlrpc.client.Fault) as fault:
                client.call("recon.bulk.write.off.wizard", "action_confirm", [wizard_id])
            assert fault.value.faultCode == XmlRpc.WARNING
    assert _residual(world, invoice_id) == (0.0 if expected == YES else 50.0)


def single_write_off(world, client, expected):
    invoice_id = world.invoice(50.0, days_ago=200)

    def call():
        return client.call("account.move", "action_write_off", [invoice_id], reason="UNCOLL")

    if expected == YES:
        assert call() is True
        assert _residual(world, invoice_id) == 0.0
    else:
        _refused(call)
        assert _residual(world, invoice_id) == 50.0


def clear_balance(world, client, expected):
    partner_id, reward_id = world.payee(40.0)

    def call():
        return client.call("res.partner", "action_clear_recoverable_balance", [partner_id])

    if expected == YES:
        action = call()
        assert action["res_model"] == "recon.reward.clear.wizard"
        client.call("recon.reward.clear.wizard", "write", [action["res_id"]],
                    {"reason_id": world.ref("recon_addon.recon_reason_uncollectible")})
        done = client.call("recon.reward.clear.wizard", "action_confirm", [action["res_id"]])
        assert done["params"]["type"] == "success"
    elif expected == NOTHING_THERE:
        action = call()
        assert action["params"]["title"] == "Nothing to clear"
    else:
        _refused(call)
    reward = world.read("recon.reward", reward_id, ["recoverable", "clearing_id"])
    assert reward["recoverable"] is (expected != YES)
    assert bool(reward["clearing_id"]) is (expected == YES)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(MATRIX))
def test_access_matrix(world, action, role):
    expected = MATRIX[action][ROLES.index(role)]
    globals()[action](world, world.clients[role], expected)


def test_matrix_is_the_documented_one():
    """docs/security.md shows the same table."""
    import pathlib

    doc = (pathlib.Path(__file__).parent.parent / "docs" / "security.md").read_text()
    section = doc.split("## Access matrix", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    table = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        table[cells[0].strip("`")] = cells[2:]
    marks = {YES: "yes", NO: "no", NOT_FOUND: "no: doesn't exist", NOTHING_THERE: "no: nothing to clear"}
    for action, answers in MATRIX.items():
        assert [cell.lower() for cell in table[action]] == [marks[a] for a in answers], action
    assert table["undo"] == ["not yet available"] * len(ROLES)


def test_another_company_sees_no_record_of_this_one(world):
    client = world.clients["other_manager"]
    deduction_id = world.deduction()
    invoice_id = world.invoice(5.0)
    for model, record_id in (("recon.deduction", deduction_id), ("account.move", invoice_id),
                             ("recon.threshold.rule", world.rule_id)):
        assert client.call(model, "search", [("id", "=", record_id)]) == []
        _refused(lambda model=model, record_id=record_id: client.call(model, "read", [record_id], ["display_name"]))
