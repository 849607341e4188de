"""`cdp demo` end to end: workspace, data, cdp.toml, segments, ingestion, re-runs, the CLI."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cdp.config import load_config
from cdp.demo import run_demo
from cdp.demo.config_template import render_config
from cdp.errors import ConfigError
from privacy.normalize import normalize_email, normalize_phone

END = "2026-06-30"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any], list[tuple]]]:
    """One demo of 400 customers shared by the module (the same test key as tests/conftest.py)."""
    import base64
    import os

    mp = pytest.MonkeyPatch()
    mp.setenv("CDP_MASTER_KEY", os.environ.get("CDP_MASTER_KEY", base64.b64encode(b"k" * 32).decode()))
    target = tmp_path_factory.mktemp("demo") / "cdp-demo"
    calls: list[tuple] = []
    try:
        summary = run_demo(target, 400, 3, lambda *a: calls.append(a), end_date=END)
        yield target, summary, calls
    finally:
        mp.undo()


def _header(path: Path, sep: str) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return fh.readline().rstrip("\n").split(sep)


def test_config_names_columns_that_exist() -> None:
    """The template's sources name only columns of the generated files; the rest is dropped."""
    from cdp.config import parse_config

    cfg = parse_config(render_config())
    assert cfg.workspace.name == "demo" and cfg.workspace.timezone == "Europe/Istanbul"
    assert set(cfg.sources) == {"customers", "loyalty", "events", "consents"}
    assert cfg.sources["loyalty"].key == "card_no"
    assert set(cfg.sources["customers"].traits) == {"city", "district", "business_type", "recipient_type",
                                                    "signup_date"}
    assert set(cfg.sources["events"].properties) == {"category", "store_id", "quantity"}


def test_demo_summary_matches_what_was_planted(demo: tuple[Path, dict[str, Any], list[tuple]]) -> None:
    target, s, calls = demo
    g = s["generated"]
    assert s["workspace"] == str(target.resolve()) and s["reused"] is False
    assert s["customers"] == g["expected_customers"]              # identity resolution found every duplicate
    assert s["identities_merged"] == g["customers_csv_rows"] + g["loyalty_rows"] - g["expected_customers"] > 0
    assert s["events"] == g["event_rows"] - 8                       # 8 planted bad event rows
    assert s["rejects"] == g["bad_rows_planted"] == 10
    assert s["consents"] == g["consent_rows"]
    assert s["columns_dropped"] == ["customers.credit_limit", "events.payment_method"]
    assert s["segment_files_copied"] >= 1
    assert s["next_steps"][0].startswith("cd ") and "cdp segment preview platinum" in s["next_steps"]
    assert {"workspace", "generate", "segments", "ingest", "models", "build", "syncs"} == set(s["step_seconds"])
    assert s["segments"] and all(b["members"] >= b["control"] >= 0 for b in s["segments"].values())
    assert set(s["syncs"]) == {"winback_file", "beverages_meta"}
    assert any(c[0] == "demo" for c in calls)                        # progress was reported


def test_demo_workspace_on_disk(demo: tuple[Path, dict[str, Any], list[tuple]]) -> None:
    target, _s, _calls = demo
    cfg = load_config(target / "cdp.toml")
    for name, src in cfg.sources.items():
        sep = src.delimiter or ","
        header = set(_header(target / src.paths[0], sep))
        named = set(src.identifier_columns().values()) | set(src.contact) | set(src.traits) | set(src.properties)
        named |= {c for c in (src.event_id, src.event_type, src.timestamp, src.amount, src.purpose, src.channel,
                              src.status, src.at, src.expires, src.basis, src.recipient_type, src.source,
                              src.notice_version) if c}
        assert named <= header, name
    assert (target / "data" / "iys_export.json").exists()
    assert sorted(p.name for p in (target / "segments").glob("*.seg"))
    assert (target / ".cdp" / "store.duckdb").exists()


def test_no_raw_identifier_in_the_store(demo: tuple[Path, dict[str, Any], list[tuple]]) -> None:
    """Every text column of every table is searched for the demo's raw and normalized identifiers."""
    import duckdb

    target, _s, _calls = demo
    with (target / "data" / "customers.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))[:100]
    needles: set[str] = set()
    for r in rows:
        for value in (r["email"].strip(), normalize_email(r["email"]) if r["email"] else None,
                      r["phone"], normalize_phone(r["phone"]) if r["phone"] else None,
                      r["full_name"], r["tax_id"]):
            if value and len(value) >= 6:
                needles.add(value)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(f"ATTACH '{target / '.cdp' / 'store.duckdb'}' AS s (READ_ONLY)")
    con.execute("CREATE TABLE needles AS SELECT unnest(?::VARCHAR[]) AS n", [sorted(needles)])
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_catalog = 's' "
        "AND (data_type IN ('VARCHAR', 'JSON') OR data_type LIKE '%[]')"
    ).fetchall()
    assert len(columns) > 10
    for table, column in columns:
        hits = con.execute(
            f'SELECT count(*) FROM s."{table}" t JOIN needles ON contains(t."{column}"::VARCHAR, needles.n)'
        ).fetchone()[0]  # type: ignore[index]
        assert hits == 0, f"{table}.{column}"


def test_rerun_reuses_the_demo_and_ingests_nothing_twice(demo: tuple[Path, dict[str, Any], list[tuple]]) -> None:
    target, first, _calls = demo
    data = target / "data" / "events.csv"
    before = data.stat().st_mtime_ns
    again = run_demo(target, 400, 3, None, end_date=END)
    assert again["reused"] is True
    assert data.stat().st_mtime_ns == before                       # not generated again
    for key in ("customers", "events", "consents", "rejects", "identities"):
        assert again[key] == first[key], key
    assert again["columns_dropped"] == first["columns_dropped"]


def test_rerun_with_other_options_asks_for_fresh(demo: tuple[Path, dict[str, Any], list[tuple]]) -> None:
    target, _s, _calls = demo
    with pytest.raises(ConfigError) as err:
        run_demo(target, 400, 4, None, end_date=END)
    assert "--fresh" in (err.value.hint or "")


def test_fresh_starts_over(tmp_path: Path) -> None:
    target = tmp_path / "d"
    run_demo(target, 120, 1, None, end_date=END)
    s = run_demo(target, 150, 2, None, end_date=END, fresh=True)
    assert s["reused"] is False and s["generated"]["customers_csv_rows"] == 150
    assert s["customers"] == s["generated"]["expected_customers"]


def test_refuses_a_folder_that_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ConfigError):
        run_demo(tmp_path, 100, 1, None, end_date=END, fresh=True)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert not (tmp_path / "cdp.toml").exists()


def test_cli_demo_json(tmp_path: Path) -> None:
    from cdp.cli import app

    target = tmp_path / "cli-demo"
    result = CliRunner().invoke(app, ["demo", str(target), "--customers", "150", "--seed", "5", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout[result.stdout.index("{"):])
    assert out["customers"] == out["generated"]["expected_customers"]
    assert out["rejects"] == 10


def test_public_surface() -> None:
    import cdp.demo

    assert sorted(cdp.demo.__all__) == ["DATA_FILES", "STEPS", "generate", "run_demo"]
    assert [name for name, _fn in cdp.demo.STEPS][:4] == ["workspace", "generate", "segments", "ingest"]
