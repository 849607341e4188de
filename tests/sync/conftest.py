"""A small shop built directly in the store (customers, vault, consents, builds) for sync tests.

Builds are inserted as rows (no rule files), at a fixed ``as_of``, so a sync finds them
and never calls the rule compiler; the privacy gate and the vault are the real ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from cdp.workspace import Workspace
from tests.fakes import GoogleFake, KlaviyoFake, MailchimpFake, MetaFake, WebhookFake

AS_OF = "2026-06-01"
AS_OF_LOCAL = datetime(2026, 6, 1)
GRANTED_AT = datetime(2026, 1, 1)

FIRST = ["İlkay", "Işık", "Ülkü", "Çağrı", "Şule", "Gökhan", "Ayşe", "Oğuz"]
LAST = ["Yılmaz", "Öztürk", "Kılıç", "Şahin", "Doğan", "Aydın", "Çelik", "Arslan"]

RETRY = '{ attempts = 6, backoff_base = 0.001, backoff_max = 0.01 }'


def email_of(i: int) -> str:
    return f"User.{i}@Example.com"


def phone_of(i: int) -> str:
    return f"0532 {i:03d} {i % 100:02d} {(i * 7) % 100:02d}"


def cid(i: int) -> str:
    return f"c{i:05d}"


def sha(v: str) -> str:
    return hashlib.sha256(v.encode()).hexdigest()


def toml_for(fakes: dict[str, Any], out_dir: Path, *, mode: str = "mirror", extra: str = "") -> str:
    meta, google, mc, kl, wh = (fakes.get(k) for k in ("meta", "google", "mailchimp", "klaviyo", "webhook"))
    transfer = 'transfer = { basis = "standard_contract", signed_at = 2025-03-10, notified_at = 2025-03-14 }'
    parts = ['[workspace]\nname = "test"\ntimezone = "Europe/Istanbul"\n',
             "[privacy]\nmin_audience_size = 5\n"]
    if meta:
        parts.append(f'[destinations.meta_tr]\nkind = "meta"\naudience_id = "{meta.audience_id}"\n'
                     f'token_env = "META_TOKEN"\ncountry = "US"\n{transfer}\nbase_url = "{meta.url}"\n'
                     f"batch_size = 4\ntimeout = 0.25\nretry = {RETRY}\n")
        parts.append(f'[syncs.vip_meta]\nsegment = "vip"\ndestination = "meta_tr"\npurpose = "ads_targeting"\nmode = "{mode}"\n')
        # the same platform without a transfer record, and with a high minimum size: the gate refuses
        parts.append(f'[destinations.meta_nt]\nkind = "meta"\naudience_id = "{meta.audience_id}"\n'
                     f'token_env = "META_TOKEN"\nbase_url = "{meta.url}"\n')
        parts.append('[syncs.vip_nt]\nsegment = "vip"\ndestination = "meta_nt"\npurpose = "ads_targeting"\n')
        parts.append(f'[destinations.meta_big]\nkind = "meta"\naudience_id = "{meta.audience_id}"\n'
                     f'token_env = "META_TOKEN"\n{transfer}\nbase_url = "{meta.url}"\nmin_audience_size = 1000\n')
        parts.append('[syncs.vip_big]\nsegment = "vip"\ndestination = "meta_big"\npurpose = "ads_targeting"\n')
    if google:
        parts.append(f'[destinations.gads]\nkind = "google_ads"\naudience_id = "{google.audience_id}"\n'
                     f'customer_id = "{google.customer_id}"\ntoken_env = "G_TOKEN"\ndeveloper_token_env = "G_DEV"\n'
                     f'country = "US"\n{transfer}\nbase_url = "{google.url}"\nbatch_size = 5\ntimeout = 0.25\n'
                     f"retry = {RETRY}\npoll_interval = 0.001\n")
        parts.append(f'[syncs.vip_google]\nsegment = "vip"\ndestination = "gads"\npurpose = "ads_targeting"\nmode = "{mode}"\n')
    if mc:
        parts.append(f'[destinations.mc]\nkind = "mailchimp"\naudience_id = "{mc.list_id}"\nsegment_id = "{mc.segment_id}"\n'
                     f'api_key_env = "MC_KEY"\ncountry = "US"\n{transfer}\nbase_url = "{mc.url}/3.0"\n'
                     f"batch_size = 5\ntimeout = 0.25\nretry = {RETRY}\n")
        parts.append(f'[syncs.vip_mail]\nsegment = "vip"\ndestination = "mc"\npurpose = "email_marketing"\nmode = "{mode}"\n')
    if kl:
        parts.append(f'[destinations.kl]\nkind = "klaviyo"\naudience_id = "{kl.list_id}"\napi_key_env = "KL_KEY"\n'
                     f'country = "US"\n{transfer}\nbase_url = "{kl.url}"\nbatch_size = 5\ntimeout = 0.25\nretry = {RETRY}\n')
        parts.append(f'[syncs.vip_klaviyo]\nsegment = "vip"\ndestination = "kl"\npurpose = "email_marketing"\nmode = "{mode}"\n')
    if wh:
        parts.append(f'[destinations.sms]\nkind = "webhook"\nurl = "{wh.url}/hook"\nsecret_env = "WH_SECRET"\n'
                     f'channel = "sms"\ncountry = "TR"\nbatch_size = 5\nfields = ["phone", "email_sha256"]\n'
                     f"timeout = 0.25\nretry = {RETRY}\n")
        parts.append(f'[syncs.vip_sms]\nsegment = "vip"\ndestination = "sms"\npurpose = "sms_marketing"\nmode = "{mode}"\n')
    parts.append(f'[destinations.out]\nkind = "file"\npath = "{out_dir}"\nformat = "csv"\n')
    parts.append('[syncs.vip_file]\nsegment = "vip"\ndestination = "out"\npurpose = "ads_targeting"\n')
    parts.append(extra)
    return "\n".join(parts)


class Shop:
    """A workspace with customers, contact points in the vault, consents and builds."""

    def __init__(self, root: Path, toml: str) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "cdp.toml").write_text(toml, encoding="utf-8")
        self.ws = Workspace(root)
        self.builds = 0

    def keystore(self) -> Any:
        from privacy.keys import KeyStore

        return KeyStore.open(self.ws.state_dir, create=True)

    def add_customers(self, numbers: list[int]) -> None:
        from privacy.vault import Vault

        now = datetime(2026, 1, 1)
        with self.ws.store() as con, self.keystore() as ks:
            for i in numbers:
                con.execute("INSERT OR IGNORE INTO customers (customer_id, first_seen_at, updated_at) VALUES (?, ?, ?)",
                            [cid(i), now, now])
            Vault(con, ks).put_many(
                [r for i in numbers for r in (
                    (cid(i), "email", email_of(i)), (cid(i), "phone", phone_of(i)),
                    (cid(i), "first_name", FIRST[i % len(FIRST)]), (cid(i), "last_name", LAST[i % len(LAST)]))]
            )

    def consent(self, numbers: list[int], purpose: str, channel: str, status: str = "granted",
                at: datetime = GRANTED_AT) -> None:
        from privacy.ledger import ConsentInput, append

        if not numbers:
            return
        with self.ws.store() as con, self.keystore() as ks:
            append(con, [ConsentInput(purpose=purpose, channel=channel, status=status, effective_at=at,
                                      customer_id=cid(i), basis="consent", source="HS_WEB") for i in numbers],
                   signing_key=ks.signing_key())

    def grant_all(self, numbers: list[int], status: str = "granted", at: datetime = GRANTED_AT) -> None:
        """The same consent event for ads, email and sms, in one ledger append."""
        from privacy.ledger import ConsentInput, append

        events = [ConsentInput(purpose=p, channel=c, status=status, effective_at=at, customer_id=cid(i),
                               basis="consent", source="HS_WEB")
                  for i in numbers
                  for p, c in (("ads_targeting", "ads"), ("email_marketing", "email"), ("sms_marketing", "sms"))]
        with self.ws.store() as con, self.keystore() as ks:
            append(con, events, signing_key=ks.signing_key())

    def build(self, numbers: list[int], *, segment: str = "vip", as_of: datetime = AS_OF_LOCAL,
              purposes: tuple[str, ...] = ("ads_targeting", "email_marketing", "sms_marketing"),
              control: tuple[int, ...] = ()) -> int:
        """A new build of ``segment`` at ``as_of`` (replacing any build at that as_of)."""
        with self.ws.store() as con:
            old = [r[0] for r in con.execute("SELECT build_id FROM segment_builds WHERE segment = ? AND as_of = ?",
                                             [segment, as_of]).fetchall()]
            for b in old:
                con.execute("DELETE FROM segment_members WHERE build_id = ?", [b])
                con.execute("DELETE FROM segment_builds WHERE build_id = ?", [b])
            build_id = con.execute("SELECT nextval('build_seq')").fetchone()[0]
            con.execute(
                "INSERT INTO segment_builds (build_id, segment, as_of, built_at, purposes, members, control) "
                "VALUES (?, ?, ?, now()::TIMESTAMP, ?, ?, ?)",
                [build_id, segment, as_of, list(purposes), len(numbers), len(control)],
            )
            if numbers:
                con.executemany("INSERT INTO segment_members VALUES (?, ?, ?, ?)",
                                [[build_id, segment, cid(i), i in control] for i in numbers])
        return int(build_id)

    def erase(self, i: int) -> str:
        from privacy.erasure import open_request, run_erasure
        from privacy.vault import Vault

        with self.ws.store() as con, self.keystore() as ks:
            rid = open_request(con, cid(i), subject_kind="customer")
            run_erasure(con, ks, rid, vault=Vault(con, ks))
        return rid

    def state(self, sync: str) -> set[str]:
        with self.ws.store() as con:
            return {r[0] for r in con.execute("SELECT customer_id FROM sync_state WHERE sync = ?", [sync]).fetchall()}

    def run(self, *names: str, **kw: Any) -> list[dict[str, Any]]:
        kw.setdefault("as_of", AS_OF)
        kw.setdefault("sleep", lambda s: None)
        ws = Workspace(self.ws.root)  # fresh config each time, as a new command would
        return ws.sync.run(list(names), **kw)


@pytest.fixture
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {"META_TOKEN": "meta-token", "G_TOKEN": "g-token", "G_DEV": "dev-token", "MC_KEY": "key-us21",
                 "KL_KEY": "pk_test", "WH_SECRET": "whsec"}.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    servers = {"meta": MetaFake(), "google": GoogleFake(), "mailchimp": MailchimpFake(), "klaviyo": KlaviyoFake(),
               "webhook": WebhookFake()}
    for s in servers.values():
        s.timeout_sleep = 0.35
        s.start()
    yield servers
    for s in servers.values():
        s.stop()


@pytest.fixture
def shop(tmp_path: Path, fakes: dict[str, Any], secrets_env: None) -> Shop:
    s = Shop(tmp_path / "shop", toml_for(fakes, tmp_path / "out"))
    s.add_customers(list(range(1, 13)))
    s.grant_all(list(range(1, 13)))
    return s
