"""Fixtures of the foundation tests: a workspace with small generated source files."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cdp.workspace import Workspace

SOURCES_TOML = '''
[sources.customers]
kind = "csv"
path = "data/customers*.csv"
entity = "customers"
key = "customer_ref"
identifiers = { email = "email", phone = "phone", tax_id = "tax_id" }
contact = ["email", "phone", "full_name"]
traits = { city = "text", business_type = "text", signup_date = "date" }

[sources.events]
kind = "csv"
path = "data/events*.csv"
entity = "events"
key = "customer_ref"
event_id = "event_id"
event_type = "event_type"
timestamp = "ts"
amount = "amount"
properties = { category = "text", quantity = "integer" }

[sources.consents]
kind = "csv"
path = "data/consents*.csv"
entity = "consents"
identifier = { email = "email" }
channel = "type"
status = "status"
at = "consentDate"
'''

FIRST = ["Ayşe", "Mehmet", "İbrahim", "Çiğdem", "Gülşen", "Oğuz", "Ümit", "Işıl"]
LAST = ["Yılmaz", "Şahin", "Öztürk", "Çelik", "Doğan", "Güneş"]
CITIES = ["İstanbul", "Ankara", "İzmir", "Muğla", "Iğdır"]
TYPES = ["grocery", "market", "restaurant", "cafe", "hotel"]


@dataclass
class Person:
    ref: str
    email: str
    phone: str
    tax_id: str
    name: str
    city: str
    btype: str


@dataclass
class Dataset:
    people: list[Person] = field(default_factory=list)
    customer_rows: list[dict[str, str]] = field(default_factory=list)
    event_rows: list[dict[str, str]] = field(default_factory=list)
    consent_rows: list[dict[str, str]] = field(default_factory=list)

    def raw_identifiers(self) -> set[str]:
        """Every direct identifier in raw and normalized form (what must never be in the store)."""
        out: set[str] = set()
        for p in self.people:
            out |= {p.email, p.email.strip().lower(), p.phone, "+90" + p.phone[-10:], p.tax_id, p.name}
        for r in self.customer_rows:
            out |= {r["email"].strip(), r["phone"].strip(), r["full_name"]}
        return {v for v in out if v and len(v) > 5}


def messy_phone(rng: random.Random, national: str) -> str:
    fmt = rng.choice(["0{a} {b} {c} {d}", "+90 ({a}) {b}-{c}-{d}", "90{a}{b}{c}{d}", "{a}{b}{c}{d}", "0090 {a} {b}{c}{d}"])
    return fmt.format(a=national[:3], b=national[3:6], c=national[6:8], d=national[8:])


def make_dataset(n: int = 40, seed: int = 1, events_per: int = 3) -> Dataset:
    rng = random.Random(seed)
    ds = Dataset()
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        national = "5" + "".join(rng.choice("0123456789") for _ in range(9))
        p = Person(
            ref=f"CR{i:05d}",
            email=f"{first.lower().replace('ı', 'i')}.{i}@örnek-{seed}.com.tr",
            phone=national,
            tax_id=f"{rng.randrange(10**9, 10**10)}",
            name=f"{first} {last} {i}",
            city=rng.choice(CITIES),
            btype=rng.choice(TYPES),
        )
        ds.people.append(p)
        ds.customer_rows.append({
            "customer_ref": p.ref, "email": rng.choice([p.email, p.email.upper(), f"  {p.email} "]),
            "phone": messy_phone(rng, national), "tax_id": p.tax_id, "full_name": p.name, "city": p.city,
            "business_type": p.btype, "signup_date": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "internal_note": "drop me",
        })
        for k in range(events_per):
            ds.event_rows.append({
                "event_id": f"E{i:05d}-{k}", "customer_ref": p.ref, "event_type": rng.choice(["purchase", "visit"]),
                "ts": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} 10:{rng.randint(0, 59):02d}:00",
                "amount": f"{rng.uniform(1, 500):.2f}", "category": rng.choice(["food", "drinks"]),
                "quantity": str(rng.randint(1, 9)),
            })
        if i % 3 == 0:
            ds.consent_rows.append({"email": p.email, "type": "EPOSTA", "status": "ONAY",
                                    "consentDate": "2025-01-10 09:00:00"})
    return ds


def write_csv(path: Path, rows: list[dict[str, str]], delimiter: str = ",", bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
        if not rows:
            return
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        w.writeheader()
        w.writerows(rows)


_TEMPLATE: list[Path] = []


def _template() -> Path:
    """One initialized workspace per test session (init runs every area's migrations), copied
    by each test: the copies share the test master key and therefore the pseudonym keys."""
    if not _TEMPLATE:
        import atexit
        import shutil
        import tempfile

        base = Path(tempfile.mkdtemp(prefix="cdp-foundation-"))
        atexit.register(shutil.rmtree, base, True)
        _TEMPLATE.append(Workspace.init(base / "template").root)
    return _TEMPLATE[0]


def make_workspace(root: Path, ds: Dataset, extra_toml: str = SOURCES_TOML) -> Workspace:
    import shutil

    shutil.copytree(_template(), root)
    ws = Workspace(root)
    with open(ws.config_path, "a", encoding="utf-8") as fh:
        fh.write(extra_toml)
    write_csv(root / "data" / "customers.csv", ds.customer_rows, delimiter=";", bom=True)
    write_csv(root / "data" / "events.csv", ds.event_rows)
    write_csv(root / "data" / "consents.csv", ds.consent_rows)
    return Workspace(root)


@pytest.fixture
def dataset() -> Dataset:
    return make_dataset()


@pytest.fixture
def workspace(tmp_path: Path, dataset: Dataset) -> Workspace:
    return make_workspace(tmp_path / "ws", dataset)
