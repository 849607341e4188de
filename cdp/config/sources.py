"""[sources.NAME]: where data comes from and how its columns map (docs/config.md).

```toml
[sources.customers]
kind = "csv"                       # csv | parquet | jsonl (database kinds: postgres | mysql)
path = "data/customers*.csv"       # relative to the workspace; globs allowed
entity = "customers"               # customers | events | consents
key = "customer_ref"               # the source system's own customer key
identifiers = { email = "email", phone = "phone", tax_id = "tax_id" }
contact = ["email", "phone", "full_name"]      # kept only encrypted in the vault
traits = { city = "text", business_type = "text", signup_date = "date" }
```

Every column not named is dropped and counted. Unknown keys are errors naming the key
and file:line. ``kind`` is extensible: :data:`SOURCE_KINDS` lists what is known, and a
connector registering another kind adds it there.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "CONSENT_COLUMNS",
    "FILE_KINDS",
    "IDENTIFIER_KINDS",
    "SOURCE_KINDS",
    "VALUE_TYPES",
    "FieldSpec",
    "SourceConfig",
]

FILE_KINDS = {"csv", "parquet", "jsonl"}
#: every source kind cdp.toml accepts; a database connector adds its kind here
SOURCE_KINDS: set[str] = {"csv", "parquet", "jsonl", "postgres", "mysql"}

#: declared types of traits and event properties -> DuckDB type
VALUE_TYPES: dict[str, str] = {
    "text": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}
_TYPE_ALIASES = {"string": "text", "str": "text", "int": "integer", "float": "number", "double": "number",
                 "decimal": "number", "bool": "boolean", "datetime": "timestamp"}

#: identifier kinds that are direct identifiers (normalized as such); others are source keys
IDENTIFIER_KINDS = {"email", "phone", "tax_id", "vkn", "national_id", "tckn", "card"}

#: optional column mappings of a consents source, besides purpose/channel/status/at
CONSENT_COLUMNS = (
    "expires", "basis", "recipient_type", "source", "notice_version", "text_version",
    "collection_method", "actor", "evidence", "iys_transaction_id",
)


class FieldSpec(BaseModel):
    """A trait or property declared as a table: ``{ type = "date", column = "Kayıt Tarihi" }``."""

    model_config = ConfigDict(extra="forbid")

    type: str
    column: str | None = None          # the source column, when it is named differently
    format: str | None = None          # strptime format for date/timestamp text

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return _check_type(value)


def _check_type(value: str) -> str:
    v = _TYPE_ALIASES.get(value.strip().lower(), value.strip().lower())
    if v not in VALUE_TYPES:
        raise ValueError(f"unknown type '{value}'; use one of {', '.join(VALUE_TYPES)}")
    return v


def _specs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (_check_type(v) if isinstance(v, str) else v) for k, v in value.items()}
    return value


class SourceConfig(BaseModel):
    """One ``[sources.NAME]`` table."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    entity: Literal["customers", "events", "consents"]
    path: str | list[str] | None = None
    enabled: bool = True

    # reading options (files); auto-detected when absent
    delimiter: str | None = None
    encoding: str | None = None
    header: bool = True
    date_format: str | None = None
    timestamp_format: str | None = None
    timezone: str | None = None        # of naive timestamps in this source (default: the workspace's)
    # database kinds (used by their connectors)
    table: str | None = None
    query: str | None = None
    dsn_env: str | None = None
    cursor: str | None = None          # column for incremental loading
    batch_size: int | None = Field(default=None, gt=0)   # rows per Arrow batch (database kinds; default 50000)
    options: dict[str, Any] = Field(default_factory=dict)

    # who the row belongs to
    key: str | None = None
    key_kind: str | None = None
    identifiers: dict[str, str] = Field(default_factory=dict)     # kind -> column
    identifier: dict[str, str] = Field(default_factory=dict)      # consents: kind -> column
    contact: list[str] = Field(default_factory=list)

    # customers
    traits: dict[str, str | FieldSpec] = Field(default_factory=dict)

    # events
    event_id: str | None = None
    event_type: str | None = None
    timestamp: str | None = None
    amount: str | None = None
    properties: dict[str, str | FieldSpec] = Field(default_factory=dict)

    # consents
    purpose: str | None = None
    channel: str | None = None
    status: str | None = None
    at: str | None = None
    expires: str | None = None
    basis: str | None = None
    recipient_type: str | None = None
    source: str | None = None
    notice_version: str | None = None
    text_version: str | None = None
    collection_method: str | None = None
    actor: str | None = None
    evidence: str | None = None
    iys_transaction_id: str | None = None
    defaults: dict[str, str] = Field(default_factory=dict)   # constant values for unmapped consent fields

    @field_validator("traits", "properties", mode="before")
    @classmethod
    def _typed(cls, value: Any) -> Any:
        return _specs(value)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        v = value.strip().lower()
        if v not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind '{value}'; use one of {', '.join(sorted(SOURCE_KINDS))}")
        return v

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1 and value != "\\t":
            raise ValueError("a delimiter is one character")
        return value

    @model_validator(mode="after")
    def _entity_contract(self) -> SourceConfig:
        if self.kind in FILE_KINDS and not self.path:
            raise ValueError(f"a {self.kind} source needs `path`")
        if self.entity == "events":
            missing = [k for k in ("event_type", "timestamp") if getattr(self, k) is None]
            if missing:
                raise ValueError(f"an events source needs {' and '.join(missing)}")
            if self.key is None and not self.identifiers:
                raise ValueError("an events source needs `key` or `identifiers` to find the customer")
        elif self.entity == "customers":
            if self.key is None and not self.identifiers:
                raise ValueError("a customers source needs `key` or `identifiers`")
        elif self.entity == "consents":
            missing = [k for k in ("status", "at") if getattr(self, k) is None]
            # purpose may be left out: it follows from the channel (email -> email_marketing, ...)
            missing += [k for k in ("channel",) if getattr(self, k) is None and k not in self.defaults]
            if missing:
                raise ValueError(f"a consents source needs {', '.join(missing)}")
            if self.key is None and not self.identifier and not self.identifiers:
                raise ValueError("a consents source needs `key` or `identifier = { email = \"...\" }`")
        return self

    # -- derived ---------------------------------------------------------------------------
    @property
    def paths(self) -> list[str]:
        if self.path is None:
            return []
        return [self.path] if isinstance(self.path, str) else list(self.path)

    @property
    def key_identifier_kind(self) -> str | None:
        """The identifier kind of ``key``: ``key_kind`` or the column name."""
        if self.key is None:
            return None
        return (self.key_kind or self.key).strip().lower()

    def identifier_columns(self) -> dict[str, str]:
        """kind -> column over ``key``, ``identifiers`` and ``identifier``."""
        out: dict[str, str] = {}
        if self.key is not None:
            out[self.key_identifier_kind or self.key] = self.key
        out.update({k.lower(): v for k, v in self.identifiers.items()})
        out.update({k.lower(): v for k, v in self.identifier.items()})
        return out

    @staticmethod
    def spec_type(spec: str | FieldSpec) -> str:
        return spec if isinstance(spec, str) else spec.type

    @staticmethod
    def spec_column(name: str, spec: str | FieldSpec) -> str:
        return name if isinstance(spec, str) or spec.column is None else spec.column
