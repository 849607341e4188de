"""Generated data and a plain-Python reference of DSL.md, independent of the compiler.

The data is small and built for the edges: ties at the top-N% border (amounts from a
short list), customers without events, null amounts, Turkish city spellings (composed,
decomposed, upper and lower case), events around month ends, at and after ``as_of``,
consents on several channels with expiry, opt-out basis and objections.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb

AS_OF = dt.datetime(2026, 3, 31)  # a bare date: 00:00, that day's events are not seen
AS_OF_UTC = AS_OF - dt.timedelta(hours=3)  # Europe/Istanbul is UTC+3
CITIES = [
    "İstanbul", "ISTANBUL", "istanbul", "Istanbul", "İSTANBUL", "ıstanbul", "Iğdır", "IĞDIR", "Igdir",
    "İzmir", "Ankara", unicodedata.normalize("NFD", "İstanbul"), None,
]
TYPES = ["restaurant", "cafe", "hotel", "market", "grocer", None]
AMOUNTS = [Decimal("100.00"), Decimal("250.50"), Decimal("1000.00"), None]
CATEGORIES = ["beverages", "dairy", "snacks", None]


@dataclass
class Event:
    customer_id: str
    event_type: str
    ts: dt.datetime
    amount: Decimal | None
    category: str | None
    channel: str | None  # a JSON property


@dataclass
class Customer:
    customer_id: str
    city: str | None
    business_type: str | None
    signup_date: dt.date | None
    credit_limit: Decimal | None
    events: list[Event] = field(default_factory=list)


@dataclass
class Data:
    customers: list[Customer]
    consents: list[tuple[str | None, str, str, str, str | None, dt.datetime, dt.datetime | None]]
    objections: list[tuple[str, str, dt.datetime]]
    builds: list[tuple[int, str, dt.datetime, list[str]]]
    merges: list[tuple[str, str]]


def _special_times() -> list[dt.datetime]:
    return [
        dt.datetime(2026, 2, 27, 23, 59, 59),  # just before 2026-03-31 minus 1 month
        dt.datetime(2026, 2, 28, 0, 0),  # exactly the clamped start
        dt.datetime(2026, 3, 1, 12, 0),
        dt.datetime(2026, 3, 30, 23, 59, 59),  # the day before as_of: days_since 1
        dt.datetime(2026, 3, 31, 0, 0),  # at as_of: never seen
        dt.datetime(2026, 4, 2, 9, 0),  # after as_of
        dt.datetime(2026, 1, 31, 10, 0),
        dt.datetime(2026, 1, 1, 0, 0),
        dt.datetime(2025, 3, 31, 0, 0),  # exactly 12 months before
        dt.datetime(2025, 3, 30, 23, 0),
    ]


def generate(seed: int = 7, n: int = 240) -> Data:
    rnd = random.Random(seed)
    customers: list[Customer] = []
    specials = _special_times()
    for i in range(n):
        cid = f"c{i:04d}"
        city = rnd.choice(CITIES)
        cust = Customer(
            cid,
            unicodedata.normalize("NFC", city) if city and i % 5 else city,
            rnd.choice(TYPES),
            dt.date(2025, 1, 1) + dt.timedelta(days=rnd.randrange(0, 480)) if i % 7 else None,
            Decimal(rnd.choice([0, 500, 1500, 5000])) if i % 6 else None,
        )
        if i % 9 != 0:  # every 9th customer has no events at all
            for _ in range(rnd.randrange(0, 14)):
                ts = (
                    rnd.choice(specials)
                    if rnd.random() < 0.3
                    else dt.datetime(2025, 1, 1) + dt.timedelta(minutes=rnd.randrange(0, 60 * 24 * 480))
                )
                etype = rnd.choice(["purchase", "purchase", "purchase", "visit", "return"])
                amount = rnd.choice(AMOUNTS) if etype != "visit" else None
                cust.events.append(
                    Event(cid, etype, ts, amount, rnd.choice(CATEGORIES), rnd.choice(["app", "store", None]))
                )
        customers.append(cust)
    consents = []
    for i, c in enumerate(customers):
        if i % 3 == 0:
            continue
        for _ in range(rnd.randrange(1, 4)):
            eff = AS_OF_UTC + dt.timedelta(hours=rnd.choice([-24 * 40, -24 * 5, -1, 0, 1, 24]))
            expires = rnd.choice([None, None, AS_OF_UTC, AS_OF_UTC + dt.timedelta(days=1), AS_OF_UTC - dt.timedelta(days=1)])
            consents.append((
                c.customer_id,
                rnd.choice(["email_marketing", "ads_targeting", "analytics"]),
                rnd.choice(["email", "sms", "ads", "any"]),
                rnd.choice(["granted", "granted", "withdrawn", "refused"]),
                rnd.choice(["consent", "consent", "opt_out", None]),
                eff,
                expires,
            ))
    consents.append((None, "email_marketing", "email", "granted", "consent", AS_OF_UTC - dt.timedelta(days=3), None))
    objections = [(c.customer_id, rnd.choice(["direct_marketing", "profiling"]),
                   AS_OF_UTC + dt.timedelta(hours=rnd.choice([-48, 0, 5])))
                  for i, c in enumerate(customers) if i % 11 == 1]
    ids = [c.customer_id for c in customers]
    builds = [
        (1, "gold", dt.datetime(2026, 2, 20), rnd.sample(ids, 30)),
        (2, "gold", dt.datetime(2026, 3, 1), rnd.sample(ids, 30)),  # latest at or before as_of - 30 days
        (3, "gold", dt.datetime(2026, 3, 1), rnd.sample(ids, 25) + ["gone1"]),  # same as_of, higher id wins
        (4, "gold", dt.datetime(2026, 3, 2), rnd.sample(ids, 30)),  # too late
    ]
    merges = [("gone1", "gone2"), ("gone2", ids[5])]
    return Data(customers, consents, objections, builds, merges)


def load_store(data: Data) -> duckdb.DuckDBPyConnection:
    from cdp.store import migrate

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    migrate(con)
    con.execute("ALTER TABLE customers ADD COLUMN city VARCHAR")
    con.execute("ALTER TABLE customers ADD COLUMN business_type VARCHAR")
    con.execute("ALTER TABLE customers ADD COLUMN signup_date DATE")
    con.execute("ALTER TABLE customers ADD COLUMN credit_limit DECIMAL(18, 2)")
    con.execute("ALTER TABLE events ADD COLUMN category VARCHAR")
    now = dt.datetime(2026, 1, 1)
    con.executemany(
        "INSERT INTO customers (customer_id, first_seen_at, updated_at, city, business_type, signup_date, credit_limit)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(c.customer_id, now, now, c.city, c.business_type, c.signup_date, c.credit_limit) for c in data.customers],
    )
    rows = []
    for c in data.customers:
        for j, e in enumerate(c.events):
            props = json.dumps({"channel": e.channel}) if e.channel else None
            rows.append((f"{c.customer_id}-{j}", c.customer_id, e.event_type, e.ts, e.amount, e.category, props))
    con.executemany(
        "INSERT INTO events (event_id, customer_id, event_type, ts, amount, category, properties) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    for seq, (cid, purpose, channel, status, basis, eff, exp) in enumerate(data.consents, start=1):
        con.execute(
            "INSERT INTO consent_events (seq, customer_id, purpose, channel, status, basis, effective_at, recorded_at,"
            " expires_at, payload_digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'd', 'p', 'h')",
            [seq, cid, purpose, channel, status, basis, eff, eff, exp],
        )
    con.executemany(
        "INSERT INTO objections (customer_id, scope, effective_at, recorded_at) VALUES (?, ?, ?, ?)",
        [(cid, scope, eff, eff) for cid, scope, eff in data.objections],
    )
    for build_id, seg, as_of, members in data.builds:
        con.execute(
            "INSERT INTO segment_builds (build_id, segment, as_of, built_at, members, control) VALUES (?, ?, ?, ?, ?, 0)",
            [build_id, seg, as_of, as_of, len(members)],
        )
        con.executemany(
            "INSERT INTO segment_members (build_id, segment, customer_id, control) VALUES (?, ?, ?, false)",
            [(build_id, seg, m) for m in members],
        )
    con.executemany(
        "INSERT INTO customer_merges (old_id, new_id, merged_at) VALUES (?, ?, ?)",
        [(a, b, now) for a, b in data.merges],
    )
    return con


# -- the reference semantics ---------------------------------------------------------
def seen(c: Customer, etype: str, start: dt.datetime | None = None, end: dt.datetime | None = None) -> list[Event]:
    """Events of a type in [start, end) and always before as_of."""
    out = []
    for e in c.events:
        if e.event_type != etype or e.ts >= AS_OF:
            continue
        if start is not None and e.ts < start:
            continue
        if end is not None and e.ts >= end:
            continue
        out.append(e)
    return out


def total(events: list[Event]) -> Decimal:
    return sum((e.amount for e in events if e.amount is not None), Decimal(0))


def avg(events: list[Event]) -> Decimal | None:
    vals = [e.amount for e in events if e.amount is not None]
    return sum(vals, Decimal(0)) / len(vals) if vals else None


def days_since_last(c: Customer, etype: str) -> int | None:
    evs = seen(c, etype)
    if not evs:
        return None
    return (AS_OF.date() - max(e.ts for e in evs).date()).days


def top_members(values: dict[str, Decimal | int | None], pct: int, top: bool = True) -> set[str]:
    """Ties share the lowest rank; rank <= ceil(pct * n / 100) with integers."""
    present = {k: v for k, v in values.items() if v is not None}
    n = len(present)
    limit = -(-pct * n // 100)
    out = set()
    for k, v in present.items():
        better = sum(1 for w in present.values() if (w > v if top else w < v))
        if better + 1 <= limit:
            out.add(k)
    return out


def fold(text: str) -> str:
    return text.translate(str.maketrans("Iİı", "iii")).lower()


def rfm(data: Data, window_start: dt.datetime) -> dict[str, tuple[int, int, int, str]]:
    """customer -> (R, F, M, segment name) by DSL.md's formula."""
    from dsl.compile.rfm import segment_name

    raw = {}
    for c in data.customers:
        f = len(seen(c, "purchase", window_start))
        if f:
            raw[c.customer_id] = (days_since_last(c, "purchase"), f, total(seen(c, "purchase", window_start)))
    n = len(raw)
    out = {}
    for cid, (r, f, m) in raw.items():
        kr = sum(1 for v in raw.values() if v[0] >= r)
        kf = sum(1 for v in raw.values() if v[1] <= f)
        km = sum(1 for v in raw.values() if v[2] <= m)
        sr, sf, sm = (-(-5 * k // n) for k in (kr, kf, km))
        out[cid] = (sr, sf, sm, segment_name(sr, sf))
    return out


def consented(data: Data, cid: str, purpose: str, channel: str) -> bool:
    chans = {channel, "any"}
    evs = [
        (eff, seq, status, basis, exp)
        for seq, (c, p, ch, status, basis, eff, exp) in enumerate(data.consents, start=1)
        if c == cid and p == purpose and ch in chans and eff <= AS_OF_UTC
    ]
    if not evs:
        return False
    _, _, status, basis, exp = max(evs)
    if status != "granted" or basis == "opt_out" or (exp is not None and not AS_OF_UTC < exp):
        return False
    return not any(c == cid and s == "direct_marketing" and eff <= AS_OF_UTC for c, s, eff in data.objections)


def in_control(segment: str, cid: str, pct: int) -> bool:
    digest = hashlib.sha256(f"{segment}:{cid}".encode()).hexdigest()
    return int(digest[:8], 16) % 10000 < pct * 100
