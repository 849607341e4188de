"""Property tests: consent state equals a simple reference model, and the gate never releases
a member without a valid basis at `at` (nor anyone who has said no, whenever)."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdp.errors import GateRefusal
from cdp.store import migrate
from privacy.gate import release, revoked
from privacy.ledger import ConsentInput, append, state_at
from privacy.policy import DestinationTerms, Policy

T0 = datetime(2026, 1, 1)
CUSTOMERS = [f"c_{i}" for i in range(5)]
KEY = Ed25519PrivateKey.generate()

_con: duckdb.DuckDBPyConnection | None = None


def _fresh() -> duckdb.DuckDBPyConnection:
    global _con
    if _con is None:
        _con = duckdb.connect()
        _con.execute("SET TimeZone = 'UTC'")
        migrate(_con)
    for table in ("consent_events", "consent_checkpoints", "objections", "customers", "segment_builds",
                  "segment_members", "identities", "suppressions", "audit_log"):
        _con.execute(f"DELETE FROM {table}")
    return _con


event = st.fixed_dictionaries({
    "customer": st.sampled_from(CUSTOMERS),
    "channel": st.sampled_from(["email", "any", "sms"]),
    "status": st.sampled_from(["granted", "granted", "withdrawn", "refused"]),
    "day": st.integers(0, 20),
    "expires": st.one_of(st.none(), st.integers(1, 25)),
    "basis": st.sampled_from([None, "consent", "consent", "opt_out"]),
})
objection = st.tuples(st.sampled_from(CUSTOMERS), st.sampled_from(["direct_marketing", "profiling"]),
                      st.integers(0, 20))


def _reference(events: list[dict], objections: list[tuple], customer: str, channel: str, at: datetime) -> dict:
    """The rule of PRIVACY.md §3 / DSL.md written as plainly as possible."""
    mine = [(e["effective_at"], i, e) for i, e in enumerate(events)
            if e["customer"] == customer and e["channel"] in (channel, "any") and e["effective_at"] <= at]
    latest = max(mine, key=lambda t: (t[0], t[1]))[2] if mine else None
    obj = any(c == customer and s == "direct_marketing" and T0 + timedelta(days=d) <= at for c, s, d in objections)
    valid = (latest is not None and latest["status"] == "granted" and latest["basis"] != "opt_out"
             and (latest["expires_at"] is None or at < latest["expires_at"]) and not obj)
    return {"status": latest["status"] if latest else None, "valid": valid}


def _load(con: duckdb.DuckDBPyConnection, events: list[dict], objections: list[tuple]) -> list[dict]:
    rows = []
    for e in events:
        at = T0 + timedelta(days=e["day"])
        rows.append({**e, "effective_at": at,
                     "expires_at": at + timedelta(days=e["expires"]) if e["expires"] else None})
    inputs = [ConsentInput("email_marketing", r["channel"], r["status"], r["effective_at"], customer_id=r["customer"],
                           expires_at=r["expires_at"], evidence=str(i), basis=r["basis"]) for i, r in enumerate(rows)]
    if inputs:
        append(con, inputs, signing_key=KEY)
    for c, s, d in objections:
        con.execute("INSERT INTO objections VALUES (?, ?, ?, ?, 'test')", [c, s, T0 + timedelta(days=d), T0])
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event, max_size=12), st.lists(objection, max_size=2), st.integers(0, 22),
       st.sampled_from(["email", "sms"]))
def test_state_at_equals_the_reference_model(events: list[dict], objections: list[tuple], day: int,
                                             channel: str) -> None:
    con = _fresh()
    rows = _load(con, events, objections)
    at = T0 + timedelta(days=day, hours=12)
    for c in CUSTOMERS:
        got = state_at(con, c, "email_marketing", channel, at)
        want = _reference(rows, objections, c, channel, at)
        assert (got.status, got.valid) == (want["status"], want["valid"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(event, max_size=12), st.lists(objection, max_size=2), st.integers(0, 22),
       st.sets(st.sampled_from(CUSTOMERS), max_size=2))
def test_gate_never_releases_without_a_valid_basis(events: list[dict], objections: list[tuple], day: int,
                                                   control: set[str]) -> None:
    con = _fresh()
    rows = _load(con, events, objections)
    for c in CUSTOMERS:
        con.execute("INSERT INTO customers VALUES (?, ?, ?)", [c, T0, T0])
    con.execute("INSERT INTO segment_builds (build_id, segment, as_of, built_at, purposes, members, control) "
                "VALUES (1, 's', ?, ?, ['email_marketing'], 5, 0)", [T0, T0])
    for c in CUSTOMERS:
        con.execute("INSERT INTO segment_members VALUES (1, 's', ?, ?)", [c, c in control])
    at = T0 + timedelta(days=day, hours=12)
    dest = DestinationTerms("hook", "webhook", channel="email", country="TR")
    aud = release(con, 1, dest, "email_marketing", at, Policy())
    released = dict(zip(aud.customer_ids(), aud.members.column("consent_seq").to_pylist()))
    now = datetime(2030, 1, 1)
    for c in CUSTOMERS:
        ref_at = _reference(rows, objections, c, "email", at)
        ever_no = _reference(rows, [], c, "email", now)["status"] in ("withdrawn", "refused")
        objected = any(o[0] == c and o[1] == "direct_marketing" for o in objections)
        expected = ref_at["valid"] and not ever_no and not objected and c not in control
        assert (c in released) == expected, (c, ref_at, ever_no, objected)
        if c in released:
            assert released[c] == state_at(con, c, "email_marketing", "email", at).seq
    assert sum(aud.exclusions.values()) + len(aud) == len(CUSTOMERS)
    gone = revoked(con, CUSTOMERS, "email_marketing", "email")
    assert not (gone & set(released))


def _one_member(con: duckdb.DuckDBPyConnection, purposes: list[str] | None = None) -> None:
    con.execute("INSERT INTO customers VALUES ('c_0', ?, ?)", [T0, T0])
    con.execute("INSERT INTO segment_builds (build_id, segment, as_of, built_at, purposes, members, control) "
                "VALUES (1, 's', ?, ?, ?, 1, 0)", [T0, T0, purposes if purposes is not None else ["email_marketing"]])
    con.execute("INSERT INTO segment_members VALUES (1, 's', 'c_0', false)")


def test_withdrawal_recorded_now_excludes_from_a_replayed_earlier_sync() -> None:
    con = _fresh()
    _one_member(con)
    append(con, [ConsentInput("email_marketing", "email", "granted", T0, customer_id="c_0")], signing_key=KEY)
    dest = DestinationTerms("hook", "webhook", country="TR")
    assert len(release(con, 1, dest, "email_marketing", T0 + timedelta(days=5), Policy())) == 1
    # withdrawal recorded now, effective later than the replayed as-of
    append(con, [ConsentInput("email_marketing", "email", "withdrawn", T0 + timedelta(days=30), customer_id="c_0")],
           signing_key=KEY)
    aud = release(con, 1, dest, "email_marketing", T0 + timedelta(days=5), Policy())
    assert len(aud) == 0 and aud.exclusions == {"withdrawn": 1}
    assert revoked(con, ["c_0"], "email_marketing") == {"c_0"}


def test_tacir_opt_out_basis_only_when_enabled_and_until_refused() -> None:
    con = _fresh()
    _one_member(con)
    con.execute("INSERT INTO identities VALUES ('h1', 'tax_id', 'c_0', 'crm', ?)", [T0])
    dest = DestinationTerms("hook", "webhook", country="TR")
    at = T0 + timedelta(days=1)
    assert release(con, 1, dest, "email_marketing", at, Policy()).exclusions == {"no_basis": 1}
    aud = release(con, 1, dest, "email_marketing", at, Policy(tacir_opt_out=True))
    assert aud.members.column("basis").to_pylist() == ["opt_out"]
    assert aud.members.column("consent_seq").to_pylist() == [None]
    # never for ads, and a RET ends it
    ads = DestinationTerms("hook", "webhook", channel="ads", country="TR")
    assert len(release(con, 1, ads, "email_marketing", at, Policy(tacir_opt_out=True))) == 0
    append(con, [ConsentInput("email_marketing", "email", "refused", T0, customer_id="c_0", recipient_type="TACIR")],
           signing_key=KEY)
    assert release(con, 1, dest, "email_marketing", at, Policy(tacir_opt_out=True)).exclusions == {"refused": 1}


@pytest.mark.parametrize(
    ("dest", "reason"),
    [
        (DestinationTerms("meta", "meta"), "no_transfer_record"),
        (DestinationTerms("meta", "meta", transfer=__import__("privacy.policy", fromlist=["x"]).TransferRecord(
            "standard_contract", signed_at=T0.date())), "incomplete_transfer_record"),
    ],
)
def test_transfer_abroad_needs_a_complete_record(dest: DestinationTerms, reason: str) -> None:
    con = _fresh()
    _one_member(con, ["ads_targeting"])
    with pytest.raises(GateRefusal) as err:
        release(con, 1, dest, "ads_targeting", T0 + timedelta(days=1), Policy())
    assert err.value.reason == reason
    if reason == "incomplete_transfer_record":
        assert "notified_at" in str(err.value)


def test_below_min_size_and_undeclared_purpose_are_refused() -> None:
    con = _fresh()
    _one_member(con, ["ads_targeting"])
    append(con, [ConsentInput("ads_targeting", "ads", "granted", T0, customer_id="c_0")], signing_key=KEY)
    from privacy.policy import TransferRecord

    meta = DestinationTerms("meta", "meta", transfer=TransferRecord("adequacy"))
    with pytest.raises(GateRefusal) as err:
        release(con, 1, meta, "ads_targeting", T0 + timedelta(days=1), Policy())
    assert err.value.reason == "below_min_size"
    assert len(release(con, 1, meta, "ads_targeting", T0 + timedelta(days=1), Policy(min_audience_size_ads=1))) == 1
    with pytest.raises(GateRefusal) as err:
        release(con, 1, meta, "email_marketing", T0 + timedelta(days=1), Policy(min_audience_size_ads=1))
    assert err.value.reason == "purpose_not_declared"


def test_suppressed_and_erased_members_are_excluded() -> None:
    con = _fresh()
    _one_member(con)
    con.execute("INSERT INTO segment_members VALUES (1, 's', 'c_gone', false)")
    append(con, [ConsentInput("email_marketing", "email", "granted", T0, customer_id=c) for c in ("c_0", "c_gone")],
           signing_key=KEY)
    con.execute("INSERT INTO identities VALUES ('h1', 'email', 'c_0', 'crm', ?)", [T0])
    con.execute("INSERT INTO suppressions VALUES ('h1', 'email', 'opted_out', ?)", [T0])
    aud = release(con, 1, DestinationTerms("hook", "webhook", country="TR"), "email_marketing",
                  T0 + timedelta(days=1), Policy())
    assert len(aud) == 0 and aud.exclusions == {"suppressed": 1, "erased": 1}
    assert sorted(aud.removals.column("customer_id").to_pylist()) == ["c_0", "c_gone"]
