"""`state_at` (the gate's reference semantics) agrees with the rule language's `consented to`
as compiled by the DSL and built by cdp.segments (DSL.md §Conditions, PRIVACY.md §3)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from privacy.ledger import ConsentInput, append, state_at

from .conftest import Shop

SEGMENTS = """
segment mailable "Mailable":
    purpose email_marketing
    where consented to email_marketing

segment textable "Textable":
    purpose email_marketing
    where consented to email_marketing via sms
"""

event = st.tuples(st.integers(0, 3), st.sampled_from(["email", "sms", "any"]),
                  st.sampled_from(["granted", "granted", "withdrawn", "refused"]), st.integers(0, 20),
                  st.one_of(st.none(), st.integers(1, 30)), st.sampled_from(["consent", "opt_out", None]))


@settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@example(events=[(0, "email", "granted", 0, None, "consent"), (1, "any", "granted", 1, None, None),
                 (2, "sms", "granted", 2, 3, None), (3, "email", "granted", 1, None, "opt_out")], day=3,
         objectors={1})
@given(st.lists(event, max_size=10), st.integers(0, 25), st.sets(st.integers(0, 3), max_size=1))
def test_consented_to_equals_state_at(tmp_path_factory, events, day, objectors) -> None:
    shop = Shop(Path(tmp_path_factory.mktemp("dsl")) / "shop")
    people = [shop.add_customer(f"p{i}@example.com", events=1) for i in range(4)]
    (shop.ws.segments_dir).mkdir(exist_ok=True)
    (shop.ws.segments_dir / "consent.seg").write_text(SEGMENTS, encoding="utf-8")
    t0 = datetime(2026, 1, 1)
    from privacy.keys import KeyStore

    with KeyStore.open(shop.ws.state_dir) as ks, shop.ws.store() as con:
        inputs = [ConsentInput("email_marketing", ch, status, t0 + timedelta(days=d),
                               customer_id=people[who].customer_id, basis=basis,
                               expires_at=t0 + timedelta(days=d + exp) if exp else None, evidence=str(i))
                  for i, (who, ch, status, d, exp, basis) in enumerate(events)]
        if inputs:
            append(con, inputs, signing_key=ks.signing_key())
        for who in objectors:
            con.execute("INSERT INTO objections VALUES (?, 'direct_marketing', ?, ?, 'test')",
                        [people[who].customer_id, t0 + timedelta(days=5), t0])
    # as_of is workspace-local (Istanbul): noon local = 09:00 UTC
    as_of = (t0 + timedelta(days=day)).date().isoformat() + " 12:00"
    at_utc = t0 + timedelta(days=day, hours=9)
    built = shop.ws.segments.build(["mailable", "textable"], as_of=as_of)
    for seg, channel in (("mailable", "email"), ("textable", "sms")):
        members = {r[0] for r in shop.sql("SELECT customer_id FROM segment_members WHERE build_id = ?",
                                          [built[seg]["build_id"]])}
        with shop.ws.store() as con:
            want = {p.customer_id for p in people
                    if state_at(con, p.customer_id, "email_marketing", channel, at_utc).valid}
        assert members == want, (seg, events, day)
        if events and events[0] == (0, "email", "granted", 0, None, "consent") and seg == "mailable":
            assert members == {people[0].customer_id, people[1].customer_id}
