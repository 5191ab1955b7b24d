"""What ``manage.py wix_check`` settled about the connected Wix site.

Wix leaves some behaviour undocumented (which membership id Charge Memberships wants, which
sales channel Cart V2 accepts from an API key, the HTTP status of a duplicate …). The check
asks the live site once and stores each answer here; the app reads them with
``selectors.site_facts.site_fact(key, default)`` and adapts. Never holds a secret.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class WixSiteFact(models.Model):
    """One settled answer: ``key`` (e.g. ``cart_channel``) → a JSON ``value``."""

    key = models.CharField(max_length=100, unique=True)
    value = models.JSONField(null=True, blank=True)
    settled_at = models.DateTimeField(default=timezone.now)
    detail = models.TextField(blank=True, help_text="How the check found it out, in plain words.")

    class Meta:
        ordering = ["key"]
        verbose_name = "Wix site fact"

    def __str__(self) -> str:
        return f"{self.key} = {self.value!r}"
