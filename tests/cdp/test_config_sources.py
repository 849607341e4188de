"""The [sources.NAME] contract: accepted shapes and errors that name the key and file:line."""

from __future__ import annotations

import pytest

from cdp.config import parse_config
from cdp.errors import ConfigError

BASE = '''[workspace]
name = "t"

[sources.customers]
kind = "csv"
path = "data/customers.csv"
entity = "customers"
key = "customer_ref"
identifiers = { email = "email", phone = "phone", tax_id = "tax_id" }
contact = ["email", "phone", "full_name"]
traits = { city = "text", business_type = "text", signup_date = { type = "date", format = "%d.%m.%Y" } }
'''


def test_the_issue_contract_parses() -> None:
    cfg = parse_config(BASE + '''
[sources.events]
kind = "csv"
path = "data/events.csv"
entity = "events"
key = "customer_ref"
event_id = "event_id"
event_type = "event_type"
timestamp = "ts"
amount = "amount"
properties = { category = "text", store_id = "integer", quantity = "integer" }

[sources.consents]
kind = "csv"
path = "data/consents.csv"
entity = "consents"
identifier = { email = "email" }
purpose = "purpose"
channel = "channel"
status = "status"
at = "at"
expires = "expires"
basis = "basis"
recipient_type = "recipient_type"
source = "source"
notice_version = "notice_version"
text_version = "text_version"
''')
    c = cfg.sources["customers"]
    assert c.key_identifier_kind == "customer_ref"
    assert c.identifier_columns() == {"customer_ref": "customer_ref", "email": "email", "phone": "phone",
                                      "tax_id": "tax_id"}
    assert c.spec_type(c.traits["signup_date"]) == "date"
    assert cfg.sources["events"].properties["store_id"] == "integer"


@pytest.mark.parametrize(
    ("extra", "key", "line"),
    [
        ('colour = "red"\n', "sources.customers.colour", 12),
        ('traits2 = {}\n', "sources.customers.traits2", 12),
    ],
)
def test_unknown_keys_name_key_and_line(extra: str, key: str, line: int) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + extra, file="cdp.toml")
    assert info.value.key == key and info.value.line == line and info.value.file == "cdp.toml"


def test_bad_values_name_the_key() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE.replace('city = "text"', 'city = "txt"'))
    assert info.value.key == "sources.customers.traits" and "unknown type" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config(BASE.replace('kind = "csv"', 'kind = "excel"'))
    assert info.value.key == "sources.customers.kind" and info.value.line == 5
    with pytest.raises(ConfigError) as info:
        parse_config(BASE.replace('entity = "customers"', 'entity = "orders"'))
    assert info.value.key == "sources.customers.entity"


def test_entity_requirements() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + '[sources.e]\nkind = "csv"\npath = "x.csv"\nentity = "events"\nkey = "k"\n')
    assert info.value.key == "sources.e" and "event_type" in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + '[sources.c]\nkind = "csv"\npath = "x.csv"\nentity = "consents"\nstatus = "s"\nat = "a"\n'
                     'channel = "c"\n')
    assert "key" in str(info.value)
    # purpose may follow from the channel; a constant channel can come from defaults
    cfg = parse_config(BASE + '[sources.c]\nkind = "csv"\npath = "x.csv"\nentity = "consents"\nstatus = "s"\n'
                       'at = "a"\nidentifier = { phone = "gsm" }\ndefaults = { channel = "sms" }\n')
    assert cfg.sources["c"].defaults == {"channel": "sms"}
    with pytest.raises(ConfigError):
        parse_config(BASE.replace('path = "data/customers.csv"\n', ''))
