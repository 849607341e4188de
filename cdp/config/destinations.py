"""[destinations.NAME] and [syncs.NAME] (DESTINATIONS.md, "Configuration").

Secrets are never in the file: ``token_env``, ``api_key_env``, ``secret_env``,
``developer_token_env`` and ``previous_secret_env`` name environment variables. Keys
that a third-party destination needs are allowed (``extra``) and passed to it as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["SECRET_KEYS", "DestinationConfig", "RetryConfig", "SyncConfig", "TransferConfig"]

#: settings that name an environment variable holding a secret -> the secret's name
SECRET_KEYS = {
    "token_env": "token",
    "api_key_env": "api_key",
    "secret_env": "secret",
    "previous_secret_env": "previous_secret",
    "developer_token_env": "developer_token",
}

_SECRET_LIKE = ("token", "api_key", "secret", "password", "developer_token")


class TransferConfig(BaseModel):
    """The KVKK Art. 9 basis of a transfer abroad."""

    model_config = ConfigDict(extra="forbid")

    basis: Literal["adequacy", "standard_contract", "binding_corporate_rules", "undertaking"]
    signed_at: date | datetime | None = None
    notified_at: date | datetime | None = None


class RetryConfig(BaseModel):
    """Retries of one batch: exponential backoff with full jitter, Retry-After honoured."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(default=6, ge=1, le=50)
    backoff_base: float = Field(default=1.0, ge=0)     # seconds; the n-th wait is up to base * 2**n
    backoff_max: float = Field(default=60.0, ge=0)     # cap of one wait (also caps Retry-After)


class DestinationConfig(BaseModel):
    """One destination. ``kind`` picks the connector (built-in or a plugin)."""

    model_config = ConfigDict(extra="allow")

    kind: str
    audience_id: str | None = None
    segment_id: str | None = None                     # mailchimp: the static segment (tag)
    customer_id: str | None = None                    # google_ads: the operating account
    login_customer_id: str | None = None              # google_ads: manager account
    api: Literal["data_manager", "customer_match"] = "data_manager"
    token_env: str | None = None
    api_key_env: str | None = None
    secret_env: str | None = None
    previous_secret_env: str | None = None
    developer_token_env: str | None = None
    country: str | None = None                        # ISO-2 where the data goes
    transfer: TransferConfig | None = None
    channel: Literal["email", "sms", "call", "ads", "any"] | None = None
    min_audience_size: int | None = Field(default=None, ge=0)
    url: str | None = None                            # webhook
    fields: list[Literal["email_sha256", "phone_sha256", "email", "phone"]] = Field(default_factory=list)
    path: str | None = None                           # file: the folder
    format: Literal["csv", "parquet"] = "csv"         # file
    batch_size: int | None = Field(default=None, ge=1)
    base_url: str | None = None                       # override (tests, proxies)
    timeout: float = Field(default=30.0, gt=0)
    max_rps: float | None = Field(default=None, gt=0)  # requests per second cap
    concurrency: int | None = Field(default=None, ge=1)  # batches in flight, capped per platform
    retry: RetryConfig = Field(default_factory=RetryConfig)

    @field_validator("audience_id", "segment_id", "customer_id", "login_customer_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) else value

    @field_validator("country")
    @classmethod
    def _iso2(cls, value: str | None) -> str | None:
        if value is not None and (len(value) != 2 or not value.isalpha()):
            raise ValueError("country must be an ISO-2 code such as TR, US, IE")
        return value.upper() if value else value

    @model_validator(mode="after")
    def _no_inline_secrets(self) -> DestinationConfig:
        for key in (self.model_extra or {}):
            if key in _SECRET_LIKE:
                raise ValueError(
                    f"'{key}' must not be written in cdp.toml; name an environment variable with '{key}_env'"
                )
        return self

    def secret_envs(self) -> dict[str, str]:
        """secret name -> environment variable, for the settings given."""
        out = {}
        for key, name in SECRET_KEYS.items():
            env = getattr(self, key)
            if env:
                out[name] = env
        return out

    def settings(self) -> dict[str, object]:
        """Plain settings for the connector (no secrets: only the variables' names)."""
        data = self.model_dump(exclude_none=True)
        data.pop("transfer", None)
        data.pop("retry", None)
        return data


class SyncConfig(BaseModel):
    """One sync: a segment to a destination for a purpose, on demand or on a schedule."""

    model_config = ConfigDict(extra="forbid")

    segment: str
    destination: str
    purpose: str
    mode: Literal["mirror", "upsert"] = "mirror"
    schedule: str | None = None                       # cron, workspace time zone
    enabled: bool = True

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return value
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"'{value}' is not a cron expression (e.g. \"0 6 * * *\")")
        return value
