"""`cdp init`, `cdp status` and the CLI conventions of the foundation commands."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cdp.cli import app
from cdp.config import load_config
from cdp.workspace import Workspace


def test_init_creates_a_private_by_default_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDP_MASTER_KEY")
    result = CliRunner().invoke(app, ["init", str(tmp_path / "shop")])
    assert result.exit_code == 0, result.output
    root = tmp_path / "shop"
    assert "losing the master key" in result.output.replace("\n", " ")
    key = root / ".cdp" / "master.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().strip() not in result.output
    assert {p.name for p in root.iterdir()} >= {"cdp.toml", "segments", "reports", "data", ".gitignore", ".cdp"}
    assert ".cdp/" in (root / ".gitignore").read_text() and "data/" in (root / ".gitignore").read_text()
    cfg = load_config(root / "cdp.toml")
    assert cfg.workspace.name == "shop" and not cfg.sources and not cfg.destinations and not cfg.syncs
    assert (root / "cdp.toml").read_text().count("# [sources.") == 3
    # running init again keeps everything and says nothing about a new key
    again = CliRunner().invoke(app, ["init", str(root)])
    assert again.exit_code == 0 and "master key" not in again.output
    assert key.read_text() == key.read_text()


def test_status_json_shape(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    out = CliRunner().invoke(app, ["status", "--json"], env={"CDP_WORKSPACE": str(ws.root)})
    assert out.exit_code == 0, out.output
    st = json.loads(out.output)
    for key in ("customers", "events", "identities", "consent_events", "rejects"):
        assert isinstance(st[key], int) and st[key] == 0
    assert isinstance(st["schema_version"], int) and st["schema_version"] >= 2
    assert isinstance(st["warnings"], list) and isinstance(st["events_by_type"], dict)
    assert st["store_bytes"] > 0


def test_errors_are_one_paragraph_with_exit_1(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "cdp.toml").write_text('[workspace]\nname = "x"\nzone = "UTC"\n', encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", "from cdp.cli import main; main()", "status"], cwd=tmp_path,
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "CDP_MASTER_KEY": "a" * 44})
    assert proc.returncode == 1
    assert "cdp.toml:3: [workspace.zone] unknown key" in proc.stderr and "Traceback" not in proc.stderr
