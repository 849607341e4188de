"""cdp.toml -> the plain policy dataclasses of ``privacy.policy`` (privacy/ may not read config)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from privacy.inventory import SourceInfo
from privacy.policy import DestinationTerms, Policy, Purpose, TransferRecord

__all__ = ["DESTINATION_CHANNELS", "destination_terms", "policy_from_config", "source_infos"]

#: the channel each destination kind delivers on (None: the purpose's own channel)
DESTINATION_CHANNELS: dict[str, str | None] = {
    "meta": "ads",
    "google_ads": "ads",
    "mailchimp": "email",
    "klaviyo": "email",
    "webhook": None,
    "file": None,
}


def policy_from_config(config: Any) -> Policy:
    p = config.privacy
    purposes = {
        name: Purpose(name, channel=pc.channel or "any", description=pc.description,
                      explicit_consent=pc.explicit_consent)
        for name, pc in p.purposes.items()
    }
    return Policy(
        tacir_opt_out=p.tacir_opt_out,
        min_audience_size_ads=p.min_audience_size,
        purposes=purposes,
        special_categories=tuple(p.special_categories),
        data_purposes={k: tuple(v) for k, v in p.data_purposes.items()},
        retention=p.retention.model_dump(),
        periodic_destruction_months=p.periodic_destruction_months,
        request_due_days=p.request_due_days,
    )


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    value = getattr(obj, key, None)
    if value is None:
        extra = getattr(obj, "model_extra", None) or {}
        value = extra.get(key)
    return value


def _when(value: Any) -> date | datetime | None:
    if value is None or isinstance(value, (date, datetime)):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def destination_terms(name: str, dest: Any) -> DestinationTerms:
    """The gate's view of ``[destinations.NAME]``: kind, channel, country, transfer, min size."""
    kind = str(_get(dest, "kind"))
    transfer = _get(dest, "transfer")
    record = None
    if transfer is not None:
        record = TransferRecord(
            basis=_get(transfer, "basis"),
            signed_at=_when(_get(transfer, "signed_at")),
            notified_at=_when(_get(transfer, "notified_at")),
        )
    min_size = _get(dest, "min_audience_size")
    channel = _get(dest, "channel") or DESTINATION_CHANNELS.get(kind)
    return DestinationTerms(
        name=name,
        kind=kind,
        channel=channel,
        country=_get(dest, "country"),
        transfer=record,
        min_audience_size=int(min_size) if min_size is not None else None,
    )


def _names(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple(str(k) for k in value)
    if isinstance(value, (list, tuple, set)):
        return tuple(str(v) for v in value)
    return (str(value),)


def source_infos(config: Any) -> list[SourceInfo]:
    out = []
    for name, src in config.sources.items():
        out.append(
            SourceInfo(
                name=name,
                entity=str(_get(src, "entity") or "customers"),
                identifiers=_names(_get(src, "identifiers")),
                contact=_names(_get(src, "contact")),
                traits=_names(_get(src, "traits")),
                properties=_names(_get(src, "properties")),
            )
        )
    return out
