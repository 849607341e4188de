"""From a ``[sources.NAME]`` table to the list of fields ingestion reads (pure, no SQL run)."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdp.config.sources import IDENTIFIER_KINDS, SourceConfig
from cdp.errors import ConfigError
from privacy.normalize import canonical_kind

__all__ = ["CHANNELS", "PURPOSE_OF_CHANNEL", "STATUS_WORDS", "Field", "SourcePlan", "plan_source"]

_EVENT_INTERNAL = {"event_id", "customer_id", "event_type", "ts", "amount", "source", "properties"}
_CUSTOMER_INTERNAL = {"customer_id", "first_seen_at", "updated_at"}

#: channel words (lower-case) -> ledger channel; İYS types EPOSTA/MESAJ/ARAMA included
CHANNELS = {
    "email": "email", "e-mail": "email", "mail": "email", "eposta": "email", "e-posta": "email",
    "sms": "sms", "mesaj": "sms", "message": "sms",
    "call": "call", "arama": "call", "phone": "call", "telefon": "call",
    "ads": "ads", "ad": "ads", "advertising": "ads", "any": "any", "all": "any",
}
#: status words (lower-case) -> ledger status; İYS ONAY/RET included
STATUS_WORDS = {
    "granted": "granted", "grant": "granted", "onay": "granted", "opt_in": "granted", "opt-in": "granted",
    "yes": "granted", "true": "granted", "evet": "granted", "1": "granted",
    "withdrawn": "withdrawn", "withdraw": "withdrawn", "revoked": "withdrawn",
    "refused": "refused", "refuse": "refused", "ret": "refused", "opt_out": "refused", "opt-out": "refused",
    "no": "refused", "false": "refused", "hayır": "refused", "hayir": "refused", "0": "refused",
}
PURPOSE_OF_CHANNEL = {"email": "email_marketing", "sms": "sms_marketing", "call": "call_marketing",
                      "ads": "ads_targeting"}


@dataclass(frozen=True)
class Field:
    """One mapped column: ``role`` is trait, property, contact, event_id, event_type, ts, amount or a
    consent field name; ``vtype`` the declared type."""

    role: str
    name: str
    column: str
    vtype: str = "text"
    fmt: str | None = None
    required: bool = False


@dataclass
class SourcePlan:
    name: str
    config: SourceConfig
    ids: list[tuple[str, str]] = field(default_factory=list)       # (kind, column), key first
    fields: list[Field] = field(default_factory=list)
    contact: dict[str, str] = field(default_factory=dict)          # vault field -> column

    @property
    def columns(self) -> set[str]:
        return {c for _, c in self.ids} | {f.column for f in self.fields} | set(self.contact.values())

    def by_role(self, role: str) -> list[Field]:
        return [f for f in self.fields if f.role == role]

    def one(self, role: str) -> Field | None:
        got = self.by_role(role)
        return got[0] if got else None


def _err(name: str, key: str, msg: str) -> ConfigError:
    return ConfigError(msg, key=f"sources.{name}.{key}")


def plan_source(name: str, cfg: SourceConfig) -> SourcePlan:
    """The fields of a source, checked against the names the store reserves."""
    plan = SourcePlan(name=name, config=cfg)
    seen_kinds: set[str] = set()
    for kind, column in cfg.identifier_columns().items():
        k = canonical_kind(kind)
        if k in seen_kinds:
            raise _err(name, "identifiers", f"identifier kind '{k}' is mapped twice")
        seen_kinds.add(k)
        plan.ids.append((k, column))
    id_cols = {c: k for k, c in plan.ids}
    contact = cfg.contact
    for col in contact:
        kind = id_cols.get(col)
        fieldname = kind if kind in IDENTIFIER_KINDS | {"tax_id", "national_id"} else col
        plan.contact[fieldname] = col

    def typed(role: str, decl: dict, reserved: set[str]) -> None:
        for tname, spec in decl.items():
            if tname in reserved or tname.startswith("_"):
                raise _err(name, f"{role}s.{tname}", f"'{tname}' is a reserved column name")
            plan.fields.append(Field(role, tname, cfg.spec_column(tname, spec), cfg.spec_type(spec),
                                     None if isinstance(spec, str) else spec.format))

    if cfg.entity == "customers":
        typed("trait", cfg.traits, _CUSTOMER_INTERNAL)
    elif cfg.entity == "events":
        if cfg.event_id:
            plan.fields.append(Field("event_id", "event_id", cfg.event_id, "text", required=True))
        plan.fields.append(Field("event_type", "event_type", cfg.event_type or "", "text", required=True))
        plan.fields.append(Field("ts", "ts", cfg.timestamp or "", "timestamp", cfg.timestamp_format, True))
        if cfg.amount:
            plan.fields.append(Field("amount", "amount", cfg.amount, "number"))
        typed("property", cfg.properties, _EVENT_INTERNAL)
    else:
        for role in ("purpose", "channel", "status"):
            col = getattr(cfg, role)
            if col:
                plan.fields.append(Field(role, role, col, "text"))
        plan.fields.append(Field("at", "at", cfg.at or "", "timestamp", cfg.timestamp_format, True))
        if cfg.expires:
            plan.fields.append(Field("expires", "expires", cfg.expires, "timestamp", cfg.timestamp_format))
        for role in ("basis", "recipient_type", "source", "notice_version", "text_version",
                     "collection_method", "actor", "evidence", "iys_transaction_id"):
            col = getattr(cfg, role)
            if col:
                plan.fields.append(Field(role, role, col, "text"))
        for key in cfg.defaults:
            if key not in ("purpose", "channel", "status", "basis", "recipient_type", "source", "notice_version",
                           "text_version", "collection_method", "actor", "evidence"):
                raise _err(name, f"defaults.{key}", "not a consent field that can have a default")
    return plan
