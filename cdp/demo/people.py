"""The people of the demo: customers.csv (the ERP's accounts) and loyalty_members.csv (the card system).

Tables built in the generator's in-memory DuckDB:

- ``person``: one synthetic person or business (name, city, business type, clean identifiers);
- ``acct``: one row of customers.csv; the last ``dup_accounts`` rows are second accounts of an
  existing person (same tax id and phone, phone typed differently, no email);
- ``loyalty``: one row of loyalty_members.csv; about 8% are people of customers.csv (same email
  or same phone in another format, name often typed without Turkish letters), a few are
  "chains" carrying one customer's email and another customer's phone, the rest are new people.

Identifiers are unique by construction (bijections of the person number), so the only shared
identifiers are the planted ones and the expected number of customers after identity resolution
is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from cdp.demo import data
from cdp.demo.sql import expand_weighted, sql_list, sql_str

__all__ = ["Plan", "build_people", "identity_links", "write_people"]

SIGNUP_FLOOR = date(2012, 1, 1)


@dataclass(frozen=True)
class Plan:
    """Sizes and dates of one generated dataset."""

    customers: int          # rows of customers.csv (accounts)
    seed: int
    end_date: date          # last day of history (inclusive)
    days: int = 730         # two years of history

    @property
    def dup_accounts(self) -> int:
        return max(1, round(self.customers * 0.005)) if self.customers >= 50 else 0

    @property
    def base_persons(self) -> int:
        return self.customers - self.dup_accounts

    @property
    def loyalty_rows(self) -> int:
        return max(10, round(self.customers * 0.12))

    @property
    def persons(self) -> int:
        return self.base_persons + self.loyalty_rows

    @property
    def start_date(self) -> date:
        return self.end_date - timedelta(days=self.days - 1)

    @property
    def ref_width(self) -> int:
        return max(7, len(str(self.customers)))

    @property
    def k_modulus(self) -> int:
        """Numbers in e-mail local parts: a permutation of [0, K) with K a power of ten."""
        k = 10_000
        while k < self.persons:
            k *= 10
        return k


def _offset(seed: int, salt: int, modulus: int) -> int:
    return (int(seed) * 2_654_435_761 + salt * 40_503) % modulus


def _city_table(con: duckdb.DuckDBPyConnection) -> None:
    rows = []
    base = 1000
    for idx, (city, weight, districts) in enumerate(data.CITIES):
        stores = max(1, weight // 15)
        rows.append(
            f"({idx}, {sql_str(city)}, {sql_list(districts)}, {city in data.TOURIST_CITIES}, {base}, {stores})"
        )
        base += stores
    con.execute(
        "CREATE OR REPLACE TABLE city (city_idx INTEGER, city VARCHAR, districts VARCHAR[], tourist BOOLEAN, "
        "store_base INTEGER, n_stores INTEGER)"
    )
    con.execute("INSERT INTO city VALUES " + ", ".join(rows))


def _business_table(con: duckdb.DuckDBPyConnection) -> None:
    rows = []
    for idx, (name, _w, basket, rate, tacir) in enumerate(data.BUSINESS_TYPES):
        cats = expand_weighted(list(zip(range(len(data.CATEGORIES)), data.CATEGORY_MIX[name])))
        rows.append(
            f"({idx}, {sql_str(name)}, {basket}, {rate}, {tacir}, {name in data.HORECA}, {sql_list(cats)})"
        )
    con.execute(
        "CREATE OR REPLACE TABLE business (bt_idx INTEGER, business_type VARCHAR, basket DOUBLE, rate DOUBLE, "
        "tacir_share DOUBLE, horeca BOOLEAN, cat_idx INTEGER[])"
    )
    con.execute("INSERT INTO business VALUES " + ", ".join(rows))


_PHONE_FORMATS = (
    # 0532 123 45 67
    "'0' || substr(d, 1, 3) || ' ' || substr(d, 4, 3) || ' ' || substr(d, 7, 2) || ' ' || substr(d, 9, 2)",
    # +90 (532) 123-45-67
    "'+90 (' || substr(d, 1, 3) || ') ' || substr(d, 4, 3) || '-' || substr(d, 7, 2) || '-' || substr(d, 9, 2)",
    "'90' || d",                                                            # 905321234567
    "d",                                                                    # 5321234567
    # +90 532 123 45 67
    "'+90 ' || substr(d, 1, 3) || ' ' || substr(d, 4, 3) || ' ' || substr(d, 7, 2) || ' ' || substr(d, 9, 2)",
    "'0' || substr(d, 1, 3) || '-' || substr(d, 4, 3) || '-' || substr(d, 7, 4)",   # 0532-123-4567
    "'+90' || d",                                                           # +905321234567
)
_PHONE_FORMAT_WEIGHTS = (30, 12, 12, 18, 10, 8, 10)


def _macros(con: duckdb.DuckDBPyConnection) -> None:
    fmt_idx = expand_weighted(list(zip(range(len(_PHONE_FORMATS)), _PHONE_FORMAT_WEIGHTS)))
    cases = " ".join(f"WHEN {i} THEN {expr}" for i, expr in enumerate(_PHONE_FORMATS))
    # phone_fmt(d, f): the 10-digit national number d written in format f
    con.execute(f"CREATE OR REPLACE MACRO phone_fmt(d, f) AS (CASE f {cases} END)")
    con.execute(f"CREATE OR REPLACE MACRO phone_style(x) AS pick({sql_list(fmt_idx)}, x)")
    # messy_email(e, x): how people type an address into a form
    con.execute(
        "CREATE OR REPLACE MACRO messy_email(e, x) AS (CASE "
        "WHEN x < 0.55 THEN e "
        "WHEN x < 0.70 THEN upper(left(e, 1)) || substr(e, 2) "
        "WHEN x < 0.78 THEN upper(e) "
        "WHEN x < 0.90 THEN '  ' || e || ' ' "
        "ELSE split_part(e, '@', 1) || '@' || upper(split_part(e, '@', 2)) END)"
    )
    # VKN (10-digit Turkish tax number): 9 digits and the official check digit
    con.execute(
        "CREATE OR REPLACE MACRO vkn_sum_term(d, i) AS (CASE "
        "WHEN (d + 10 - i) % 10 = 0 THEN 0 "
        "WHEN (((d + 10 - i) % 10) * (2 ** (10 - i))::BIGINT) % 9 = 0 THEN 9 "
        "ELSE (((d + 10 - i) % 10) * (2 ** (10 - i))::BIGINT) % 9 END)"
    )
    con.execute(
        "CREATE OR REPLACE MACRO vkn(s) AS s || ((10 - list_sum(list_transform(range(1, 10), "
        "lambda i: vkn_sum_term(s[i]::INTEGER, i))) % 10) % 10)::VARCHAR"
    )


def build_people(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Create the ``city``, ``business``, ``person``, ``acct`` and ``loyalty`` tables."""
    _city_table(con)
    _business_table(con)
    _macros(con)
    city_w = expand_weighted([(i, w) for i, (_c, w, _d) in enumerate(data.CITIES)])
    bt_w = expand_weighted([(i, b[1]) for i, b in enumerate(data.BUSINESS_TYPES)])
    domains = expand_weighted(list(data.EMAIL_DOMAINS))
    K = plan.k_modulus
    s = plan.seed
    con.execute(f"""
        CREATE OR REPLACE TABLE person AS
        WITH raw AS (
            SELECT p,
                pick({sql_list(data.FIRST_NAMES)}, u(p, 'fn')) AS fn,
                pick({sql_list(data.LAST_NAMES)}, u(p, 'ln')) AS ln,
                pick({sql_list(city_w)}, u(p, 'city'))::INTEGER AS city_idx,
                pick({sql_list(bt_w)}, u(p, 'bt'))::INTEGER AS bt_idx,
                u(p, 'has_email') < 0.86 AS has_email,
                u(p, 'has_phone') < 0.95 AS has_phone,
                pick({sql_list(data.MOBILE_PREFIXES)}, u(p, 'pfx'))
                    || lpad(((p * 4870847 + {_offset(s, 1, 10**7)}) % 10000000)::VARCHAR, 7, '0') AS phone10,
                ((p * 7654321 + {_offset(s, 2, K)}) % {K})::VARCHAR AS k,
                pick({sql_list(domains)}, u(p, 'dom')) AS domain,
                floor(u(p, 'lstyle') * 4)::INTEGER AS lstyle,
                (1 + floor(u(p, 'vkn0') * 9))::INTEGER::VARCHAR
                    || lpad(((p * 48271993 + {_offset(s, 3, 10**8)}) % 100000000)::VARCHAR, 8, '0') AS vkn9,
                u(p, 'tacir') AS x_tacir, u(p, 'notax') AS x_notax
            FROM range({plan.persons}) t(p)
        )
        SELECT raw.p, raw.fn, raw.ln, raw.fn || ' ' || raw.ln AS full_name, raw.city_idx, raw.bt_idx,
            raw.has_email, raw.has_phone, raw.phone10,
            CASE WHEN raw.domain = 'BUSINESS' THEN
                pick(['info', 'siparis', 'satinalma', 'muhasebe'], u(raw.p, 'bmail')) || '@'
                || lower(ascii_tr(raw.ln)) || pick(['gida', 'ticaret', 'market', 'restoran', 'turizm'],
                   u(raw.p, 'bdom')) || raw.k || '.com.tr'
            ELSE (CASE raw.lstyle
                    WHEN 0 THEN lower(ascii_tr(raw.fn)) || '.' || lower(ascii_tr(raw.ln))
                    WHEN 1 THEN lower(ascii_tr(raw.fn)) || lower(ascii_tr(raw.ln))
                    WHEN 2 THEN lower(left(ascii_tr(raw.fn), 1)) || lower(ascii_tr(raw.ln))
                    ELSE lower(ascii_tr(raw.fn)) || '_' || lower(ascii_tr(raw.ln)) END)
                || raw.k || '@' || raw.domain
            END AS email,
            CASE WHEN raw.x_tacir < b.tacir_share THEN 'TACIR' ELSE 'BIREYSEL' END AS recipient_type,
            CASE WHEN raw.x_tacir < b.tacir_share AND raw.x_notax >= 0.08 THEN vkn(raw.vkn9) ELSE '' END AS tax_id
        FROM raw JOIN business b USING (bt_idx)
        ORDER BY raw.p
    """)
    _build_accounts(con, plan)
    _build_loyalty(con, plan)


def _build_accounts(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    n_base, dups = plan.base_persons, plan.dup_accounts
    start = plan.start_date.isoformat()
    floor_days = (plan.start_date - SIGNUP_FLOOR).days
    con.execute(f"""
        CREATE OR REPLACE TABLE dup_origin AS
        SELECT p AS orig, {n_base} + row_number() OVER (ORDER BY u(p, 'dup_pick'), p) - 1 AS a
        FROM person WHERE p < {n_base} AND tax_id <> '' AND has_phone
        ORDER BY u(p, 'dup_pick'), p LIMIT {dups}
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE acct AS
        WITH base AS (
            SELECT a, coalesce(d.orig, a) AS p, d.orig IS NOT NULL AS is_dup
            FROM range({plan.customers}) t(a) LEFT JOIN dup_origin d USING (a)
        )
        SELECT base.a, base.p, base.is_dup,
            'BT' || lpad((base.a + 1)::VARCHAR, {plan.ref_width}, '0') AS customer_ref,
            CASE WHEN u(base.a, 'name_caps') < 0.05 THEN upper_tr(pe.full_name) ELSE pe.full_name END AS full_name,
            CASE WHEN base.is_dup OR NOT pe.has_email THEN '' ELSE messy_email(pe.email, u(base.a, 'emess')) END
                AS email,
            CASE WHEN NOT pe.has_phone THEN ''
                 WHEN base.is_dup THEN phone_fmt(pe.phone10, (phone_style(u(base.p, 'pfmt')) + 1
                                                  + floor(u(base.a, 'pfmt2') * 5)::INTEGER) % 7)
                 ELSE phone_fmt(pe.phone10, phone_style(u(base.a, 'pfmt'))) END AS phone,
            pe.tax_id,
            CASE WHEN u(base.a, 'city_mess') < 0.03 THEN ascii_tr(c.city)
                 WHEN u(base.a, 'city_mess') < 0.05 THEN upper_tr(c.city) ELSE c.city END AS city,
            pick(c.districts, u(base.a, 'district')) AS district,
            b.business_type, pe.recipient_type,
            CASE WHEN base.is_dup THEN DATE '{start}' + floor(u(base.a, 'sd') * {plan.days})::INTEGER
                 WHEN u(base.a, 'old') < 0.64 THEN DATE '{SIGNUP_FLOOR.isoformat()}'
                      + floor(u(base.a, 'sd') * {floor_days})::INTEGER
                 ELSE DATE '{start}' + floor(pow(u(base.a, 'sd'), 0.75) * {plan.days})::INTEGER
            END AS signup_date,
            CASE WHEN u(base.a, 'credit') < 0.25 THEN NULL
                 ELSE (round(b.basket * (1 + 4 * u(base.a, 'credit2')), -3))::BIGINT END AS credit_limit,
            pe.city_idx, pe.bt_idx, c.tourist, b.horeca
        FROM base JOIN person pe ON pe.p = base.p
        JOIN city c ON c.city_idx = pe.city_idx
        JOIN business b ON b.bt_idx = pe.bt_idx
        ORDER BY base.a
    """)


def _build_loyalty(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    n_base = plan.base_persons
    start_l = date(2019, 1, 1)
    span = (plan.end_date - start_l).days + 1
    con.execute(f"""
        CREATE OR REPLACE TABLE loyalty_match AS
        WITH ex AS (
            SELECT l, row_number() OVER (ORDER BY l) AS r
            FROM range({plan.loyalty_rows}) t(l) WHERE u(l, 'existing') < 0.08
        ), cand AS (
            SELECT p, row_number() OVER (ORDER BY u(p, 'loyal_pick'), p) AS r
            FROM person WHERE p < {n_base} AND has_email AND has_phone
        ), n AS (SELECT count(*) AS n FROM ex)
        SELECT ex.l, ca.p AS pa,
            CASE WHEN ex.r % 25 = 0 THEN cb.p END AS pb,
            CASE WHEN ex.r % 25 = 0 THEN 'chain' WHEN u(ex.l, 'mode') < 0.5 THEN 'email' ELSE 'phone' END AS mode
        FROM ex CROSS JOIN n
        JOIN cand ca ON ca.r = ex.r
        LEFT JOIN cand cb ON cb.r = n.n + ex.r // 25
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE loyalty AS
        WITH rows AS (
            SELECT l, {n_base} + l AS pn, m.pa, m.pb, coalesce(m.mode, 'new') AS mode
            FROM range({plan.loyalty_rows}) t(l) LEFT JOIN loyalty_match m USING (l)
        )
        SELECT r.l, r.mode, r.pa, r.pb,
            'BPK' || lpad(((r.l * 69069037 + {_offset(plan.seed, 4, 10**8)}) % 100000000)::VARCHAR, 8, '0') AS card_no,
            CASE WHEN r.mode = 'new' THEN n.full_name
                 WHEN u(r.l, 'nm') < 0.35 THEN ascii_tr(a.full_name)
                 WHEN u(r.l, 'nm') < 0.45 THEN upper_tr(a.full_name)
                 ELSE a.full_name END AS full_name,
            CASE WHEN r.mode IN ('email', 'chain') THEN messy_email(a.email, u(r.l, 'em'))
                 WHEN r.mode = 'phone' AND u(r.l, 'alt') < 0.5 THEN messy_email(n.email, u(r.l, 'em'))
                 WHEN r.mode = 'new' AND n.has_email AND u(r.l, 'lem') < 0.93 THEN messy_email(n.email, u(r.l, 'em'))
                 ELSE '' END AS email,
            CASE WHEN r.mode = 'chain' THEN phone_fmt(b.phone10, phone_style(u(r.l, 'pf')))
                 WHEN r.mode = 'phone' THEN phone_fmt(a.phone10, (phone_style(u(r.pa, 'pfmt')) + 1
                                                   + floor(u(r.l, 'pf') * 5)::INTEGER) % 7)
                 WHEN r.mode = 'email' AND u(r.l, 'ph') < 0.4 THEN phone_fmt(a.phone10, phone_style(u(r.l, 'pf')))
                 WHEN r.mode = 'new' AND n.has_phone THEN phone_fmt(n.phone10, phone_style(u(r.l, 'pf')))
                 ELSE '' END AS phone,
            c.city,
            DATE '{start_l.isoformat()}' + floor(u(r.l, 'since') * {span})::INTEGER AS loyalty_since
        FROM rows r
        JOIN person n ON n.p = r.pn
        LEFT JOIN person a ON a.p = r.pa
        LEFT JOIN person b ON b.p = r.pb
        JOIN city c ON c.city_idx = coalesce(a.city_idx, n.city_idx)
        ORDER BY r.l
    """)


def write_people(con: duckdb.DuckDBPyConnection, folder: Path, bad_signup: dict[int, str]) -> None:
    """Write customers.csv (``;``-separated) and loyalty_members.csv (``,``-separated)."""
    bad_cases = " ".join(f"WHEN {a} THEN {sql_str(v)}" for a, v in bad_signup.items())
    signup = f"CASE a {bad_cases} ELSE strftime(signup_date, '%Y-%m-%d') END" if bad_signup else \
        "strftime(signup_date, '%Y-%m-%d')"
    path = (folder / "customers.csv").as_posix()
    con.execute(f"""
        COPY (SELECT customer_ref, full_name, nullif(email, '') AS email, nullif(phone, '') AS phone,
                     nullif(tax_id, '') AS tax_id, city, district, business_type,
                     recipient_type, {signup} AS signup_date, credit_limit
              FROM acct ORDER BY a)
        TO {sql_str(path)} (FORMAT csv, HEADER true, DELIMITER ';')
    """)
    path = (folder / "loyalty_members.csv").as_posix()
    con.execute(f"""
        COPY (SELECT card_no, full_name, nullif(email, '') AS email, nullif(phone, '') AS phone, city, strftime(loyalty_since, '%Y-%m-%d') AS loyalty_since
              FROM loyalty ORDER BY l)
        TO {sql_str(path)} (FORMAT csv, HEADER true, DELIMITER ',')
    """)


def identity_links(con: duckdb.DuckDBPyConnection, plan: Plan) -> tuple[int, dict[str, int]]:
    """The expected number of customers after identity resolution, and the planted duplicates.

    Nodes are the rows of customers.csv and loyalty_members.csv; edges are the planted shared
    identifiers. Components are counted with a small union-find (edges are a few percent of rows).
    """
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    merged = 0

    def union(x: int, y: int) -> None:
        nonlocal merged
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[rx] = ry
            merged += 1

    dup_rows = con.execute("SELECT a, orig FROM dup_origin").fetchall()
    for a, orig in dup_rows:
        union(a, orig)
    offset = plan.customers  # loyalty row l is node customers + l
    loyal = con.execute("SELECT l, pa, pb, mode FROM loyalty_match").fetchall()
    modes = {"email": 0, "phone": 0, "chain": 0}
    for l, pa, pb, mode in loyal:
        modes[mode] += 1
        union(offset + l, pa)
        if pb is not None:
            union(offset + l, pb)
    nodes = plan.customers + plan.loyalty_rows
    return nodes - merged, {
        "customer_accounts_same_person": len(dup_rows),
        "loyalty_same_email": modes["email"],
        "loyalty_same_phone": modes["phone"],
        "loyalty_chains": modes["chain"],
    }
