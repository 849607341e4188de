"""`consented to` of DSL.md: latest event on the purpose's channel or `any`, expiry, opt_out
basis, do-not-market objection, events after as_of. Rules: rules/consent.seg; as-of 2026-03-31.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import Ws, customer, email_of, make_workspace

AS_OF = "2026-03-31"
RULES = Path(__file__).parent / "rules"
CODES = [f"C{i:02d}" for i in range(1, 23)]
CUSTOMERS = [customer(c) for c in CODES]


def grant(code: str, at: str = "2026-01-01 10:00:00", purpose: str = "email_marketing",
          channel: str = "email", status: str = "granted", **kw: str) -> dict[str, str]:
    return dict(code=code, purpose=purpose, channel=channel, status=status, at=at, **kw)


CONSENTS = [
    grant("C01"),                                                   # yes
    grant("C02"), grant("C02", at="2026-02-01 10:00:00", status="withdrawn"),   # withdrawn
    grant("C03", expires="2026-03-01 00:00:00"),                    # expired before as_of
    grant("C04", expires="2026-12-31 00:00:00"),                    # not yet expired
    grant("C05", channel="any"),                                    # `any` counts for email
    grant("C06"), grant("C06", at="2026-02-01 10:00:00", channel="any", status="withdrawn"),
    grant("C07", channel="sms"),                                    # other channel
    grant("C08", basis="opt_out"),                                  # opt_out is no consent
    grant("C09", at="2026-05-01 10:00:00"),                         # after as_of
    grant("C10"),                                                   # + objection 2026-02-01
    grant("C11", status="refused"),
    grant("C12", purpose="ads_targeting", channel="ads"),
    grant("C13", purpose="analytics", channel="any"),
    grant("C14", status="withdrawn"), grant("C14", at="2026-02-01 10:00:00"),  # latest wins
    grant("C15", channel="EPOSTA", status="ONAY"),                  # İYS words accepted
    grant("C16"),                                                   # + objection after as_of
    grant("C17", at="2026-03-30 10:00:00", channel="email"),
    grant("C17", at="2026-03-30 11:00:00", channel="sms", status="withdrawn"),  # other channel
    grant("C19", expires="2026-03-31 00:00:00"),  # expires exactly at as_of: as_of < expiry fails
    # naive consent times are workspace-local (Europe/Istanbul, UTC+3), like event times:
    grant("C20", at="2026-03-31 00:00:00"),       # effective exactly at as_of: counts
    grant("C21", at="2026-03-31 02:00:00"),       # 2 h after as_of (23:00 UTC the day before)
    grant("C22", expires="2026-03-31 02:00:00"),  # expires 2 h after as_of: still valid
]
# C18 has no consent event at all.

EXPECTED = {
    "email_ok": {"C01", "C04", "C05", "C14", "C15", "C16", "C17", "C20", "C22"},
    "email_via_sms": {"C05", "C07"},  # C05: `any` counts for every channel
    "ads_ok": {"C12"},
    "analytics_ok": {"C13"},
}
EXPECTED["not_email"] = set(CODES) - EXPECTED["email_ok"]


@pytest.fixture(scope="module")
def ws(module_dir: Path) -> Ws:
    w = make_workspace(module_dir / "ws", CUSTOMERS, consents=CONSENTS,
                       segments={"consent.seg": (RULES / "consent.seg").read_text("utf-8")})
    w.ok("consent", "object", "--email", email_of("C10"), "--scope", "direct_marketing",
         "--at", "2026-02-01T10:00:00")
    w.ok("consent", "object", "--email", email_of("C16"), "--scope", "direct_marketing",
         "--at", "2026-05-01T10:00:00")
    return w


@pytest.fixture(scope="module")
def built(ws: Ws) -> dict[str, set[str]]:
    return ws.build(AS_OF)


@pytest.mark.parametrize("segment", sorted(EXPECTED))
def test_consent_members(built: dict[str, set[str]], segment: str) -> None:
    assert built[segment] == EXPECTED[segment]


def test_later_as_of_sees_the_later_grant_and_objection(ws: Ws) -> None:
    got = ws.build("2026-06-01", "email_ok")["email_ok"]
    assert "C09" in got  # granted 2026-05-01
    assert "C16" not in got  # objected 2026-05-01


def test_all_consent_rows_were_ingested(ws: Ws) -> None:
    assert ws.query("SELECT count(*) FROM consent_events")[0][0] == len(CONSENTS)


def test_cli_grant_and_withdraw(ws: Ws) -> None:
    """`cdp consent grant` / `withdraw` with effective times: the rule language sees the state at
    as_of (PRIVACY.md §3: the latest event with effective-at <= T). Runs last."""
    ws.ok("consent", "grant", "--email", email_of("C18"), "--purpose", "email_marketing",
          "--source", "HS_WEB", "--at", "2026-03-01T10:00:00")
    ws.ok("consent", "withdraw", "--email", email_of("C01"), "--purpose", "email_marketing",
          "--at", "2026-04-15T10:00:00")
    before = ws.build("2026-03-31", "email_ok")["email_ok"]
    after = ws.build("2026-05-01", "email_ok")["email_ok"]
    assert "C18" in before and "C18" in after
    assert "C01" in before and "C01" not in after
    ws.ok("consent", "verify")
