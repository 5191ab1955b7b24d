"""The calendar: a season of past class sessions, weekly sessions ahead, the course and spa working hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox
from wix_sandbox.common import iso, local_str
from wix_sandbox.seed.demo import Demo


def add_past_sessions(demo: Demo) -> None:
    """A 07:00 swim every day and an 18:30 sunset swim every weekday, from the first day of history to today."""
    day = demo.first_day
    while day <= demo.today:
        demo.swim_events[day] = _session(demo, demo.swim, demo.at(day, 7), 60, demo.coach)
        if day.weekday() < 5:
            demo.sunset_events[day] = _session(demo, demo.sunset, demo.at(day, 18, 30), 60, demo.coach)
        day += timedelta(days=1)


def schedule_future_sessions(demo: Demo) -> None:
    """The classes ahead, through Calendar V3 as an admin's recurring schedule: a weekly MASTER per weekday."""
    # Wix allows a single day per rule.
    sb, swim, sunset, coach = demo.sb, demo.swim, demo.sunset, demo.coach
    weekday_names = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
    tomorrow = demo.today + timedelta(days=1)
    until = demo.until
    masters = []
    for offset in range(7):
        d = tomorrow + timedelta(days=offset)
        masters.append(_event_payload(sb, swim, demo.at(d, 7), 60, coach, weekday_names[d.weekday()], until))
        if d.weekday() < 5:
            masters.append(_event_payload(sb, sunset, demo.at(d, 18, 30), 60, coach, weekday_names[d.weekday()], until))
    for chunk_start in range(0, len(masters), 50):
        demo.api(
            "POST",
            "/calendar/v3/bulk/events/create",
            {"events": [{"event": m} for m in masters[chunk_start : chunk_start + 50]]},
        )


def add_course_sessions(demo: Demo) -> None:
    """The course: 8 Saturday sessions, 3 already run."""
    st, tz, course, at = demo.st, demo.tz, demo.course, demo.at
    today_date = demo.today
    saturday = today_date - timedelta(days=(today_date.weekday() - 5) % 7)
    course_days = [saturday - timedelta(weeks=3) + timedelta(weeks=i) for i in range(8)]
    demo.course_days = course_days
    for d in course_days:
        _session(demo, course, at(d, 10), 90, demo.teacher)
    course_entity = st.edit("services", course["id"])
    assert course_entity is not None
    course_entity["schedule"]["firstSessionStart"] = iso(at(course_days[0], 10).replace(tzinfo=tz))
    course_entity["schedule"]["lastSessionEnd"] = iso(
        (at(course_days[-1], 10) + timedelta(minutes=90)).replace(tzinfo=tz)
    )
    with st.transaction():
        st.put("services", course_entity)


def add_spa_working_hours(demo: Demo) -> None:
    """Spa working hours (Mon–Sat 09:00–17:00) from two weeks back to 60 days ahead."""
    sb, at = demo.sb, demo.at
    day = demo.today - timedelta(days=14)
    while day <= demo.until:
        if day.weekday() < 6:
            for therapist in (demo.maya, demo.ravi):
                demo.put(
                    "events",
                    {
                        "scheduleId": therapist["resource"]["eventsSchedule"]["id"],
                        "type": "WORKING_HOURS",
                        "status": "CONFIRMED",
                        "title": "Working hours",
                        "start": {"localDate": local_str(at(day, 9)), "timeZone": sb.business_timezone},
                        "end": {"localDate": local_str(at(day, 17)), "timeZone": sb.business_timezone},
                        "timeZone": sb.business_timezone,
                        "resources": [
                            {"id": therapist["resourceId"], "name": therapist["name"], "permissionRole": "WRITER"}
                        ],
                        "recurrenceType": "NONE",
                        "revision": "1",
                    },
                )
        day += timedelta(days=1)


def _session(
    demo: Demo, svc: dict[str, Any], start: datetime, minutes: int, who: dict[str, Any], capacity: int | None = None
) -> dict[str, Any]:
    sb = demo.sb
    loc = svc["locations"][0]
    return demo.put(
        "events",
        {
            "scheduleId": svc["schedule"]["id"],
            "externalScheduleId": svc["id"],
            "type": svc["type"],
            "status": "CONFIRMED",
            "title": svc["name"],
            "start": {"localDate": local_str(start), "timeZone": sb.business_timezone},
            "end": {"localDate": local_str(start + timedelta(minutes=minutes)), "timeZone": sb.business_timezone},
            "timeZone": sb.business_timezone,
            "resources": [{"id": who["resourceId"], "name": who["name"], "permissionRole": "WRITER"}],
            "totalCapacity": capacity if capacity is not None else svc["defaultCapacity"],
            "location": {
                "id": loc["id"],
                "name": loc["business"]["name"],
                "formattedAddress": loc["business"]["address"]["formattedAddress"],
                "type": "BUSINESS",
            },
            "recurrenceType": "NONE",
            "appId": BOOKINGS_APP_ID,
            "revision": "1",
        },
    )


def _event_payload(
    sb: Sandbox, svc: dict[str, Any], start: datetime, minutes: int, who: dict[str, Any], weekday: str, until: Any
) -> dict[str, Any]:
    return {
        "scheduleId": svc["schedule"]["id"],
        "externalScheduleId": svc["id"],
        "type": svc["type"],
        "title": svc["name"],
        "start": {"localDate": local_str(start), "timeZone": sb.business_timezone},
        "end": {"localDate": local_str(start + timedelta(minutes=minutes)), "timeZone": sb.business_timezone},
        "resources": [{"id": who["resourceId"], "permissionRole": "WRITER"}],
        "totalCapacity": svc["defaultCapacity"],
        "recurrenceRule": {
            "frequency": "WEEKLY",
            "interval": 1,
            "days": [weekday],
            "until": {"localDate": local_str(datetime.combine(until, time(23, 59)))},
        },
    }
