"""consents.csv (our own consent records) and iys_export.json (the İYS view of the same brand).

consents.csv: per account and purpose, most customers with the right contact point grant it
at or after signup, about 7% refuse it, and about 9% of grants are withdrawn later (a second,
later row). About 15% of rows are written the İYS way (ONAY / RET instead of granted /
refused / withdrawn). A few ads_targeting grants carry an expiry date (some already expired).

iys_export.json: the commercial-message permissions İYS holds for the brand (EPOSTA, MESAJ,
ARAMA), in İYS's shape (``recipient``, ``recipientType``, ``type``, ``source``, ``status``,
``consentDate`` as ``YYYY-MM-DD HH:mm:ss`` Turkish time). Some customers refused (RET) in İYS
after granting in our records, and a few recipients are unknown to every source (pending).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from cdp.demo import data
from cdp.demo.people import Plan
from cdp.demo.sql import expand_weighted, sql_list, sql_str

__all__ = ["write_consents", "write_iys"]

# consents of older customers were collected when KVKK notices and İYS arrived (from mid-2020)
_CONSENT_FLOOR = date(2020, 6, 1)


def write_consents(con: duckdb.DuckDBPyConnection, plan: Plan, path: Path) -> dict[str, int]:
    """COPY consents.csv; returns row counts by status."""
    purposes = [p for p, *_ in data.PURPOSES]
    channels = [c for _p, c, *_ in data.PURPOSES]
    shares = [s for *_x, s in data.PURPOSES]
    sources = expand_weighted(list(data.IYS_SOURCES))
    end = plan.end_date.isoformat()
    con.execute(f"""
        CREATE OR REPLACE TABLE consent_rows AS
        WITH base AS (
            SELECT a.a, a.customer_ref, a.recipient_type, a.email <> '' AS has_email, a.phone <> '' AS has_phone,
                CASE WHEN a.signup_date >= DATE '{_CONSENT_FLOOR.isoformat()}' THEN a.signup_date
                     ELSE DATE '{_CONSENT_FLOOR.isoformat()}' + floor(u(a.a, 'consent_since') * 900)::INTEGER END AS since,
                unnest(range(4)) AS k
            FROM acct a
        ), d AS (
            SELECT base.*, a * 4 + k AS c, {sql_list(purposes)}[k + 1] AS purpose,
                {sql_list(channels)}[k + 1] AS channel,
                CASE k WHEN 0 THEN has_email WHEN 3 THEN has_email OR has_phone ELSE has_phone END AS reachable,
                {sql_list(shares)}[k + 1] AS share
            FROM base
        ), g AS (
            SELECT d.*, u(c, 'consent_decide') AS x,
                least(DATE '{end}', since + floor(u(c, 'consent_delay') * 45)::INTEGER)::TIMESTAMP
                    + to_seconds(((8 + floor(u(c, 'consent_h') * 12)) * 3600 + floor(u(c, 'consent_m') * 3600))::BIGINT) AS at1,
                u(c, 'consent_iys') < 0.15 AND k <> 3 AS iys_style,
                pick({sql_list(sources)}, u(c, 'consent_src')) AS source
            FROM d WHERE reachable
        ), r AS (
            SELECT g.*,
                CASE WHEN x < share THEN 'granted' WHEN x > 0.93 THEN 'refused' END AS status1,
                x < share AND u(c, 'consent_withdraw') < 0.09 AS withdrawn
            FROM g
        )
        SELECT c, customer_ref, purpose, channel, recipient_type, source, iys_style, n AS row_no,
            CASE WHEN n = 0 THEN at1 ELSE at1 + to_seconds(floor(u(c, 'consent_wd') * greatest(
                 3600, epoch(TIMESTAMP '{end} 20:00:00') - epoch(at1)))::BIGINT) END AS at_ts,
            CASE WHEN n = 1 THEN 'withdrawn' ELSE status1 END AS status,
            CASE WHEN n = 0 AND status1 = 'granted' AND purpose = 'ads_targeting' AND u(c, 'consent_exp') < 0.1
                 THEN at1 + INTERVAL 730 DAY END AS expires
        FROM r, unnest(CASE WHEN withdrawn THEN [0, 1] ELSE [0] END) AS t(n)
        WHERE status1 IS NOT NULL
    """)
    con.execute(f"""
        COPY (
            SELECT customer_ref, purpose, channel,
                CASE WHEN iys_style AND status = 'granted' THEN 'ONAY'
                     WHEN iys_style THEN 'RET' ELSE status END AS status,
                strftime(at_ts, '%Y-%m-%d %H:%M:%S') AS "at",
                strftime(expires, '%Y-%m-%d %H:%M:%S') AS expires,
                'consent' AS basis, recipient_type,
                CASE WHEN channel <> 'ads' THEN source ELSE 'CDP_WEB' END AS source,
                CASE WHEN at_ts < TIMESTAMP '2022-01-01' THEN '2020-06'
                     WHEN at_ts < TIMESTAMP '2024-06-01' THEN '2022-01'
                     WHEN at_ts < TIMESTAMP '2025-01-01' THEN '2024-06' ELSE '2025-01' END AS notice_version
            FROM consent_rows ORDER BY c, row_no
        ) TO {sql_str(path.as_posix())} (FORMAT csv, HEADER true, DELIMITER ',')
    """)
    rows = con.execute("SELECT status, count(*) FROM consent_rows GROUP BY status").fetchall()
    return {str(s): int(n) for s, n in rows}


def write_iys(con: duckdb.DuckDBPyConnection, plan: Plan, path: Path) -> int:
    """COPY iys_export.json (a JSON array); returns the number of records."""
    sources = expand_weighted([(s, w) for s, w in data.IYS_SOURCES if s != "HS_2015"])
    end = plan.end_date.isoformat()
    unknown = max(3, plan.customers // 500)
    con.execute(f"""
        COPY (
            WITH known AS (
                SELECT a.a, pe.email AS email, '+90' || pe.phone10 AS phone, pe.has_email, pe.has_phone,
                    a.recipient_type, greatest(a.signup_date, DATE '{_CONSENT_FLOOR.isoformat()}') AS since, t.k
                FROM acct a JOIN person pe ON pe.p = a.p, unnest(range(3)) AS t(k)
                WHERE NOT a.is_dup
            ), unknown AS (
                SELECT -1 - n AS a, '' AS email,
                    '+90' || pick({sql_list(data.MOBILE_PREFIXES)}, u(n, 'iys_unknown'))
                        || lpad(((n * 4870847 + 1234567) % 10000000)::VARCHAR, 7, '0') AS phone,
                    false AS has_email, true AS has_phone, 'BIREYSEL' AS recipient_type,
                    DATE '{plan.start_date.isoformat()}' AS since, 1 AS k
                FROM range({unknown}) t(n)
            ), recs AS (
                SELECT * FROM known
                WHERE (k = 0 AND has_email AND u(a * 3 + k, 'iys_pick') < 0.25)
                   OR (k = 1 AND has_phone AND u(a * 3 + k, 'iys_pick') < 0.35)
                   OR (k = 2 AND has_phone AND u(a * 3 + k, 'iys_pick') < 0.12)
                UNION ALL SELECT * FROM unknown
            )
            SELECT
                CASE WHEN k = 0 THEN email ELSE phone END AS recipient,
                recipient_type AS recipientType,
                ['EPOSTA', 'MESAJ', 'ARAMA'][k + 1] AS type,
                pick({sql_list(sources)}, u(a * 3 + k, 'iys_src')) AS source,
                CASE WHEN u(a * 3 + k, 'iys_ret') < 0.12 THEN 'RET' ELSE 'ONAY' END AS status,
                strftime(since::TIMESTAMP + to_seconds(floor(u(a * 3 + k, 'iys_at')
                             * least(400, DATE '{end}' - since) * 86400 + 8 * 3600)::BIGINT),
                         '%Y-%m-%d %H:%M:%S') AS consentDate
            FROM recs ORDER BY a < 0, abs(a), k
        ) TO {sql_str(path.as_posix())} (FORMAT json, ARRAY true)
    """)
    # a JSON array in the file; count what was written
    n = con.execute(f"SELECT count(*) FROM read_json({sql_str(path.as_posix())})").fetchone()
    return int(n[0]) if n else 0
