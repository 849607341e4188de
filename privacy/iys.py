"""İYS (İleti Yönetim Sistemi) permission files, and our own consent CSV (PRIVACY.md §3).

Reading yields :class:`ConsentRecord` rows whose identifier is still raw (kept in memory
only); the caller pseudonymizes it and turns the record into a ledger event. A bad row
becomes a :class:`RejectedRow` naming the line and field, never the value.

İYS mapping: EPOSTA → ``email_marketing``/``email``, MESAJ → ``sms_marketing``/``sms``,
ARAMA → ``call_marketing``/``call``; ONAY → granted, RET → refused (a withdrawal when the
same recipient had an earlier ONAY); ``consentDate`` is ``YYYY-MM-DD HH:mm:ss`` Turkish time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = [
    "CSV_COLUMNS",
    "IYS_TYPES",
    "TR_OFFSET",
    "ConsentRecord",
    "RejectedRow",
    "read_consent_csv",
    "read_iys",
    "to_iys",
]

#: Türkiye has used UTC+3 all year since 2016
TR_OFFSET = timedelta(hours=3)
IYS_TYPES = {"EPOSTA": ("email_marketing", "email"), "MESAJ": ("sms_marketing", "sms"), "ARAMA": ("call_marketing", "call")}
_IYS_BY_CHANNEL = {ch: t for t, (_, ch) in IYS_TYPES.items()}
_IYS_STATUS = {"ONAY": "granted", "RET": "refused"}
_RECIPIENT_TYPES = ("BIREYSEL", "TACIR")
CSV_COLUMNS = (
    "customer_id", "email", "phone", "purpose", "channel", "status", "effective_at", "expires_at", "basis",
    "recipient_type", "source", "notice_version", "text_version", "collection_method", "actor", "evidence",
    "iys_transaction_id",
)


@dataclass(frozen=True)
class ConsentRecord:
    """One consent row read from a file: the subject is a raw identifier or a customer id."""

    line: int
    purpose: str
    channel: str
    status: str
    effective_at: datetime               # naive UTC
    identifier_kind: str | None = None   # email | phone
    identifier: str | None = None        # raw; never stored or printed
    customer_id: str | None = None
    recipient_type: str | None = None
    source: str | None = None
    basis: str | None = None
    notice_version: str | None = None
    text_version: str | None = None
    collection_method: str | None = None
    actor: str | None = None
    evidence: str | None = None
    iys_transaction_id: str | None = None
    expires_at: datetime | None = None

    def __repr__(self) -> str:  # never show the identifier
        return f"ConsentRecord(line={self.line}, purpose={self.purpose!r}, status={self.status!r})"


@dataclass(frozen=True)
class RejectedRow:
    line: int
    field: str
    reason: str


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) from a CSV (header on line 1) or JSON (a list, or {"consents": [...]}) file."""
    text = path.read_text(encoding="utf-8-sig")
    stripped = text.lstrip()
    if path.suffix.lower() in (".json", ".jsonl") or stripped.startswith(("[", "{")):
        if path.suffix.lower() == ".jsonl":
            for i, raw in enumerate(text.splitlines(), 1):
                if raw.strip():
                    yield i, json.loads(raw)
            return
        data = json.loads(text)
        if isinstance(data, dict):
            data = data.get("consents") or data.get("list") or data.get("data") or []
        for i, row in enumerate(data, 1):
            yield i, row if isinstance(row, dict) else {}
        return
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    for row in reader:
        yield reader.line_num, {k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k}


def _tr_time(text: str) -> datetime:
    """``YYYY-MM-DD HH:mm:ss`` in Turkish time -> naive UTC."""
    local = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    return local - TR_OFFSET


def read_iys(path: Path) -> tuple[list[ConsentRecord], list[RejectedRow]]:
    """Read an İYS export (CSV or JSON with recipient, recipientType, type, source, status, consentDate)."""
    records: list[ConsentRecord] = []
    rejects: list[RejectedRow] = []
    for line, row in _rows(path):
        get = {str(k).lower(): v for k, v in row.items()}
        recipient = str(get.get("recipient") or "").strip()
        rtype = str(get.get("recipienttype") or "").strip().upper()
        typ = str(get.get("type") or "").strip().upper()
        status = str(get.get("status") or "").strip().upper()
        date_text = str(get.get("consentdate") or "")
        if not recipient:
            rejects.append(RejectedRow(line, "recipient", "missing"))
            continue
        if typ not in IYS_TYPES:
            rejects.append(RejectedRow(line, "type", "must be EPOSTA, MESAJ or ARAMA"))
            continue
        if status not in _IYS_STATUS:
            rejects.append(RejectedRow(line, "status", "must be ONAY or RET"))
            continue
        if rtype and rtype not in _RECIPIENT_TYPES:
            rejects.append(RejectedRow(line, "recipientType", "must be BIREYSEL or TACIR"))
            continue
        try:
            at = _tr_time(date_text)
        except ValueError:
            rejects.append(RejectedRow(line, "consentDate", "must be YYYY-MM-DD HH:mm:ss (Turkish time)"))
            continue
        purpose, channel = IYS_TYPES[typ]
        kind = "email" if typ == "EPOSTA" else "phone"
        if typ == "EPOSTA" and "@" not in recipient:
            rejects.append(RejectedRow(line, "recipient", "not an e-mail address for type EPOSTA"))
            continue
        records.append(
            ConsentRecord(
                line=line,
                purpose=purpose,
                channel=channel,
                status=_IYS_STATUS[status],
                effective_at=at,
                identifier_kind=kind,
                identifier=recipient,
                recipient_type=rtype or "BIREYSEL",
                source=str(get.get("source") or "").strip() or None,
                basis="consent" if status == "ONAY" else None,
                collection_method="iys",
                iys_transaction_id=str(get.get("transactionid") or get.get("iystransactionid") or "").strip() or None,
            )
        )
    return records, rejects


def _parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def read_consent_csv(path: Path) -> tuple[list[ConsentRecord], list[RejectedRow]]:
    """Our own format: :data:`CSV_COLUMNS`; one of customer_id/email/phone; times ISO-8601
    (with an offset, or naive UTC)."""
    records: list[ConsentRecord] = []
    rejects: list[RejectedRow] = []
    for line, row in _rows(path):
        g = {str(k).lower(): (None if v in (None, "") else str(v)) for k, v in row.items()}
        kind = "email" if g.get("email") else "phone" if g.get("phone") else None
        if kind is None and not g.get("customer_id"):
            rejects.append(RejectedRow(line, "customer_id", "one of customer_id, email or phone is required"))
            continue
        missing = [f for f in ("purpose", "status", "effective_at") if not g.get(f)]
        if missing:
            rejects.append(RejectedRow(line, missing[0], "missing"))
            continue
        status = g["status"].lower()  # type: ignore[union-attr]
        if status not in ("granted", "withdrawn", "refused"):
            rejects.append(RejectedRow(line, "status", "must be granted, withdrawn or refused"))
            continue
        purpose = g["purpose"]
        from privacy.policy import CHANNELS, channel_for

        channel = g.get("channel") or channel_for(purpose)  # type: ignore[arg-type]
        if channel not in CHANNELS:
            rejects.append(RejectedRow(line, "channel", f"must be one of {', '.join(CHANNELS)}"))
            continue
        try:
            at = _parse_time(g["effective_at"])  # type: ignore[arg-type]
            expires_text = g.get("expires_at")
            expires = _parse_time(expires_text) if expires_text else None
        except ValueError:
            rejects.append(RejectedRow(line, "effective_at/expires_at", "not an ISO-8601 time"))
            continue
        rtype = (g.get("recipient_type") or "").upper() or None
        if rtype and rtype not in _RECIPIENT_TYPES:
            rejects.append(RejectedRow(line, "recipient_type", "must be BIREYSEL or TACIR"))
            continue
        records.append(
            ConsentRecord(
                line=line, purpose=purpose, channel=channel, status=status, effective_at=at,  # type: ignore[arg-type]
                identifier_kind=kind, identifier=g.get(kind) if kind else None,
                customer_id=None if kind else g.get("customer_id"),
                recipient_type=rtype, source=g.get("source"), basis=g.get("basis"),
                notice_version=g.get("notice_version"), text_version=g.get("text_version"),
                collection_method=g.get("collection_method"), actor=g.get("actor"), evidence=g.get("evidence"),
                iys_transaction_id=g.get("iys_transaction_id"), expires_at=expires,
            )
        )
    return records, rejects


def to_iys(rows: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Ledger rows (with a decrypted ``recipient``) in İYS's registration shape."""
    out = []
    for r in rows:
        typ = _IYS_BY_CHANNEL.get(r["channel"])
        if typ is None or not r.get("recipient"):
            continue
        local = r["effective_at"] + TR_OFFSET
        out.append(
            {
                "recipient": r["recipient"],
                "recipientType": r.get("recipient_type") or "BIREYSEL",
                "type": typ,
                "source": r.get("source") or "HS_WEB",
                "status": "ONAY" if r["status"] == "granted" else "RET",
                "consentDate": local.strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
    return out
