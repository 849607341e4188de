"""The commented cdp.toml that `cdp init` writes, and the .gitignore beside it."""

from __future__ import annotations

__all__ = ["CONFIG_TEMPLATE", "GITIGNORE"]

CONFIG_TEMPLATE = """\
# cdp.toml: the configuration of this workspace (reference: docs/config.md).
# Privacy by default: no destination, no consent assumed, pseudonymized analytics only.

[workspace]
name = "{name}"
timezone = "Europe/Istanbul"      # naive timestamps in sources are read in this zone
# store_wait_seconds = 30         # how long a command waits while another one holds the store

# --- Sources: uncomment and adapt. Paths are relative to this folder; globs allowed.
# Every column not named below is dropped at ingestion and counted.

# [sources.customers]
# kind = "csv"                      # csv | parquet | jsonl
# path = "data/customers.csv"
# entity = "customers"              # customers | events | consents
# key = "customer_ref"              # the source system's own customer key (pseudonymized)
# identifiers = {{ email = "email", phone = "phone", tax_id = "tax_id" }}
# contact = ["email", "phone", "full_name"]   # kept only encrypted in the vault, for syncing
# traits = {{ city = "text", business_type = "text", signup_date = "date" }}

# [sources.events]
# kind = "parquet"
# path = "data/events/*.parquet"
# entity = "events"
# key = "customer_ref"
# event_id = "event_id"             # idempotent: the same id again with other content is a correction
# event_type = "event_type"
# timestamp = "ts"                  # naive timestamps are in the workspace time zone
# amount = "amount"
# properties = {{ category = "text", store_id = "integer", quantity = "integer" }}

# [sources.consents]
# kind = "jsonl"
# path = "data/consents.jsonl"
# entity = "consents"
# identifier = {{ email = "email" }}  # or key = "customer_ref"
# purpose = "purpose"
# channel = "channel"               # email | sms | call | ads (EPOSTA/MESAJ/ARAMA accepted)
# status = "status"                 # granted | withdrawn | refused (ONAY/RET accepted)
# at = "at"
# source = "source"                 # e.g. HS_WEB
# recipient_type = "recipient_type" # BIREYSEL | TACIR
"""

GITIGNORE = """\
# keys, store and raw data never go into git
.cdp/
data/
"""
