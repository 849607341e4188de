"""Fixtures of the privacy tests: small workspaces built directly in the store.

Customers are written the way ingestion writes them (keyed pseudonyms in ``identities``,
contact points in the vault, the surrogate id from the smallest id_hash) so these tests
do not depend on the ingestion code.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cdp.workspace import Workspace

BASE_TOML = """
[workspace]
name = "privacy-test"
timezone = "Europe/Istanbul"

[privacy]
tacir_opt_out = false
controller = "Test Toptan A.Ş."

[privacy.data_purposes]
city = ["email_marketing", "ads_targeting", "analytics"]

[destinations.meta_tr]
kind = "meta"
audience_id = "1"
country = "US"
transfer = { basis = "standard_contract", signed_at = 2025-03-10, notified_at = 2025-03-14 }

[destinations.mail]
kind = "mailchimp"
audience_id = "a1"
country = "US"
min_audience_size = 1
transfer = { basis = "standard_contract", signed_at = 2025-03-10, notified_at = 2025-03-14 }

[destinations.hook]
kind = "webhook"
url = "https://hooks.example.tr/cdp"
country = "TR"
"""


@dataclass
class Person:
    customer_id: str
    email: str
    phone: str | None
    id_hashes: list[str]


class Shop:
    """A workspace plus helpers that write customers, events, builds and sync state by SQL."""

    def __init__(self, root: Path, extra_toml: str = "") -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "cdp.toml").write_text(BASE_TOML + extra_toml, encoding="utf-8")
        self.ws = Workspace(root)
        self.now = datetime(2026, 3, 1, 9, 0, 0)

    def add_customer(self, email: str, phone: str | None = None, *, city: str = "İstanbul", events: int = 2,
                     tax_id: str | None = None, first_seen: datetime | None = None) -> Person:
        from privacy.keys import KeyStore
        from privacy.pseudonym import Pseudonymizer
        from privacy.vault import Vault

        first_seen = first_seen or datetime(2025, 1, 1)
        with KeyStore.open(self.ws.state_dir) as ks, self.ws.store() as con:
            pz = Pseudonymizer.from_keystore(ks)
            idents = [("email", email)] + ([("phone", phone)] if phone else []) + ([("tax_id", tax_id)] if tax_id else [])
            hashes = [(k, pz.hash_identifier(k, v)) for k, v in idents]
            cid = pz.customer_id(min(h for _, h in hashes))
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'").fetchall()]
            if "city" not in cols:
                con.execute("ALTER TABLE customers ADD COLUMN city VARCHAR")
            con.execute("INSERT INTO customers (customer_id, first_seen_at, updated_at, city) VALUES (?, ?, ?, ?)",
                        [cid, first_seen, first_seen, city])
            for kind, h in hashes:
                con.execute("INSERT INTO identities VALUES (?, ?, ?, 'crm', ?)", [h, kind, cid, first_seen])
            Vault(con, ks).put_many([(cid, "email", email)] + ([(cid, "phone", phone)] if phone else []))
            for i in range(events):
                con.execute(
                    "INSERT INTO events (event_id, customer_id, event_type, ts, amount, source, properties) "
                    "VALUES (?, ?, 'purchase', ?, ?, 'pos', '{}')",
                    [f"{cid}-e{i}", cid, first_seen + timedelta(days=30 * i + 1), 100 + i])
        return Person(cid, email, phone, [h for _, h in hashes])

    def build(self, segment: str, members: list[str], *, control: set[str] | None = None,
              purposes: list[str] | None = None) -> int:
        with self.ws.store() as con:
            bid = int(con.execute("SELECT nextval('build_seq')").fetchone()[0])
            con.execute(
                "INSERT INTO segment_builds (build_id, segment, as_of, built_at, purposes, members, control) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [bid, segment, self.now, self.now, purposes or ["email_marketing", "ads_targeting"], len(members),
                 len(control or ())])
            for cid in members:
                con.execute("INSERT INTO segment_members VALUES (?, ?, ?, ?)",
                            [bid, segment, cid, cid in (control or set())])
        return bid

    def synced(self, person: Person, destination: str = "mail", sync: str = "s1") -> None:
        with self.ws.store() as con:
            con.execute("INSERT INTO sync_state VALUES (?, ?, ?, ?, ?)",
                        [sync, destination, person.customer_id, None, self.now])

    def sql(self, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.ws.store() as con:
            return con.execute(query, params or []).fetchall()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    yield Shop(tmp_path / "shop")
