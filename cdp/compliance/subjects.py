"""Who a privacy command is about: ``--customer``, ``--email`` or ``--phone`` (never printed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdp.errors import NotFoundError, PrivacyError

__all__ = ["Subject", "resolve_subject"]


@dataclass(frozen=True)
class Subject:
    """Exactly one of customer id, email or phone. ``repr`` never shows the value."""

    customer: str | None = None
    email: str | None = None
    phone: str | None = None

    @classmethod
    def of(cls, *, customer: str | None = None, email: str | None = None, phone: str | None = None) -> Subject:
        given = [x for x in (customer, email, phone) if x]
        if len(given) != 1:
            raise PrivacyError("give exactly one of --customer, --email or --phone")
        return cls(customer or None, email or None, phone or None)

    @property
    def kind(self) -> str:
        return "customer" if self.customer else "email" if self.email else "phone"

    def __repr__(self) -> str:
        return f"Subject(kind={self.kind!r})"

    __str__ = __repr__


def resolve_subject(con: Any, pz: Any, subject: Subject, *, must_exist: bool = True) -> tuple[str | None, str | None]:
    """(customer_id, id_hash). ``id_hash`` is None for ``--customer``; ``customer_id`` None when
    the identifier is unknown (and ``must_exist`` is False)."""
    if subject.customer:
        row = con.execute("SELECT customer_id FROM customers WHERE customer_id = ?", [subject.customer]).fetchone()
        if row is None and must_exist:
            raise NotFoundError("customer", subject.customer, hint="customer ids look like c_…; see `cdp consent show`")
        return subject.customer, None
    kind = subject.kind
    raw = subject.email if kind == "email" else subject.phone
    id_hash = pz.hash_identifier(kind, raw)
    if id_hash is None:
        raise PrivacyError(f"the given {kind} is not a valid {'e-mail address' if kind == 'email' else 'phone number'}")
    row = con.execute("SELECT customer_id FROM identities WHERE id_hash = ?", [id_hash]).fetchone()
    if row is None and must_exist:
        raise NotFoundError("customer", f"with the given {kind}",
                            hint="nothing is held on this identifier (or it was erased)")
    return (row[0] if row else None), id_hash
