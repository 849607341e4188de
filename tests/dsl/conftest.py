"""Fixtures of the rule-language tests: an in-memory catalog and a small generated store."""

from __future__ import annotations

import pytest

import dsl

PURPOSES = {"email_marketing", "sms_marketing", "ads_targeting", "analytics", "profiling"}


def make_catalog(**kw: object) -> dsl.MemoryCatalog:
    base: dict[str, object] = {
        "trait_types": {
            "city": "text",
            "business_type": "text",
            "signup_date": "date",
            "credit_limit": "number",
            "employees": "integer",
            "is_key_account": "boolean",
            "tax_office": "text",
        },
        "property_types": {"amount": "number", "category": "text", "quantity": "integer"},
        "known_event_types": {"purchase", "visit", "return", "email_open"},
        "known_purposes": set(PURPOSES),
        "purpose_limits": {("trait", "tax_office"): {"analytics"}},
    }
    base.update(kw)
    return dsl.MemoryCatalog(**base)  # type: ignore[arg-type]


@pytest.fixture
def catalog() -> dsl.MemoryCatalog:
    return make_catalog()
