"""Local fake servers for the destination platforms (DESTINATIONS.md, "Platform contracts")."""

from __future__ import annotations

from tests.fakes.base import FakeServer, Reply, Request
from tests.fakes.google_ads import GoogleFake
from tests.fakes.klaviyo import KlaviyoFake
from tests.fakes.mailchimp import MailchimpFake
from tests.fakes.meta import MetaFake
from tests.fakes.webhook import WebhookFake

__all__ = ["FakeServer", "GoogleFake", "KlaviyoFake", "MailchimpFake", "MetaFake", "Reply", "Request", "WebhookFake"]
