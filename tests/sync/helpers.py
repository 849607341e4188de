"""What each fake should hold for a set of released customers (computed independently)."""

from __future__ import annotations

from typing import Any

from tests.sync.conftest import cid, email_of, sha

SYNC_OF = {"meta": "vip_meta", "google": "vip_google", "mailchimp": "vip_mail", "klaviyo": "vip_klaviyo",
           "webhook": "vip_sms"}


def expected(kind: str, numbers: set[int] | list[int]) -> set[str]:
    if kind in ("meta", "google"):
        return {sha(email_of(i).lower()) for i in numbers}
    if kind in ("mailchimp", "klaviyo"):
        return {email_of(i).lower() for i in numbers}
    return {cid(i) for i in numbers}


def assert_end_state(fakes: dict[str, Any], numbers: set[int] | list[int], kinds: tuple[str, ...] = tuple(SYNC_OF)) -> None:
    for kind in kinds:
        assert fakes[kind].audience == expected(kind, numbers), kind
