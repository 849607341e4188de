"""A new user's workspace, built only the way DSL.md, PRIVACY.md and the source contract describe.

Every scenario module makes one workspace (module scope): a ``cdp.toml`` with CSV sources,
hand-written CSV rows, rule files under ``segments/``, then ``cdp ingest`` through the CLI.
Customers carry a distinctive ``code`` text trait, so members (pseudonymous ids) map back to
the codes the tests write literally.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pytest
from typer.testing import CliRunner

KEY = base64.b64encode(b"k" * 32).decode()
TZ = "Europe/Istanbul"

CONFIG = """\
[workspace]
name = "conformance"
timezone = "{tz}"

[sources.customers]
kind = "csv"
path = "data/customers.csv"
entity = "customers"
key = "customer_ref"
identifiers = {{ email = "email", phone = "phone", tax_id = "tax_id" }}
contact = ["email", "phone", "full_name"]
traits = {{ code = "text", city = "text", business_type = "text", signup_date = "date", credit = "number", vip = "boolean" }}

[sources.events]
kind = "csv"
path = "data/events.csv"
entity = "events"
key = "customer_ref"
event_id = "event_id"
event_type = "event_type"
timestamp = "ts"
amount = "amount"
properties = {{ category = "text", quantity = "integer" }}

[sources.consents]
kind = "csv"
path = "data/consents.csv"
entity = "consents"
key = "customer_ref"
purpose = "purpose"
channel = "channel"
status = "status"
at = "at"
expires = "expires"
basis = "basis"
recipient_type = "recipient_type"
"""

CUSTOMER_COLUMNS = ["customer_ref", "email", "phone", "full_name", "tax_id", "code", "city",
                    "business_type", "signup_date", "credit", "vip"]
EVENT_COLUMNS = ["event_id", "customer_ref", "event_type", "ts", "amount", "category", "quantity"]
CONSENT_COLUMNS = ["customer_ref", "purpose", "channel", "status", "at", "expires", "basis",
                   "recipient_type"]


def email_of(code: str) -> str:
    return f"kisi.{code.lower()}@ornek-toptan.com.tr"


def phone_of(index: int) -> str:
    return f"0532 {400 + index:03d} {10 + index % 90:02d} {20 + index % 80:02d}"


def tax_of(index: int) -> str:
    return f"{4829163057 + index * 7919:010d}"  # no zero runs: padded hex must not match


def name_of(code: str) -> str:
    return f"Şükrü Çağlayanoğlu{code}"


def customer(code: str, **traits: Any) -> dict[str, Any]:
    """A customers.csv row; identifiers derived from the code so tests can find them."""
    return {"code": code, **traits}


@dataclass
class Ws:
    """A workspace on disk plus helpers that drive it through the CLI."""

    root: Path
    runner: CliRunner
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {"CDP_WORKSPACE": str(self.root), "CDP_MASTER_KEY": KEY, "CDP_STORE_WAIT": "5",
                **self.extra_env}

    def cli(self, *args: str) -> Any:
        return self.runner.invoke(_app(), list(args), env=self.env)

    def ok(self, *args: str) -> Any:
        res = self.cli(*args)
        assert res.exit_code == 0, f"cdp {' '.join(args)} failed:\n{res.stdout}\n{_stderr(res)}"
        return res

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args).stdout)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(self.root / ".cdp" / "store.duckdb"), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()

    def codes(self) -> dict[str, str]:
        """customer_id -> code for every current customer."""
        return dict(self.query("SELECT customer_id, code FROM customers"))

    def build(self, as_of: str, *names: str, engine: str = "duckdb") -> dict[str, set[str]]:
        """`cdp segment build --as-of ... --json`; members (control included) as codes."""
        out = self.json("segment", "build", *names, "--as-of", as_of, "--engine", engine, "--json")
        return {seg: self.members(info["build_id"]) for seg, info in out.items()}

    def members(self, build_id: int, control: bool | None = None) -> set[str]:
        sql = ("SELECT c.code FROM segment_members m JOIN customers c USING (customer_id) "
               "WHERE m.build_id = ?")
        params: list[Any] = [build_id]
        if control is not None:
            sql += " AND m.control = ?"
            params.append(control)
        return {r[0] for r in self.query(sql, params)}

    def member_rows(self, build_id: int) -> list[tuple[str, str, bool]]:
        return self.query(
            "SELECT m.customer_id, c.code, m.control FROM segment_members m "
            "JOIN customers c USING (customer_id) WHERE m.build_id = ?", [build_id])

    def preview(self, name: str, as_of: str) -> set[str]:
        out = self.json("segment", "preview", name, "--as-of", as_of, "--sample", "1000", "--json")
        codes = self.codes()
        got = {codes[s["customer_id"]] for s in out["sample"]}
        assert out["size"] == len(got), out
        return got


def _app() -> Any:
    from cdp.cli import app

    return app


def _stderr(res: Any) -> str:
    try:
        return str(res.stderr)
    except ValueError:
        return ""


def stderr_of(res: Any) -> str:
    """Whatever the CLI printed for the user (stderr, else the combined output)."""
    return _stderr(res) + (res.output if hasattr(res, "output") else "")


def _write_csv(path: Path, columns: list[str], rows: Sequence[Mapping[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})


def make_workspace(
    root: Path,
    customers: Sequence[Mapping[str, Any]],
    events: Sequence[Mapping[str, Any]] = (),
    consents: Sequence[Mapping[str, Any]] = (),
    segments: Mapping[str, str] | None = None,
    ingest: bool = True,
    tz: str = TZ,
) -> Ws:
    """Write cdp.toml, the CSV files and rule files under ``root``; `cdp init` + `cdp ingest`."""
    runner = CliRunner()
    ws = Ws(root, runner)
    root.mkdir(parents=True, exist_ok=True)
    res = runner.invoke(_app(), ["init", str(root)], env={"CDP_MASTER_KEY": KEY})
    assert res.exit_code == 0, res.output
    config = CONFIG.format(tz=tz)
    head, rest = config.split("[sources.events]")
    events_part, consents_part = rest.split("[sources.consents]")
    # a header-only CSV crashes ingestion (reported): leave out sources without rows
    config = head + ("[sources.events]" + events_part if events else "") + (
        "[sources.consents]" + consents_part if consents else "")
    (root / "cdp.toml").write_text(config, encoding="utf-8")
    data = root / "data"
    data.mkdir(exist_ok=True)
    rows = []
    for i, c in enumerate(customers):
        code = c["code"]
        row = {"customer_ref": f"REF-{code}", "email": email_of(code), "phone": phone_of(i),
               "full_name": name_of(code), "tax_id": tax_of(i)}
        row.update(c)
        rows.append(row)
    _write_csv(data / "customers.csv", CUSTOMER_COLUMNS, rows)
    ev = []
    for i, e in enumerate(events):
        row = {"event_id": f"ev{i:05d}", "event_type": "purchase", **e}
        row["customer_ref"] = f"REF-{row.pop('code')}"
        ev.append(row)
    _write_csv(data / "events.csv", EVENT_COLUMNS, ev)
    co = []
    for c in consents:
        row = {"basis": "consent", "recipient_type": "BIREYSEL", **c}
        row["customer_ref"] = f"REF-{row.pop('code')}"
        co.append(row)
    _write_csv(data / "consents.csv", CONSENT_COLUMNS, co)
    seg_dir = root / "segments"
    seg_dir.mkdir(exist_ok=True)
    for name, text in (segments or {}).items():
        path = seg_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    if ingest:
        ws.ok("ingest", "--json")
    return ws


def write_rules(ws: Ws, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = ws.root / "segments" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    yield tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
