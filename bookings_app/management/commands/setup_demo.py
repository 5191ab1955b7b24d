"""Prepare the embedded default: roles, demo logins and the demo swim club in the sandbox.

In sandbox mode it also writes the import's sample file, ``tests/data/participants-sample.csv``: a
few hundred rows of the demo club's sign-in sheets with deliberate mistakes, dated on the sessions
the mirror now holds (``services/imports/sample.py``; the tests keep their own copy, pinned to their
demo day, next to it). ``--sample PATH`` writes it elsewhere, ``--sample ''`` not at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from bookings_app import wix

SAMPLE = Path(settings.BASE_DIR) / "tests" / "data" / "participants-sample.csv"


class Command(BaseCommand):
    help = "Create roles; in sandbox mode also the demo users and the demo data, then sync the mirror."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--sample",
            default=str(SAMPLE),
            help="Where to write the import's sample file in sandbox mode ('' for nowhere).",
        )

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
        if opts["sample"]:
            self._write_sample(Path(opts["sample"]))

    def _write_sample(self, path: Path) -> None:
        from bookings_app.services.imports import sample

        if not path.parent.is_dir():
            self.stdout.write(f"No {path.parent}/: the import's sample file was not written.")
            return
        data = sample.practice_csv(today=timezone.localdate(), now=timezone.now())
        path.write_bytes(data)
        rows = sum(1 for line in data.decode("utf-8-sig").splitlines()[1:] if line.strip(","))
        self.stdout.write(f"An import to try (Import participants): {path} — {rows} rows, some with mistakes.")
