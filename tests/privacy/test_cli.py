"""The `cdp consent`, `cdp privacy` and `cdp audit` commands through the CLI."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cdp.cli import app

from .conftest import Shop
from .test_dsar_scan_retention import assert_well_formed


@pytest.fixture
def cli(shop: Shop, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CDP_WORKSPACE", str(shop.ws.root))
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        res = runner.invoke(app, list(args))
        assert res.exit_code == code, (args, res.output, res.exception)
        return res.output

    return run


def test_consent_commands_never_print_identifiers(shop: Shop, cli) -> None:
    ali = shop.add_customer("ali@example.com", "05321112233")
    outputs = [
        cli("consent", "grant", "--email", "ali@example.com", "--purpose", "email_marketing", "--source", "HS_WEB",
            "--notice-version", "v3", "--at", "2026-01-05T10:00"),
        cli("consent", "grant", "--phone", "0532 111 22 33", "--purpose", "sms_marketing", "--json"),
        cli("consent", "withdraw", "--email", "ali@example.com", "--purpose", "sms_marketing", "--channel", "sms"),
        cli("consent", "object", "--email", "ali@example.com", "--scope", "profiling"),
        cli("consent", "show", "--email", "ali@example.com"),
        cli("consent", "show", "--email", "ali@example.com", "--json"),
        cli("consent", "verify"),
        cli("consent", "verify", "--json"),
    ]
    text = "\n".join(outputs)
    assert "ali@example.com" not in text and "5321112233" not in text
    shown = json.loads(outputs[5])
    assert shown["customer_id"] == ali.customer_id
    state = {(s["purpose"], s["channel"]): s for s in shown["state"]}
    assert state[("email_marketing", "email")]["valid"] and state[("sms_marketing", "sms")]["status"] == "withdrawn"
    assert json.loads(outputs[7])["ok"] is True
    # the effective time typed in workspace-local time (Istanbul, UTC+3) is stored in UTC
    assert str(shop.sql("SELECT effective_at FROM consent_events ORDER BY seq LIMIT 1")[0][0]) == "2026-01-05 07:00:00"


def test_verify_exits_1_naming_the_first_bad_seq(shop: Shop, cli) -> None:
    shop.add_customer("ali@example.com")
    cli("consent", "grant", "--email", "ali@example.com", "--purpose", "email_marketing")
    cli("consent", "grant", "--email", "ali@example.com", "--purpose", "analytics")
    with shop.ws.store() as con:
        con.execute("UPDATE consent_events SET purpose = 'ads_targeting' WHERE seq = 2")
    out = cli("consent", "verify", "--json", code=1)
    assert json.loads(out)["first_bad_seq"] == 2


def test_forget_dsar_requests_and_audit(shop: Shop, cli, tmp_path) -> None:
    shop.add_customer("ali@example.com", events=2)
    shop.add_customer("veli@example.com", events=1)
    cli("consent", "grant", "--email", "veli@example.com", "--purpose", "email_marketing")
    dsar = json.loads(cli("privacy", "dsar", "--email", "veli@example.com", "--out", str(tmp_path / "d"), "--json"))
    assert dsar["events"] == 1
    out = cli("privacy", "forget", "--email", "ali@example.com", "--reason", "request")
    assert "done" in out and "ali@example.com" not in out
    reqs = json.loads(cli("privacy", "requests", "--all", "--json"))
    assert {r["kind"] for r in reqs} == {"access", "erasure"}
    cli("privacy", "forget", "--email", "nobody@example.com", code=1)
    html = tmp_path / "audit.html"
    rep = cli("audit", "report", "--from", "2020-01-01", "--html", str(html))
    assert "verified" in rep
    page = html.read_text(encoding="utf-8")
    assert_well_formed(page)
    assert "ali@example.com" not in page and "veli@example.com" not in page
    pack = tmp_path / "pack"
    cli("audit", "pack", str(pack))
    assert (pack / "consent_ledger.csv").exists() and (pack / "inventory" / "inventory.md").exists()
    for f in pack.rglob("*"):
        if f.is_file():
            assert "@example.com" not in f.read_text(encoding="utf-8", errors="replace"), f
    inv = cli("privacy", "inventory")
    assert "Record of processing" in inv
    ret = json.loads(cli("privacy", "retention", "run", "--json"))
    assert ret["items"]
    assert "not due" in cli("privacy", "retention", "status")


def test_import_reports_rejected_lines(shop: Shop, cli, tmp_path) -> None:
    f = tmp_path / "iys.csv"
    f.write_text("recipient,recipientType,type,source,status,consentDate\n"
                 "a@example.com,BIREYSEL,EPOSTA,HS_WEB,ONAY,2026-01-02 10:00:00\n"
                 "b@example.com,BIREYSEL,EPOSTA,HS_WEB,ONAY,yesterday\n", encoding="utf-8")
    out = cli("consent", "import", str(f))
    assert "1 appended" in out and "line 3: field 'consentDate'" in out
    assert "b@example.com" not in out
    assert "0 appended" in cli("consent", "import", str(f))
    cli("consent", "import", str(f), "--strict", code=1)


def test_rotate_keys_rewraps_under_a_new_master_key(shop: Shop, cli, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path) -> None:  # noqa: ANN001
    shop.add_customer("ali@example.com")
    cli("consent", "grant", "--email", "ali@example.com", "--purpose", "email_marketing")
    old_key = __import__("os").environ["CDP_MASTER_KEY"]
    out = cli("privacy", "rotate-keys")
    assert old_key not in out and "master.key.rotated" in out
    new_file = shop.ws.state_dir / "master.key.rotated"
    assert oct(new_file.stat().st_mode & 0o777) == "0o600"
    new_key = new_file.read_text().strip()
    assert new_key not in out
    from cdp.errors import MasterKeyError

    with pytest.raises(MasterKeyError):
        shop.ws.privacy.consent_verify()
    monkeypatch.setenv("CDP_MASTER_KEY", new_key)
    assert "ok:" in cli("consent", "verify")
    dsar = json.loads(cli("privacy", "dsar", "--email", "ali@example.com", "--out", str(tmp_path / "d"), "--json"))
    data = json.loads(open(dsar["json"], encoding="utf-8").read())
    assert data["contact_points"]["email"] == "ali@example.com"
    exported = tmp_path / "ledger.csv"
    cli("consent", "export", "--out", str(exported))
    assert "ali@example.com" not in exported.read_text(encoding="utf-8")
