"""`cdp sync` and `cdp schedule` through the CLI (typer CliRunner)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from cdp.cli import app
from tests.sync.conftest import AS_OF, Shop, email_of


@pytest.fixture
def cli(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CDP_WORKSPACE", str(shop.ws.root))
    monkeypatch.setenv("COLUMNS", "250")
    shop.build(list(range(1, 11)))
    return CliRunner()


def test_sync_run_json_status_and_history(cli: CliRunner, fakes: dict[str, Any]) -> None:
    res = cli.invoke(app, ["sync", "run", "vip_sms", "vip_meta", "--as-of", AS_OF, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [r["status"] for r in out] == ["ok", "ok"]
    res = cli.invoke(app, ["sync", "status", "--json"])
    assert res.exit_code == 0
    status = {s["sync"]: s for s in json.loads(res.stdout)}
    assert status["vip_sms"]["status"] == "ok" and status["vip_google"]["status"] == "never"
    res = cli.invoke(app, ["sync", "history", "vip_meta", "--json"])
    (run,) = json.loads(res.stdout)
    assert run["platform_counts"]["add"]["num_received"] == 10
    for args in (["sync", "status"], ["sync", "history", "vip_meta"]):
        res = cli.invoke(app, args)
        assert res.exit_code == 0 and "vip_meta" in res.stdout
    for i in range(1, 11):
        assert email_of(i).lower() not in res.stdout


def test_dry_run_prints_counts_reasons_and_samples(cli: CliRunner, fakes: dict[str, Any]) -> None:
    res = cli.invoke(app, ["sync", "run", "vip_mail", "--dry-run", "--as-of", AS_OF])
    assert res.exit_code == 0, res.output
    assert "dry run" in res.stdout and "sample add request body" in res.stdout
    assert "sha256:" in res.stdout
    assert email_of(1).lower() not in res.stdout
    assert fakes["mailchimp"].requests == []


def test_exit_1_when_a_sync_is_refused_or_partial(cli: CliRunner, fakes: dict[str, Any]) -> None:
    res = cli.invoke(app, ["sync", "run", "vip_nt", "--as-of", AS_OF])
    assert res.exit_code == 1
    assert "transfer record" in res.stdout
    fakes["meta"].token = "other"
    res = cli.invoke(app, ["sync", "run", "vip_meta", "--as-of", AS_OF, "--json"])
    assert res.exit_code == 1 and json.loads(res.stdout)[0]["status"] == "failed"


def test_unknown_sync_suggests_a_name(cli: CliRunner) -> None:
    res = cli.invoke(app, ["sync", "run", "vip_meat", "--as-of", AS_OF])
    assert res.exit_code == 1
    assert "did you mean 'vip_meta'" in res.output


def test_schedule_list(cli: CliRunner) -> None:
    res = cli.invoke(app, ["schedule", "list", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout) == []
    res = cli.invoke(app, ["schedule", "list"])
    assert "no sync has a schedule" in res.stdout


def test_every_command_has_an_example() -> None:
    runner = CliRunner()
    for args in (["sync", "run"], ["sync", "status"], ["sync", "history"], ["schedule", "run"], ["schedule", "list"]):
        res = runner.invoke(app, [*args, "--help"])
        assert res.exit_code == 0 and "Example: cdp" in res.stdout, args
