"""The addon as a web client or an integration sees it, over JSON-RPC."""
import pytest

from conftest import RpcError


def test_manager_sees_the_addon_menus(admin):
    menus = admin.call_kw("ir.ui.menu", "load_menus", [False])
    names = {menu["name"] for menu in menus.values() if isinstance(menu, dict)}
    assert {"Deductions", "Collections", "Rewards", "Reconciliation", "Collection Statuses"} <= names


def test_settings_show_the_defaults_created_on_install(admin):
    settings_id = admin.call_kw("res.config.settings", "create", [{}])
    [values] = admin.call_kw("res.config.settings", "read", [[settings_id], [
        "recon_journal_id", "recon_days_to_default", "recon_bad_debt_account_id",
        "recon_advance_account_id", "recon_forgiven_account_id"]], {"load": None})
    assert values["recon_days_to_default"] == 90
    journal = admin.call_kw("account.journal", "read", [[values["recon_journal_id"]], ["code", "type"]])
    assert journal[0]["code"] == "RECON" and journal[0]["type"] == "general"
    assert values["recon_bad_debt_account_id"] and values["recon_advance_account_id"]


def test_collection_statuses_are_there_in_order(admin):
    statuses = admin.call_kw("recon.collection.status", "search_read", [[]], {"fields": ["code"]})
    assert [s["code"] for s in statuses] == ["active", "disputed", "payment_plan", "legal", "repossessed", "closed"]


def test_the_ledger_spine_is_not_callable_from_outside(admin):
    with pytest.raises(RpcError) as error:
        admin.call_kw("recon.ledger", "_book", [[]])
    assert "Private methods" in error.value.message
