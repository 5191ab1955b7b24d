"""What a build's page lists: every session of the term and whether it exists in Wix, and the
excluded days with their reasons — read from the build's own record (no Wix call)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bookings_app.models import CourseBuild, CourseBuildEvent
from bookings_app.services.courses.commit import MADE_ELSEWHERE
from bookings_app.services.courses.term import WEEKDAY_LABELS

EXCLUDED = "EXCLUDED"
ELSEWHERE = "ELSEWHERE"  # refused here, made since by another build (``commit.MADE_ELSEWHERE``)
LABELS = {
    ELSEWHERE: "In Wix (made by a later import)",
    CourseBuildEvent.State.CREATED: "In Wix",
    CourseBuildEvent.State.FAILED: "Not created",
    CourseBuildEvent.State.SENT: "Sent, checking…",
    CourseBuildEvent.State.PLANNED: "Waiting",
    EXCLUDED: "Excluded",
}


@dataclass(frozen=True)
class BuildRow:
    day: date
    start: time
    end: time
    state: str  # a CourseBuildEvent.State, or EXCLUDED
    note: str = ""  # why it was refused, or excluded

    @property
    def label(self) -> str:
        return LABELS.get(self.state, self.state)

    @property
    def weekday(self) -> str:
        return WEEKDAY_LABELS[self.day.weekday()]


def course_build_rows(*, build: CourseBuild) -> list[BuildRow]:
    """The term's sessions in date order, each with its event's state, and the excluded days."""
    events = getattr(build, "event_list", None) or list(build.events.order_by("position"))
    rows = []
    for event in events:
        start = datetime.fromisoformat(event.payload["start"]["localDate"])
        length = datetime.fromisoformat(event.payload["end"]["localDate"]) - start
        state = ELSEWHERE if event.error_code == MADE_ELSEWHERE else event.state
        for local in event.sessions:
            moment = datetime.fromisoformat(local)
            rows.append(BuildRow(moment.date(), moment.time(), (moment + length).time(), state, event.message))
    for slot in build.slots:
        begin, finish = time.fromisoformat(slot["start"]), time.fromisoformat(slot["end"])
        day = build.first_date + timedelta(days=(slot["weekday"] - build.first_date.weekday()) % 7)
        while day <= build.last_date:
            reason = next(
                (
                    e["reason"]
                    for e in build.exclusions
                    if date.fromisoformat(e["first"]) <= day <= date.fromisoformat(e["last"])
                ),
                None,
            )
            if reason is not None:
                rows.append(BuildRow(day, begin, finish, EXCLUDED, reason))
            day += timedelta(weeks=1)
    return sorted(rows, key=lambda r: (r.day, r.start))
