"""Sessions that already exist, or are on their way: what a term or a file must not create again.

A session counts as existing when the same course has one with the same start and end, either made
(or being made) by one of our builds that Wix did not refuse, or in the mirror. The weekly builder
leaves such a day out of its plan with the reason ("Already in Wix"), as an exclusion, so the same
term previewed and committed again creates nothing twice; the spreadsheet import marks such rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bookings_app.models import CourseBuildEvent, Service, Session

Key = tuple[int, datetime, datetime]  # course, start, end (aware)
CANCELLED = ("CANCELLED", "CANCELED")


def made_by_builds(services: Iterable[Service], first: date, last: date) -> dict[Key, tuple[str, str]]:
    """Sessions our builds made or are making (any event Wix did not refuse), by course and time:
    (in Wix or on its way, which build)."""
    made: dict[Key, tuple[str, str]] = {}
    events = (
        CourseBuildEvent.objects.filter(
            build__service__in=list(services), build__first_date__lte=last, build__last_date__gte=first
        )
        .exclude(state=CourseBuildEvent.State.FAILED)
        .select_related("build", "build__course_import")
    )
    for event in events:
        build = event.build
        zone = ZoneInfo(build.timezone)
        start = datetime.fromisoformat(event.payload["start"]["localDate"])
        length = datetime.fromisoformat(event.payload["end"]["localDate"]) - start
        if build.course_import is not None:
            by = f"imported from {build.course_import.file_name} on {build.created_at:%-d %b %Y}"
        else:
            by = f"in the term built on {build.created_at:%-d %b %Y}"
        state = "Already in Wix" if event.state == CourseBuildEvent.State.CREATED else "Already on its way to Wix"
        for local in event.sessions:
            moment = datetime.fromisoformat(local)
            made[(build.service_id, moment.replace(tzinfo=zone), (moment + length).replace(tzinfo=zone))] = (state, by)
    return made


def term_existing(*, service: Service, first: date, last: date, tz: str) -> dict[tuple[datetime, datetime], str]:
    """(start, end) → why it is not created again, for the sessions of ``service`` between
    ``first`` and ``last``: made by a build of ours (in Wix or on its way), or in the mirror."""
    made = made_by_builds([service], first, last)
    found = {(start, end): state for (_, start, end), (state, _) in made.items()}
    zone = ZoneInfo(tz)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    for s_start, s_end in (
        Session.objects.filter(service=service, start__gte=start, start__lt=end)
        .exclude(status__in=CANCELLED)
        .values_list("start", "end")
    ):
        found.setdefault((s_start, s_end), "Already in Wix")
    return found
