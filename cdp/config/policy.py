"""[privacy]: policy values the privacy layer enforces (PRIVACY.md). Defaults may be tightened, never silently loosened.

```toml
[privacy]
min_audience_size = 100            # ad platforms; webhooks/files none unless set per destination
tacir_opt_out = false              # Law 6563 Art. 6(1) opt-out basis for TACIR email/sms/call
special_categories = []            # traits holding KVKK Art. 6 data
periodic_destruction_months = 6    # at most 6 (Regulation on Erasure, Art. 11)
[privacy.purposes.email_marketing] # built in: email_marketing, sms_marketing, call_marketing, ads_targeting, analytics
description = "Campaign e-mails"
channel = "email"
[privacy.data_purposes]            # which purposes a trait or event property may serve; absent = all ("not reviewed")
city = ["email_marketing", "ads_targeting", "analytics"]
"events.category" = ["email_marketing", "analytics"]
[privacy.retention]
events = "3 years"
```
Lowering ``min_audience_size`` below 100 is allowed but never silent: ``cdp status``
and ``cdp privacy inventory`` show it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from privacy.policy import BUILTIN_PURPOSES, CHANNELS, PURPOSE_CHANNELS, parse_duration

__all__ = ["DEFAULT_MIN_AUDIENCE_SIZE", "PolicyConfig", "PurposeConfig", "RetentionConfig"]

DEFAULT_MIN_AUDIENCE_SIZE = 100


class PurposeConfig(BaseModel):
    """One processing purpose: ``[privacy.purposes.NAME]``."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    channel: str | None = None
    explicit_consent: bool = True       # special-category traits may only serve such purposes
    legal_basis: str = "explicit_consent"

    @field_validator("channel")
    @classmethod
    def _known_channel(cls, value: str | None) -> str | None:
        if value is not None and value not in CHANNELS:
            raise ValueError(f"unknown channel '{value}'; use one of {', '.join(CHANNELS)}")
        return value


def _duration(value: str) -> str:
    parse_duration(value)
    return value


class RetentionConfig(BaseModel):
    """``[privacy.retention]``: how long each kind of data is kept (PRIVACY.md §7)."""

    model_config = ConfigDict(extra="forbid")

    events: str = "3 years"
    inactive_customers: str = "3 years"
    segment_history: str = "2 years"
    sync_receipts: str = "3 years"
    consent_proof: str = "3 years"          # after the consent stops being valid (IYS record keeping)
    destruction_records: str = "3 years"    # Regulation on Erasure, Art. 7(3)
    audit_log: str = "3 years"
    backups: str = "30 days"                # documented backup retention (store copies you keep)

    @field_validator("*")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        return _duration(value)


class PolicyConfig(BaseModel):
    """The whole ``[privacy]`` section."""

    model_config = ConfigDict(extra="forbid")

    min_audience_size: int = Field(DEFAULT_MIN_AUDIENCE_SIZE, ge=1)
    tacir_opt_out: bool = False
    special_categories: list[str] = Field(default_factory=list)
    periodic_destruction_months: int = Field(6, ge=1, le=6)
    request_due_days: int = Field(30, ge=1, le=30)
    pii_on_hit: Literal["stop", "quarantine"] = "stop"
    controller: str = ""                    # data controller name for the inventory (VERBIS)
    purposes: dict[str, PurposeConfig] = Field(default_factory=dict)
    data_purposes: dict[str, list[str]] = Field(default_factory=dict)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)

    @field_validator("data_purposes", mode="before")
    @classmethod
    def _listify(cls, value: object) -> object:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _builtins_and_references(self) -> PolicyConfig:
        for name in BUILTIN_PURPOSES:
            if name not in self.purposes:
                self.purposes[name] = PurposeConfig(channel=PURPOSE_CHANNELS[name])
            elif self.purposes[name].channel is None:
                self.purposes[name].channel = PURPOSE_CHANNELS[name]
        for name, p in self.purposes.items():
            if p.channel is None:
                p.channel = "any"
        for key, purposes in self.data_purposes.items():
            unknown = [p for p in purposes if p not in self.purposes]
            if unknown:
                raise ValueError(
                    f"data_purposes.{key}: unknown purpose '{unknown[0]}' "
                    f"(declare it under [privacy.purposes.{unknown[0]}])"
                )
        for trait in self.special_categories:
            allowed = self.data_purposes.get(trait)
            if not allowed:
                raise ValueError(
                    f"special category '{trait}' needs data_purposes naming an explicit-consent purpose (KVKK Art. 6)"
                )
            weak = [p for p in allowed if not self.purposes[p].explicit_consent]
            if weak:
                raise ValueError(
                    f"special category '{trait}' may only serve explicit-consent purposes, not '{weak[0]}'"
                )
        return self
