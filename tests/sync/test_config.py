"""[destinations.*] and [syncs.*] validation: errors name the key and line."""

from __future__ import annotations

import pytest

from cdp.config import parse_config
from cdp.errors import ConfigError
from cdp.sync.demo import DEMO_TOML


def test_demo_destinations_and_syncs_parse() -> None:
    cfg = parse_config(DEMO_TOML)
    assert cfg.syncs["beverages_meta"].schedule == "0 6 * * *"
    assert cfg.destinations["meta_ads"].transfer.basis == "standard_contract"  # type: ignore[union-attr]
    assert cfg.destinations["meta_ads"].secret_envs() == {"token": "META_TOKEN"}


@pytest.mark.parametrize(
    "toml,key",
    [
        ('[destinations.m]\nkind = "meta"\ntoken = "EAAB..."\n', "destinations.m"),
        ('[destinations.m]\nkind = "meta"\ncountry = "USA"\n', "destinations.m.country"),
        ('[destinations.g]\nkind = "google_ads"\napi = "adwords"\n', "destinations.g.api"),
        ('[destinations.m]\nkind = "meta"\ntransfer = { basis = "consent" }\n', "destinations.m.transfer.basis"),
        ('[destinations.w]\nkind = "webhook"\nfields = ["name"]\n', "destinations.w.fields.0"),
        ('[syncs.s]\nsegment = "a"\ndestination = "b"\npurpose = "ads_targeting"\nschedule = "every day"\n',
         "syncs.s.schedule"),
        ('[syncs.s]\nsegment = "a"\ndestination = "b"\npurpose = "ads_targeting"\nmode = "replace"\n', "syncs.s.mode"),
    ],
)
def test_bad_values_name_their_key(toml: str, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(toml)
    assert err.value.key == key
    assert "EAAB" not in str(err.value)  # a secret written in the file is never echoed
