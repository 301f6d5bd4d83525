"""Records that stand for posted entries, written and deleted over XML-RPC
by a Reconciliation User and a Manager: every attempt is refused and the
ledger's figures stay as they were."""
import xmlrpc.client

import pytest

from conftest import XmlRpc


def _resolution_line(world):
    deduction_id = world.deduction()
    [line_id] = world.admin.call("recon.deduction", "resolve", [deduction_id], "write_off", 10.0,
                                 fund_type_id=world.fund_type_id, reason_id=world.reason_id)
    return "recon.deduction.line", line_id, [
        {"amount": 1.0}, {"account_id": world.expense_account_id}, {"move_id": False},
        {"kind": "manual"}, {"fund_type_id": False}]


def _deduction(world):
    return "recon.deduction", world.deduction(), [
        {"voided": True}, {"state": "void"}, {"receivable_line_id": False}, {"amount": 5.0}]


def _transaction(world):
    deduction_id = world.deduction()
    transaction_id = world.read("recon.deduction", deduction_id, ["transaction_id"])["transaction_id"]
    return "recon.deduction.transaction", transaction_id, [
        {"state": "draft"}, {"move_id": False}, {"original_amount": 1.0}]


def _write_off(world):
    invoice_id = world.invoice(50.0, days_ago=200)
    world.admin.call("account.move", "action_write_off", [invoice_id], reason=world.reason_id)
    [write_off_id] = world.admin.call("recon.write.off", "search", [("invoice_id", "=", invoice_id)])
    return "recon.write.off", write_off_id, [
        {"amount": 1.0}, {"account_id": world.expense_account_id}, {"move_id": False}, {"state": "cancelled"}]


def _run_line(world):
    action = world.admin.call("account.move", "action_run_below_threshold", [world.short_paid_invoice(11.0)])
    [line_id] = world.read("recon.threshold.run", action["res_id"], ["line_ids"])["line_ids"]
    return "recon.threshold.run.line", line_id, [
        {"amount": 1.0}, {"result": "refused"}, {"move_id": False}, {"account_id": world.expense_account_id}]


def _adjustment(world):
    invoice_id = world.invoice(80.0, days_ago=40)
    rule_id = world.admin.call("recon.adjustment.rule", "create", {
        "name": f"RPC fee on one account {world.tag}", "frequency": "monthly", "month_day": 1,
        "apply_limit": "unlimited", "product_id": world.product_id, "adjustment_type": "flat", "value": 5.0,
        "domain": f"[('id', '=', {invoice_id})]", "company_id": world.company_id, "state": "enabled"})
    world.admin.call("recon.adjustment.rule", "action_run_now", [rule_id])
    world.admin.call("recon.adjustment.rule", "action_disable", [rule_id])
    [adjustment_id] = world.admin.call("recon.adjustment", "search", [("rule_id", "=", rule_id)])
    return "recon.adjustment", adjustment_id, [
        {"amount": 1.0}, {"move_id": False}, {"invoice_id": world.invoice(3.0)}, {"period_key": "again"}]


def _clearing(world):
    partner_id, reward_id = world.payee(25.0)
    action = world.admin.call("res.partner", "action_clear_recoverable_balance", [partner_id])
    world.admin.call("recon.reward.clear.wizard", "write", [action["res_id"]],
                     {"reason_id": world.ref("recon_addon.recon_reason_uncollectible")})
    world.admin.call("recon.reward.clear.wizard", "action_confirm", [action["res_id"]])
    clearing_id = world.read("recon.reward", reward_id, ["clearing_id"])["clearing_id"]
    return "recon.reward.clearing", clearing_id, [{"amount": 1.0}, {"move_id": False}, {"date": "2020-01-01"}]


def _reward(world):
    __, reward_id = world.payee(15.0)
    return "recon.reward", reward_id, [{"amount": 1.0}, {"state": "draft"}, {"recoverable": False}]


MAKERS = [_resolution_line, _deduction, _transaction, _write_off, _run_line, _adjustment, _clearing, _reward]


@pytest.mark.parametrize("role", ["recon_user", "recon_manager"])
@pytest.mark.parametrize("make", MAKERS, ids=[m.__name__.strip("_") for m in MAKERS])
def test_posted_record_refuses_writes_and_deletion(world, make, role):
    model, record_id, attempts = make(world)
    client = world.clients[role]
    fields = sorted({field for vals in attempts for field in vals})
    before = world.read(model, record_id, fields + ["display_name"])
    for vals in attempts:
        with pytest.raises(xmlrpc.client.Fault) as fault:
            client.call(model, "write", [record_id], vals)
        code, message = fault.value.faultCode, fault.value.faultString
        # a manager may write these models: the record itself refuses, naming itself
        assert code == XmlRpc.WARNING if role == "recon_manager" else code in (XmlRpc.WARNING, XmlRpc.ACCESS_ERROR)
        if code == XmlRpc.WARNING:
            assert before["display_name"] in message, message
    with pytest.raises(xmlrpc.client.Fault) as fault:
        client.call(model, "unlink", [record_id])
    assert fault.value.faultCode in (XmlRpc.WARNING, XmlRpc.ACCESS_ERROR)
    assert world.read(model, record_id, fields + ["display_name"]) == before
