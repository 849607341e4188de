"""Identity resolution: union-find over identifier pseudonyms (PRIVACY.md §1).

Every row links the identifiers it carries (email, phone, tax id, source keys); each
known identifier links to its customer. A connected component is one person:

* no known customer: a new one, ``customer_id = Pseudonymizer.customer_id(min id_hash)``,
  so the same data gives the same ids in any row order;
* one known customer: the new identifiers join it;
* several: they merge into the oldest (first seen, then smallest id); the others'
  identities, events, consents, vault entries, segment history and every other table with
  a ``customer_id`` follow, and ``customer_merges`` records each merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from cdp.ingest.values import ident
from privacy.pseudonym import Pseudonymizer

__all__ = ["Resolution", "apply_merges", "apply_resolution", "resolve"]

_CUSTOMER_INTERNAL = ("customer_id", "first_seen_at", "updated_at")
# handled on their own: the merge itself, the vault (re-encrypted), the ledger (payload-bound)
_SPECIAL_TABLES = {"customers", "customer_merges", "vault", "consent_events"}


@dataclass
class Resolution:
    """The outcome for one batch of rows."""

    mapping: dict[str, str] = field(default_factory=dict)            # id_hash -> customer_id
    new_identities: list[tuple[str, str, str]] = field(default_factory=list)   # (id_hash, kind, customer_id)
    new_customers: list[str] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)      # (old_id, surviving id)


class _UnionFind:
    __slots__ = ("parent",)

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = parent.setdefault(x, x)
        if root == x:
            return x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                ra, rb = rb, ra
            self.parent[ra] = rb


def _existing(con: Any, hashes: list[str]) -> dict[str, str]:
    if not hashes:
        return {}
    con.register("_res_hashes", pa.table({"id_hash": pa.array(hashes, pa.string())}))
    try:
        tbl = con.execute(
            "SELECT i.id_hash, i.customer_id FROM identities i JOIN _res_hashes h USING (id_hash)"
        ).to_arrow_table()
    finally:
        con.unregister("_res_hashes")
    return dict(zip(tbl.column(0).to_pylist(), tbl.column(1).to_pylist()))


def _first_seen(con: Any, ids: Iterable[str]) -> dict[str, datetime]:
    ids = list(ids)
    if not ids:
        return {}
    con.register("_res_ids", pa.table({"customer_id": pa.array(ids, pa.string())}))
    try:
        rows = con.execute(
            "SELECT c.customer_id, c.first_seen_at FROM customers c JOIN _res_ids USING (customer_id)"
        ).fetchall()
    finally:
        con.unregister("_res_ids")
    return dict(rows)


def resolve(
    con: Any, pz: Pseudonymizer, rows: Sequence[Sequence[str | None]], kinds: dict[str, str]
) -> Resolution:
    """Resolve the identifier tuples of a batch (one tuple per distinct row) to customers."""
    uf = _UnionFind()
    hashes: set[str] = set()
    for row in rows:
        present = [h for h in row if h is not None]
        if not present:
            continue
        hashes.update(present)
        first = present[0]
        uf.find(first)
        for h in present[1:]:
            uf.union(first, h)
    existing = _existing(con, list(hashes))
    for h, cid in existing.items():
        uf.union(h, "\x00" + cid)  # customer nodes sort first, so they become roots

    comps: dict[str, tuple[list[str], set[str]]] = {}
    for h in hashes:
        root = uf.find(h)
        entry = comps.get(root)
        if entry is None:
            entry = comps[root] = ([], set())
        entry[0].append(h)
        cid = existing.get(h)
        if cid is not None:
            entry[1].add(cid)

    multi = [c for _, c in comps.values() if len(c) > 1]
    seen = _first_seen(con, {cid for c in multi for cid in c}) if multi else {}
    res = Resolution()
    for members, customers in comps.values():
        if not customers:
            target = pz.customer_id(min(members))
            res.new_customers.append(target)
        elif len(customers) == 1:
            target = next(iter(customers))
        else:
            ordered = sorted(customers, key=lambda c: (seen.get(c) or datetime.max, c))
            target = ordered[0]
            res.merges.extend((old, target) for old in ordered[1:])
        for h in members:
            res.mapping[h] = target
            if h not in existing:
                res.new_identities.append((h, kinds.get(h, "unknown"), target))
    return res


def apply_resolution(con: Any, res: Resolution, *, source: str, now: datetime, vault: Any) -> None:
    """Write new customers and identities, then apply merges."""
    if res.new_customers:
        con.register("_new_customers", pa.table({"customer_id": pa.array(res.new_customers, pa.string())}))
        try:
            con.execute(
                "INSERT INTO customers (customer_id, first_seen_at, updated_at) "
                "SELECT customer_id, ?, ? FROM _new_customers "
                "WHERE customer_id NOT IN (SELECT customer_id FROM customers)",
                [now, now],
            )
        finally:
            con.unregister("_new_customers")
    if res.new_identities:
        h, k, c = zip(*res.new_identities)
        con.register(
            "_new_ids",
            pa.table({"id_hash": pa.array(h, pa.string()), "kind": pa.array(k, pa.string()),
                      "customer_id": pa.array(c, pa.string())}),
        )
        try:
            con.execute(
                "INSERT INTO identities (id_hash, kind, customer_id, source, first_seen_at) "
                "SELECT id_hash, kind, customer_id, ?, ? FROM _new_ids",
                [source, now],
            )
        finally:
            con.unregister("_new_ids")
    if res.merges:
        apply_merges(con, res.merges, now=now, vault=vault)


def _customer_tables(con: Any) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.columns WHERE column_name = 'customer_id' "
        "AND table_schema = 'main' AND table_name IN (SELECT table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' AND table_schema = 'main')"
    ).fetchall()
    return sorted(r[0] for r in rows if r[0] not in _SPECIAL_TABLES)


def _key_columns(con: Any, table: str) -> list[str] | None:
    """The other columns of a primary/unique key that includes customer_id, if any."""
    rows = con.execute(
        "SELECT constraint_column_names FROM duckdb_constraints() "
        "WHERE table_name = ? AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')",
        [table],
    ).fetchall()
    for (cols,) in rows:
        if "customer_id" in cols:
            return [c for c in cols if c != "customer_id"]
    return None


def apply_merges(con: Any, merges: list[tuple[str, str]], *, now: datetime, vault: Any) -> None:
    """Merge each ``old`` customer into its survivor, everywhere (inside the caller's transaction)."""
    olds, news = zip(*merges)
    con.register("_merge", pa.table({"old_id": pa.array(olds, pa.string()), "new_id": pa.array(news, pa.string())}))
    try:
        con.execute("INSERT INTO customer_merges SELECT old_id, new_id, ? FROM _merge", [now])
        # the survivor keeps its traits and fills the gaps from the merged customers
        traits = [
            r[0]
            for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers' "
                "AND table_schema = 'main' ORDER BY ordinal_position"
            ).fetchall()
            if r[0] not in _CUSTOMER_INTERNAL
        ]
        sets = ", ".join(f"{ident(t)} = coalesce(customers.{ident(t)}, o.{ident(t)})" for t in traits)
        aggs = ", ".join(f"first(c.{ident(t)}) FILTER (WHERE c.{ident(t)} IS NOT NULL) AS {ident(t)}" for t in traits)
        con.execute(
            f"""
            UPDATE customers SET {sets + ', ' if sets else ''}
                first_seen_at = least(customers.first_seen_at, o.first_seen_at), updated_at = ?
            FROM (SELECT m.new_id, min(c.first_seen_at) AS first_seen_at{', ' + aggs if aggs else ''}
                  FROM _merge m JOIN customers c ON c.customer_id = m.old_id GROUP BY m.new_id) o
            WHERE customers.customer_id = o.new_id
            """,
            [now],
        )
        con.execute("DELETE FROM customers WHERE customer_id IN (SELECT old_id FROM _merge)")
        for table in _customer_tables(con):
            t = ident(table)
            keys = _key_columns(con, table)
            if keys:
                same = " AND ".join(f"x.{ident(k)} IS NOT DISTINCT FROM {t}.{ident(k)}" for k in keys)
                con.execute(
                    f"UPDATE {t} SET customer_id = m.new_id FROM _merge m WHERE {t}.customer_id = m.old_id "
                    f"AND NOT EXISTS (SELECT 1 FROM {t} x WHERE x.customer_id = m.new_id AND {same})"
                )
                con.execute(f"DELETE FROM {t} WHERE customer_id IN (SELECT old_id FROM _merge)")
            else:
                con.execute(
                    f"UPDATE {t} SET customer_id = m.new_id FROM _merge m WHERE {t}.customer_id = m.old_id"
                )
        # consent events recorded by identifier carry no customer_id in their signed payload:
        # their link follows the merge; events whose payload names the customer stay as proof
        con.execute(
            "UPDATE consent_events SET customer_id = m.new_id FROM _merge m "
            "WHERE consent_events.customer_id = m.old_id "
            "AND (payload IS NULL OR json_extract_string(payload, '$.customer_id') IS NULL)"
        )
    finally:
        con.unregister("_merge")
    vault.move_many(merges)
