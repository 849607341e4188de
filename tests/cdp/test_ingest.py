"""Ingestion end to end: counts, invariants, idempotency, corrections, rejects, strict mode."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cdp.cli import app
from cdp.errors import IngestError, RejectedRowsError
from cdp.workspace import Workspace
from privacy.keys import KeyStore
from privacy.pseudonym import Pseudonymizer
from privacy.vault import Vault

from .conftest import Dataset, make_dataset, make_workspace, write_csv


def _snapshot(ws: Workspace) -> dict[str, list]:
    with ws.store() as con:
        return {
            "customers": con.execute("SELECT * EXCLUDE (first_seen_at, updated_at) FROM customers ORDER BY 1").fetchall(),
            "identities": con.execute("SELECT id_hash, kind, customer_id FROM identities ORDER BY 1").fetchall(),
            "events": con.execute("SELECT * FROM events ORDER BY event_id").fetchall(),
            "consents": con.execute("SELECT customer_id, id_hash, purpose, channel, status, effective_at "
                                    "FROM consent_events ORDER BY seq").fetchall(),
            "vault": con.execute("SELECT customer_id, field FROM vault ORDER BY 1, 2").fetchall(),
        }


def _copy(ws: Workspace, target: Path) -> Workspace:
    import shutil

    shutil.copytree(ws.root, target)
    return Workspace(target)


def test_end_to_end_counts_and_traits(workspace: Workspace, dataset: Dataset) -> None:
    report = workspace.ingest()
    by = {s.source: s for s in report.sources}
    n = len(dataset.people)
    assert by["customers"].rows_read == n and by["customers"].rows_loaded == n
    assert by["customers"].customers_new == n and by["customers"].identities_new == 4 * n
    assert by["customers"].columns_dropped == {"internal_note": n}
    assert by["events"].rows_loaded == len(dataset.event_rows) and by["events"].customers_new == 0
    assert by["consents"].consents_appended == len(dataset.consent_rows)
    st = workspace.status()
    assert (st["customers"], st["events"], st["identities"]) == (n, len(dataset.event_rows), 4 * n)
    assert st["consent_events"] == len(dataset.consent_rows) and st["rejects"] == 0
    with workspace.store() as con:
        cities = {r[0] for r in con.execute("SELECT city FROM customers").fetchall()}
        assert cities <= {"İstanbul", "Ankara", "İzmir", "Muğla", "Iğdır"}
        types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'events'").fetchall())
        assert types["quantity"] == "BIGINT" and types["category"] == "VARCHAR"
        linked = con.execute("SELECT count(*) FROM consent_events WHERE customer_id IS NOT NULL").fetchone()[0]
        assert linked == len(dataset.consent_rows)
    # contact points are in the vault, normalized, and readable with the keys
    with KeyStore.open(workspace.state_dir) as ks, workspace.store() as con:
        pz = Pseudonymizer.from_keystore(ks)
        p = dataset.people[0]
        cid = con.execute("SELECT customer_id FROM identities WHERE id_hash = ?",
                          [pz.hash_identifier("email", p.email)]).fetchone()[0]
        assert Vault(con, ks).get(cid) == {"email": p.email.lower(), "phone": "+90" + p.phone, "full_name": p.name}


def test_no_raw_identifier_anywhere_in_the_store(workspace: Workspace, dataset: Dataset) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "--json"], env={"CDP_WORKSPACE": str(workspace.root)})
    assert result.exit_code == 0, result.output
    status = runner.invoke(app, ["status", "--json"], env={"CDP_WORKSPACE": str(workspace.root)})
    assert json.loads(status.output)["customers"] == len(dataset.people)
    secrets = dataset.raw_identifiers()
    for text in (result.output, status.output):
        assert not [s for s in secrets if s in text]
    with workspace.store() as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
        found = []
        for t in tables:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "AND data_type IN ('VARCHAR', 'JSON')", [t]).fetchall()]
            for c in cols:
                for (v,) in con.execute(f'SELECT DISTINCT "{c}"::VARCHAR FROM "{t}" WHERE "{c}" IS NOT NULL').fetchall():
                    found += [f"{t}.{c}" for s in secrets if s in v]
        assert not found, f"raw identifiers in {sorted(set(found))}"
        con.execute("CHECKPOINT")
    raw = workspace.store_path.read_bytes()
    assert not [s for s in secrets if s.encode("utf-8") in raw]


def test_reingest_is_idempotent_and_picks_up_new_rows_and_files(workspace: Workspace, dataset: Dataset) -> None:
    workspace.ingest()
    before = _snapshot(workspace)
    again = workspace.ingest()
    assert again.total("rows_read") == 0
    assert _snapshot(workspace) == before
    # touched but unchanged: read again, nothing changes
    (workspace.root / "data" / "events.csv").touch()
    (workspace.root / "data" / "customers.csv").touch()
    assert workspace.ingest().total("rows_loaded") == 0
    assert _snapshot(workspace) == before
    # appended rows: only the new rows are read
    with open(workspace.root / "data" / "events.csv", "a", encoding="utf-8") as fh:
        fh.write("NEW-1,CR00001,visit,2025-06-01 10:00:00,,food,1\r\n")
    r = workspace.ingest(["events"])
    assert r.sources[0].rows_read == 1 and r.sources[0].rows_loaded == 1
    # a new file matching the glob
    write_csv(workspace.root / "data" / "events_2.csv",
              [{"event_id": "NEW-2", "customer_ref": "CR00002", "event_type": "purchase", "ts": "2025-06-02",
                "amount": "10", "category": "food", "quantity": "2"}])
    r = workspace.ingest(["events"])
    assert r.sources[0].rows_read == 1 and r.sources[0].files == 1
    assert workspace.status()["events"] == len(dataset.event_rows) + 2


def test_correction_replaces_the_event_and_is_counted(workspace: Workspace, dataset: Dataset) -> None:
    workspace.ingest()
    rows = [dict(r) for r in dataset.event_rows[:3]]
    rows[0]["amount"] = "999.99"
    write_csv(workspace.root / "data" / "events_fix.csv", rows)
    r = workspace.ingest(["events"])
    assert r.sources[0].corrections == 1 and r.sources[0].rows_unchanged == 2
    with workspace.store() as con:
        amount = con.execute("SELECT amount FROM events WHERE event_id = ?", [rows[0]["event_id"]]).fetchone()[0]
        assert float(amount) == 999.99
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == len(dataset.event_rows)


def test_bad_rows_are_rejected_with_file_line_column_and_reason(tmp_path: Path) -> None:
    ds = make_dataset(6)
    ds.customer_rows[1]["signup_date"] = "31/31/2024"
    ds.customer_rows[2]["customer_ref"] = ""
    ds.event_rows[4]["ts"] = "yesterday"
    ds.event_rows[5]["amount"] = "12abc"
    ds.event_rows[6]["customer_ref"] = " "
    ws = make_workspace(tmp_path / "ws", ds)
    report = ws.ingest()
    by = {s.source: s for s in report.sources}
    assert by["customers"].rows_rejected == 2 and by["customers"].rows_loaded == 4
    assert by["events"].rejects_by_reason == {"not a timestamp": 1, "not a number": 1, "missing key": 1}
    with ws.store() as con:
        rejects = con.execute("SELECT source, file, line, column_name, reason FROM rejects ORDER BY source, line").fetchall()
    assert ("customers", "data/customers.csv", 3, "signup_date", "not a date") in rejects
    assert ("customers", "data/customers.csv", 4, "customer_ref", "missing key") in rejects
    assert ("events", "data/events.csv", 6, "ts", "not a timestamp") in rejects
    assert ("events", "data/events.csv", 7, "amount", "not a number") in rejects
    assert ("events", "data/events.csv", 8, "customer_ref", "missing key") in rejects
    secrets = ds.raw_identifiers()
    assert not [s for r in rejects for s in secrets if s in " ".join(map(str, r))]


def test_strict_writes_nothing(tmp_path: Path) -> None:
    ds = make_dataset(5)
    ds.event_rows[2]["ts"] = "not a time"
    ws = make_workspace(tmp_path / "ws", ds)
    with pytest.raises(RejectedRowsError) as info:
        ws.ingest(strict=True)
    assert info.value.count == 1 and info.value.source == "events"
    assert info.value.first == "data/events.csv:4: column 'ts': not a timestamp"
    st = ws.status()
    assert (st["customers"], st["events"], st["identities"], st["rejects"]) == (0, 0, 0, 0)
    runner = CliRunner()
    out = runner.invoke(app, ["ingest", "--strict"], env={"CDP_WORKSPACE": str(ws.root)})
    assert out.exit_code == 1


def test_suppressed_identifiers_are_skipped(workspace: Workspace, dataset: Dataset) -> None:
    with KeyStore.open(workspace.state_dir) as ks, workspace.store() as con:
        pz = Pseudonymizer.from_keystore(ks)
        h = pz.hash_identifier("email", dataset.people[0].email)
        con.execute("INSERT INTO suppressions VALUES (?, 'email', 'erased', now()::TIMESTAMP)", [h])
    r = workspace.ingest(["customers"])
    assert r.sources[0].rows_suppressed == 1 and r.sources[0].rows_loaded == len(dataset.people) - 1
    with workspace.store() as con:
        assert con.execute("SELECT count(*) FROM identities WHERE id_hash = ?", [h]).fetchone()[0] == 0


def test_pii_in_a_trait_column_blocks_that_column(tmp_path: Path) -> None:
    ds = make_dataset(8)
    for i, r in enumerate(ds.customer_rows):
        r["business_type"] = f"owner.{i}@example.com"          # an email hiding in a trait
    ws = make_workspace(tmp_path / "ws", ds)
    r = ws.ingest(["customers"])
    s = r.sources[0]
    assert s.columns_blocked == {"business_type": "email"} and s.rows_loaded == 8
    assert any("business_type" in w and "email" in w for w in s.warnings)
    assert "owner." not in " ".join(s.warnings)
    with ws.store() as con:
        cols = [c[0] for c in con.execute("DESCRIBE customers").fetchall()]
    assert "business_type" not in cols


def test_missing_column_is_a_clear_error(tmp_path: Path) -> None:
    ds = make_dataset(3)
    for r in ds.event_rows:
        del r["amount"]
    ws = make_workspace(tmp_path / "ws", ds)
    with pytest.raises(IngestError) as info:
        ws.ingest(["events"])
    assert info.value.source == "events" and "'amount'" in str(info.value)


def test_an_interrupted_ingest_reruns_to_the_same_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ds = make_dataset(20)
    ws = make_workspace(tmp_path / "ws", ds)
    clean = _copy(ws, tmp_path / "clean")       # same keys, so the same pseudonyms
    clean.ingest()
    from cdp.ingest import load

    real = load.load_events

    def boom(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt  # Ctrl-C after the events were written, before commit

    monkeypatch.setattr(load, "load_events", boom)
    monkeypatch.setattr("cdp.ingest.run.load_events", boom)
    with pytest.raises(KeyboardInterrupt):
        ws.ingest()
    assert ws.status()["events"] == 0 and ws.status()["customers"] == len(ds.people)
    monkeypatch.setattr("cdp.ingest.run.load_events", real)
    ws.ingest()
    a, b = _snapshot(clean), _snapshot(ws)
    assert a["events"] == b["events"] and a["identities"] == b["identities"]


def test_killed_subprocess_reruns_to_the_same_state(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    ds = make_dataset(50, events_per=5)
    ws = make_workspace(tmp_path / "ws", ds)
    clean = _copy(ws, tmp_path / "clean")
    # the child kills itself (SIGKILL: no cleanup at all) while loading events
    code = (
        "import os, signal, sys\n"
        "from cdp.workspace import Workspace\n"
        "def p(source, phase, done, total):\n"
        "    if source == 'events' and phase == 'load':\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "Workspace(sys.argv[1]).ingest(progress=p)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(ws.root)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    st = ws.status()
    assert st["customers"] == len(ds.people) and st["events"] == 0
    ws.ingest()
    clean.ingest()
    a, b = _snapshot(clean), _snapshot(ws)
    assert a == b


def test_store_busy_message(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    from cdp.errors import StoreBusyError

    workspace.ingest(["customers"])
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb,sys,time; c=duckdb.connect(sys.argv[1]); print('ok', flush=True); "
         "time.sleep(20)", str(workspace.store_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ok"
        monkeypatch.setenv("CDP_STORE_WAIT", "0.3")
        with pytest.raises(StoreBusyError) as info:
            workspace.status()
        assert info.value.transient and "in use by another process" in str(info.value)
    finally:
        holder.kill()
        holder.wait()


def test_parquet_and_jsonl_sources(tmp_path: Path) -> None:
    ds = make_dataset(5)
    ws = make_workspace(tmp_path / "ws", Dataset(), extra_toml="")
    con = duckdb.connect()
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(ds.customer_rows), ws.root / "data" / "c.parquet")
    with open(ws.root / "data" / "e.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps({**r, "quantity": int(r["quantity"]), "amount": float(r["amount"])}) + "\n" for r in ds.event_rows)
    con.close()
    with open(ws.config_path, "a", encoding="utf-8") as fh:
        fh.write('''
[sources.c]
kind = "parquet"
path = "data/*.parquet"
entity = "customers"
key = "customer_ref"
identifiers = { email = "email" }
traits = { signup_date = "date" }

[sources.e]
kind = "jsonl"
path = "data/e.jsonl"
entity = "events"
key = "customer_ref"
event_id = "event_id"
event_type = "event_type"
timestamp = "ts"
amount = "amount"
properties = { quantity = "integer" }
''')
    ws = Workspace(ws.root)
    r = ws.ingest()
    assert [s.rows_loaded for s in r.sources] == [5, len(ds.event_rows)]


def test_consents_map_iys_words_pend_and_attach(tmp_path: Path) -> None:
    ds = make_dataset(3)
    known = ds.people[0].email
    ds.consent_rows = [
        {"email": known, "type": "EPOSTA", "status": "ONAY", "consentDate": "2025-01-10 09:00:00"},
        {"email": known, "type": "EPOSTA", "status": "RET", "consentDate": "2025-02-10 09:00:00"},
        {"email": known, "type": "MESAJ", "status": "RET", "consentDate": "2025-02-10 09:00:00"},
        {"email": "later@example.com", "type": "EPOSTA", "status": "ONAY", "consentDate": "2025-01-01 12:00:00"},
    ]
    ws = make_workspace(tmp_path / "ws", ds)
    r = ws.ingest(["customers", "consents"])
    assert r.sources[1].consents_appended == 4 and r.sources[1].consents_pending == 1
    with ws.store() as con:
        rows = con.execute("SELECT purpose, channel, status, effective_at::VARCHAR, customer_id IS NOT NULL "
                           "FROM consent_events ORDER BY seq").fetchall()
        audit = con.execute("SELECT target, details FROM audit_log WHERE action = 'ingest' ORDER BY seq").fetchall()
    # Istanbul wall time -> UTC; RET after ONAY is a withdrawal, RET alone a refusal; unknown recipient pending
    assert ("email_marketing", "email", "granted", "2025-01-10 06:00:00", True) in rows
    assert ("email_marketing", "email", "withdrawn", "2025-02-10 06:00:00", True) in rows
    assert ("sms_marketing", "sms", "refused", "2025-02-10 06:00:00", True) in rows
    assert ("email_marketing", "email", "granted", "2025-01-01 09:00:00", False) in rows
    assert [t for t, _ in audit] == ["customers", "consents"]
    assert json.loads(audit[1][1])["consents_appended"] == 4
    # a re-import adds nothing; the pending consent attaches when the identifier appears
    write_csv(ws.root / "data" / "consents_again.csv", ds.consent_rows)
    assert ws.ingest(["consents"]).sources[0].consents_appended == 0
    rows = [dict(r) for r in ds.customer_rows[:1]]
    rows[0].update(customer_ref="NEW", email="later@example.com", phone="", tax_id="")
    write_csv(ws.root / "data" / "customers_new.csv", rows, delimiter=";")
    assert ws.ingest(["customers"]).sources[0].consents_attached == 1


# -- bad input: malformed CSV rows and files without rows ------------------------------------

EVENT_HEADER = "event_id,customer_ref,event_type,ts,amount,category,quantity\n"


def _rejects(ws: Workspace) -> list[tuple]:
    with ws.store() as con:
        return con.execute("SELECT source, file, line, column_name, reason FROM rejects ORDER BY source, line").fetchall()


def test_header_only_csv_ingests_nothing_and_later_rows_are_picked_up(tmp_path: Path) -> None:
    ds = make_dataset(3)
    ws = make_workspace(tmp_path / "ws", ds)
    (ws.root / "data" / "events.csv").write_text(EVENT_HEADER, "utf-8")
    by = {s.source: s for s in ws.ingest().sources}
    assert (by["events"].files, by["events"].rows_read, by["events"].rows_loaded, by["events"].rows_rejected) == (1, 0, 0, 0)
    assert by["customers"].rows_loaded == 3
    assert ws.status()["events"] == 0
    # the export grows: its rows are read from the first line after the header
    with open(ws.root / "data" / "events.csv", "a", encoding="utf-8") as fh:
        fh.write("A1,CR00000,visit,2025-06-01 10:00:00,5,food,1\nA2,CR00001,visit,yesterday,5,food,1\n")
    r = ws.ingest(["events"]).sources[0]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (2, 1, 1)
    assert ("events", "data/events.csv", 3, "ts", "not a timestamp") in _rejects(ws)


def test_header_only_csv_with_a_wrong_header_is_a_clear_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", make_dataset(2))
    (ws.root / "data" / "events.csv").write_text("event_id,customer_ref,event_type,ts\n", "utf-8")
    with pytest.raises(IngestError) as info:
        ws.ingest(["events"])
    assert info.value.source == "events" and "'amount'" in str(info.value)


def test_empty_csv_file_ingests_nothing(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", make_dataset(2))
    (ws.root / "data" / "events.csv").write_bytes(b"")
    r = ws.ingest(["events"]).sources[0]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (0, 0, 0)


def test_rows_with_too_few_or_too_many_fields_are_rejected_with_line_and_column(tmp_path: Path) -> None:
    ds = make_dataset(4)
    ws = make_workspace(tmp_path / "ws", ds)
    good = [f"G{i},CR0000{i},visit,2025-03-0{i + 1} 10:00:00,1.5,food,2\n" for i in range(4)]
    lines = [
        EVENT_HEADER,
        good[0],
        "S1,CR00001,visit,2025-03-01 10:00:00,2\n",             # line 3: category and quantity missing
        good[1],
        "L1,CR00002,visit,2025-03-01 10:00:00,2,food,1,extra\n",  # line 5: one field too many
        good[2],
        "S2\n",                                                 # line 7: only the first field
        "B1,CR00003,visit,yesterday,3,food,1\n",                # line 8: a bad value after them
        good[3],
    ]
    (ws.root / "data" / "events.csv").write_text("".join(lines), "utf-8")
    # the customers file (';' and a BOM) gets a short row too
    with open(ws.root / "data" / "customers.csv", "a", encoding="utf-8") as fh:
        p = ds.people[0]
        fh.write(f"CR09999;{p.email};{p.phone}\r\n")
    by = {s.source: s for s in ws.ingest().sources}
    ev = by["events"]
    assert (ev.rows_read, ev.rows_loaded, ev.rows_rejected) == (8, 4, 4)
    assert ev.rejects_by_reason == {"too few fields": 2, "too many fields": 1, "not a timestamp": 1}
    assert ev.first_reject == "data/events.csv:3: column 'category': too few fields"
    assert (by["customers"].rows_read, by["customers"].rows_loaded, by["customers"].rows_rejected) == (5, 4, 1)
    rejects = _rejects(ws)
    assert ("customers", "data/customers.csv", 6, "tax_id", "too few fields") in rejects
    assert [r for r in rejects if r[0] == "events"] == [
        ("events", "data/events.csv", 3, "category", "too few fields"),
        ("events", "data/events.csv", 5, None, "too many fields"),
        ("events", "data/events.csv", 7, "customer_ref", "too few fields"),
        ("events", "data/events.csv", 8, "ts", "not a timestamp"),
    ]
    with ws.store() as con:
        loaded = {r[0] for r in con.execute("SELECT event_id FROM events").fetchall()}
        codes = con.execute("SELECT count(*) FROM identities").fetchone()[0]
    assert loaded == {"G0", "G1", "G2", "G3"}
    assert codes == 4 * 4                       # the short customer row made no identity
    secrets = ds.raw_identifiers() | {"CR09999"}
    assert not [s for r in rejects for s in secrets if s in " ".join(map(str, r))]


def test_a_short_row_keeps_empty_fields_and_quoted_newlines_apart(tmp_path: Path) -> None:
    """Empty trailing fields are values (NULL), not missing fields; a quoted newline still reads."""
    ws = make_workspace(tmp_path / "ws", make_dataset(2))
    (ws.root / "data" / "events.csv").write_text(
        EVENT_HEADER
        + "Q1,CR00000,visit,2025-03-01 10:00:00,,,\n"
        + 'Q2,CR00001,visit,2025-03-01 10:00:00,"",\"food\nand drinks\",""\n'
        + "Q3,CR00001,visit,2025-03-01 10:00:00,1,food\n", "utf-8")
    r = ws.ingest(["events"]).sources[0]
    assert (r.rows_read, r.rows_loaded, r.rejects_by_reason) == (3, 2, {"too few fields": 1})
    with ws.store() as con:
        rows = con.execute("SELECT event_id, amount, category, quantity FROM events ORDER BY 1").fetchall()
    assert rows == [("Q1", None, None, None), ("Q2", None, "food\nand drinks", None)]
    assert [(c, why) for _, _, _, c, why in _rejects(ws)] == [("quantity", "too few fields")]


def test_strict_rejects_a_short_row_and_writes_nothing(tmp_path: Path) -> None:
    ds = make_dataset(3)
    ws = make_workspace(tmp_path / "ws", ds)
    with open(ws.root / "data" / "events.csv", "a", encoding="utf-8") as fh:
        fh.write("S1,CR00001,visit,2025-03-01 10:00:00,2,food\n")
    with pytest.raises(RejectedRowsError) as info:
        ws.ingest(strict=True)
    n = len(ds.event_rows) + 2
    assert info.value.count == 1 and info.value.source == "events"
    assert info.value.first == f"data/events.csv:{n}: column 'quantity': too few fields"
    st = ws.status()
    assert (st["customers"], st["events"], st["identities"], st["rejects"]) == (0, 0, 0, 0)


def test_cli_ingest_json_counts_a_short_row_without_its_values(tmp_path: Path) -> None:
    ds = make_dataset(3)
    ws = make_workspace(tmp_path / "ws", ds)
    p = ds.people[1]
    with open(ws.root / "data" / "customers.csv", "a", encoding="utf-8") as fh:
        fh.write(f"CR00777;{p.email};{p.phone};{p.tax_id}\n")
    out = CliRunner().invoke(app, ["ingest", "--json"], env={"CDP_WORKSPACE": str(ws.root)})
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    customers = next(s for s in data["sources"] if s["source"] == "customers")
    assert customers["rows_rejected"] == 1 and customers["rejects_by_reason"] == {"too few fields": 1}
    assert customers["first_reject"] == "data/customers.csv:5: column 'full_name': too few fields"
    assert not [s for s in ds.raw_identifiers() if s in out.output]


def test_a_large_file_read_in_parallel_keeps_its_line_numbers(tmp_path: Path) -> None:
    """A file over 8 MB without quotes is read by DuckDB's parallel reader: its rejects still
    carry the right lines, and every good row loads once."""
    ds = make_dataset(4)
    ws = make_workspace(tmp_path / "ws", ds)
    n = 220_000
    bad = {17, 99_991, 150_003, n}                 # data row numbers (line = row + 1)
    with open(ws.root / "data" / "events.csv", "w", encoding="utf-8") as fh:
        fh.write(EVENT_HEADER)
        for i in range(1, n + 1):
            ts = "not-a-time" if i in bad else f"2025-03-{1 + i % 28:02d} 10:{i % 60:02d}:00"
            fh.write(f"P{i:07d},CR0000{i % 4},purchase,{ts},{i % 500}.25,dry_food_and_beverages,{i % 40}\n")
    assert (ws.root / "data" / "events.csv").stat().st_size > 8 << 20
    from connectors.sources.base import SourceState, reader_for

    reader = reader_for("events", ws.config.sources["events"], ws.root)
    (unit,) = reader.plan(SourceState())
    assert "parallel = true" in reader.select_sql(duckdb.connect(), unit)[0]   # the parallel reader is used
    r = ws.ingest(["events"]).sources[0]
    assert (r.rows_read, r.rows_loaded, r.rows_rejected) == (n, n - len(bad), len(bad))
    assert [(line, c, why) for _, _, line, c, why in _rejects(ws)] == [
        (i + 1, "ts", "not a timestamp") for i in sorted(bad)]
    assert r.first_reject == "data/events.csv:18: column 'ts': not a timestamp"
    with ws.store() as con:
        assert con.execute("SELECT count(DISTINCT event_id), count(*) FROM events").fetchone() == (n - len(bad),) * 2
