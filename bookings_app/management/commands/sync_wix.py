"""``manage.py sync_wix [--full] [--schedule]``: sync the mirror with Wix in the foreground."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bookings_app import tasks
from bookings_app.services import sync
from bookings_app.wix import WixConfigError, get_wix_client


class Command(BaseCommand):
    help = "Sync the local mirror with Wix now (incremental unless --full) and print what it did."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="Read the whole window again, not only changes.")
        parser.add_argument(
            "--schedule",
            action="store_true",
            help="Only make sure the background poll is queued (the worker runs it every minute), then exit.",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["schedule"]:
            queued = tasks.sync_schedule_ensure()
            self.stdout.write("Queued the background sync poll." if queued else "The background sync poll is queued.")
            return
        try:
            with get_wix_client() as wix:
                report = sync.sync_full(wix=wix) if opts["full"] else sync.sync_incremental(wix=wix)
        except WixConfigError as exc:
            raise CommandError(f"Wix is not configured: {exc}") from None
        if report.skipped:
            raise CommandError("Another sync is running; try again when it has finished.")
        written = ", ".join(f"{name} {count}" for name, count in sorted(report.written.items()) if count) or "nothing"
        summary = f"{report.mode.capitalize()} sync: {report.wix_calls} Wix calls in {report.seconds:.1f} s"
        self.stdout.write(f"{summary}; written: {written}.")
        if report.error:
            raise CommandError(report.error)
