"""``manage.py wix_check [--write --service … --member …]``: is the configured Wix site ready?"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from bookings_app.services.wix_check import Clock, WriteTarget, render, summary, wix_check_run
from bookings_app.wix import WixConfig, WixConfigError, get_wix_client


class Command(BaseCommand):
    help = (
        "Check the configured Wix site: credentials, installed apps and every Wix operation the app uses "
        "(read-only). With --write it also books, pays and plan-charges one test booking and undoes it. "
        "Prints a plain report and stores the answers the app adapts to. Exit code 1 when a check fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--write",
            action="store_true",
            help="Also make one test booking (paid in cash) and one paid with a plan, read them back, undo them.",
        )
        parser.add_argument("--service", help="The test service for --write: a class or course, by id or exact name.")
        parser.add_argument(
            "--member", help="The test member for --write (with a plan covering it): id or login email."
        )
        parser.add_argument(
            "--wait",
            type=float,
            default=20.0,
            help="--write: the most seconds to wait for Wix to settle a plan charge or a refund (default 20).",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        write = None
        if opts["write"]:
            if not (opts.get("service") and opts.get("member")):
                raise CommandError(
                    "--write needs a test service and a test member: "
                    "--write --service <class or course id or exact name> --member <member id or login email>."
                )
            write = WriteTarget(service=opts["service"], member=opts["member"])
        elif opts.get("service") or opts.get("member"):
            raise CommandError("--service and --member only go with --write.")
        tz = ZoneInfo(settings.TIME_ZONE)
        try:
            with get_wix_client() as wix:
                report = wix_check_run(
                    wix=wix,
                    target=_target(settings.WIX),
                    time_zone=settings.TIME_ZONE,
                    now=timezone.now().astimezone(tz),
                    write=write,
                    clock=Clock(wait_seconds=max(opts["wait"], 0.0)),
                )
        except WixConfigError as exc:
            raise CommandError(f"Wix is not configured: {exc}") from None
        self.stdout.write(render(report), ending="")
        if not report.ok:
            raise CommandError(summary(report), returncode=1)


def _target(config: WixConfig) -> str:
    """Which Wix this is, in words — never a key or secret."""
    if config.mode == "sandbox":
        return "the built-in Wix sandbox (no Wix credentials are set)"
    if config.mode == "app":
        return f"app instance {config.instance_id} at {config.base_url} (Wix-app credentials)"
    return f"site {config.site_id} at {config.base_url} (API key)"
