"""[rules]: RFM defaults, segment build retention and model monitoring.

```toml
[rules]
keep_builds = 30            # builds kept per segment (0 = keep every build)
event_types = ["refund"]    # event types rules may use before any has been ingested
report_min_cell = 10        # reports hide groups smaller than this
report_transitions = ["platinum", "gold", "silver"]   # the report's transition matrix (default: disjoint segments)

[rules.rfm]
event = "purchase"          # the event type RFM counts
amount = "amount"           # the event property summed for monetary
window = "12 months"        # frequency and monetary window
bins = 5                    # scores 1..bins
weights = { r = 1, f = 1, m = 1 }

[rules.models]
max_age_days = 180          # a model older than this is reported as stale
```
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["ModelMonitoringConfig", "RfmConfig", "RfmWeights", "RulesConfig", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+)\s*(day|week|month|year)s?\s*$", re.IGNORECASE)


def parse_duration(text: str) -> tuple[int, str]:
    """``"12 months"`` -> ``(12, "month")``; raises ValueError on anything else."""
    m = _DURATION.match(text)
    if not m or int(m.group(1)) <= 0:
        raise ValueError("expected a duration like '12 months', '90 days', '1 year'")
    return int(m.group(1)), m.group(2).lower()


class RfmWeights(BaseModel):
    """Weights of the R, F and M scores where a single weighted RFM value is wanted."""

    model_config = ConfigDict(extra="forbid")

    r: float = Field(default=1.0, ge=0)
    f: float = Field(default=1.0, ge=0)
    m: float = Field(default=1.0, ge=0)


class RfmConfig(BaseModel):
    """How ``rfm.*`` is computed (DSL.md, "RFM")."""

    model_config = ConfigDict(extra="forbid")

    event: str = "purchase"
    amount: str = "amount"
    window: str = "12 months"
    bins: int = Field(default=5, ge=2, le=10)
    weights: RfmWeights = Field(default_factory=RfmWeights)

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value.strip()

    @property
    def window_parts(self) -> tuple[int, str]:
        """The window as ``(n, unit)`` with unit one of day/week/month/year."""
        return parse_duration(self.window)


class ModelMonitoringConfig(BaseModel):
    """When a trained model counts as stale."""

    model_config = ConfigDict(extra="forbid")

    max_age_days: int = Field(default=180, ge=1)


class RulesConfig(BaseModel):
    """The ``[rules]`` section."""

    model_config = ConfigDict(extra="forbid")

    keep_builds: int = Field(default=30, ge=0)
    #: event types rules may name before any such event has been ingested
    event_types: list[str] = Field(default_factory=list)
    #: reports hide groups smaller than this (segment profiles, transitions, breakdowns)
    report_min_cell: int = Field(default=10, ge=1)
    report_transitions: list[str] = Field(default_factory=list)  # segments of the report's transition matrix, best first
    rfm: RfmConfig = Field(default_factory=RfmConfig)
    models: ModelMonitoringConfig = Field(default_factory=ModelMonitoringConfig)
