"""Prepare the embedded default: roles, demo logins and the demo swim club in the sandbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from bookings_app import wix


class Command(BaseCommand):
    help = "Create roles; in sandbox mode also the demo users and the demo data, then sync the mirror."

    def handle(self, *args: Any, **opts: Any) -> None:
        if not settings.WIX.is_sandbox:
            call_command("setup_roles")
            self.stdout.write("Live Wix configured: roles created; no demo users or demo data.")
            call_command("sync_wix", "--full")
            return
        call_command("setup_roles", "--demo-users")
        summary = wix.sandbox_seed_if_empty()
        if summary:
            self.stdout.write(f"Seeded the demo swim club in the sandbox: {summary}")
        else:
            self.stdout.write("The sandbox already holds the demo data.")
        call_command("sync_wix", "--full")
