"""Schedule maths (``services/courses/plan.py``): sessions, excluded days, and the exact Calendar V3
events — one weekday per rule, ``until``, exclusions as split series, local times across DST."""

from __future__ import annotations

from datetime import UTC, date, time, timedelta

import pytest

from bookings_app.models import Service
from bookings_app.services.courses import Exclusion, Slot, Term, plan_term
from tests import factories

TUE, THU = 1, 3
EVENING = (Slot(TUE, time(17), time(17, 45)), Slot(THU, time(17), time(17, 45)))


def term(first: date, weeks: int, slots=EVENING, exclusions: tuple[Exclusion, ...] = (), **extra) -> Term:
    service = factories.ServiceFactory.build(
        type=Service.Type.COURSE, wix_id="svc-1", schedule_id="sched-1", name="Learn to Swim"
    )
    instructor = factories.StaffMemberFactory.build(name="Lena Fischer", resource_id="res-lena")
    return Term(
        service=service,
        instructor=instructor,
        location=extra.get("location"),
        capacity=extra.get("capacity", 10),
        tz="Europe/London",
        slots=slots,
        first=first,
        last=first + timedelta(weeks=weeks, days=-1),
        exclusions=exclusions,
    )


FIRST = date(2027, 1, 5)  # a Tuesday
HALF_TERM = Exclusion(date(2027, 2, 1), date(2027, 2, 7), "Half-term")  # the term's fifth week


def series(start: str, end: str, day: str, until: str, **extra) -> dict:
    event = {
        "type": "COURSE",
        "scheduleId": "sched-1",
        "externalScheduleId": "svc-1",
        "start": {"localDate": start},
        "end": {"localDate": end},
        "resources": [{"id": "res-lena", "permissionRole": "WRITER"}],
        "totalCapacity": 10,
        "recurrenceRule": {"frequency": "WEEKLY", "interval": 1, "days": [day], "until": {"localDate": until}},
    }
    event.update(extra)
    return event


def test_ten_weeks_tue_thu_with_half_term_off_is_18_sessions_in_four_weekly_series() -> None:
    plan = plan_term(term(FIRST, 10, exclusions=(HALF_TERM,)))

    assert len(plan.sessions) == 18
    assert [(s.day, s.exclusion.reason) for s in plan.skipped] == [
        (date(2027, 2, 2), "Half-term"),
        (date(2027, 2, 4), "Half-term"),
    ]
    assert [e.payload for e in plan.events] == [
        series("2027-01-05T17:00:00", "2027-01-05T17:45:00", "TUESDAY", "2027-01-26T23:59:59"),
        series("2027-01-07T17:00:00", "2027-01-07T17:45:00", "THURSDAY", "2027-01-28T23:59:59"),
        series("2027-02-09T17:00:00", "2027-02-09T17:45:00", "TUESDAY", "2027-03-09T23:59:59"),
        series("2027-02-11T17:00:00", "2027-02-11T17:45:00", "THURSDAY", "2027-03-11T23:59:59"),
    ]
    assert [len(e.days) for e in plan.events] == [4, 4, 5, 5]
    assert len(plan.requests) == 1
    excluded = {s.day for s in plan.skipped}
    assert not excluded & {s.day for s in plan.sessions}


def test_every_rule_names_exactly_one_weekday() -> None:
    slots = (*EVENING, Slot(0, time(9), time(10)), Slot(TUE, time(18), time(18, 45)))
    plan = plan_term(term(FIRST, 6, slots=slots))

    assert all(len(e.payload["recurrenceRule"]["days"]) == 1 for e in plan.events)
    assert sorted(e.payload["recurrenceRule"]["days"][0] for e in plan.events) == [
        "MONDAY",
        "THURSDAY",
        "TUESDAY",
        "TUESDAY",
    ]
    # Six weeks from Tuesday 5 January end on Monday 15 February: six of each weekday.
    assert len(plan.sessions) == 6 * 4
    assert min(s.day for s in plan.sessions if s.slot.weekday == 0) == date(2027, 1, 11)


def test_a_single_week_between_exclusions_is_a_single_event_without_a_rule() -> None:
    off = (
        Exclusion(date(2027, 1, 11), date(2027, 1, 17), "Gala"),
        Exclusion(date(2027, 1, 25), date(2027, 1, 31), "Pool closed"),
    )
    plan = plan_term(term(FIRST, 5, slots=EVENING[:1], exclusions=off))

    assert [e.days for e in plan.events] == [[date(2027, 1, 5)], [date(2027, 1, 19)], [date(2027, 2, 2)]]
    assert all("recurrenceRule" not in e.payload for e in plan.events)
    assert plan.events[1].payload["start"] == {"localDate": "2027-01-19T17:00:00"}
    assert (plan.series_count, plan.single_count) == (0, 3)


def test_a_single_excluded_day_splits_only_its_weekday() -> None:
    bank_holiday = Exclusion(date(2027, 1, 21), date(2027, 1, 21), "Bank holiday")  # a Thursday
    plan = plan_term(term(FIRST, 4, exclusions=(bank_holiday,)))

    tuesdays = [e for e in plan.events if e.slot.weekday == TUE]
    thursdays = [e for e in plan.events if e.slot.weekday == THU]
    assert [len(e.days) for e in tuesdays] == [4]
    assert [e.days for e in thursdays] == [[date(2027, 1, 7), date(2027, 1, 14)], [date(2027, 1, 28)]]
    assert len(plan.sessions) == 7


def test_a_term_across_the_clocks_going_back_keeps_its_local_time() -> None:
    # British Summer Time ends on Sunday 31 October 2027.
    plan = plan_term(term(date(2027, 10, 19), 3, slots=EVENING[:1]))

    (event,) = plan.events
    assert event.payload["start"] == {"localDate": "2027-10-19T17:00:00"}
    assert event.payload["recurrenceRule"]["until"] == {"localDate": "2027-11-02T23:59:59"}
    assert [s.local_start for s in plan.sessions] == [
        "2027-10-19T17:00:00",
        "2027-10-26T17:00:00",
        "2027-11-02T17:00:00",
    ]
    assert [s.start.astimezone(UTC).hour for s in plan.sessions] == [16, 16, 17]
    assert not any(s.clock_note for s in plan.sessions)


def test_a_session_in_the_hour_the_clocks_skip_is_noted() -> None:
    # 28 March 2027: clocks go forward at 01:00; a Sunday 01:30 session does not exist that day.
    plan = plan_term(term(date(2027, 3, 21), 2, slots=(Slot(6, time(1, 30), time(2, 15)),)))

    notes = [s.clock_note for s in plan.sessions]
    assert notes == ["", "01:30 does not exist on 28 Mar (the clocks go forward)"]


def test_a_first_date_mid_week_starts_each_weekday_at_its_first_day_on_or_after_it() -> None:
    plan = plan_term(term(date(2027, 1, 6), 2))  # a Wednesday, to Tuesday 19th: Thursday 7th comes first

    assert [s.day for s in plan.sessions] == [date(2027, 1, 7), date(2027, 1, 12), date(2027, 1, 14), date(2027, 1, 19)]


def test_more_than_50_events_go_in_several_requests_of_at_most_50() -> None:
    every_day = tuple(Slot(d, time(7), time(8)) for d in range(7))
    first = date(2027, 1, 4)  # a Monday
    off = tuple(
        Exclusion(first + timedelta(weeks=w), first + timedelta(weeks=w, days=6), "Pool closed")
        for w in range(1, 52, 2)
    )
    plan = plan_term(term(first, 52, slots=every_day, exclusions=off))

    assert len(plan.events) == 7 * 26 and all(not e.recurring for e in plan.events)
    assert [len(r) for r in plan.requests] == [50, 50, 50, 32]
    assert len(plan.sessions) == 7 * 26


def test_the_location_and_capacity_go_on_every_event() -> None:
    place = {"id": "loc-1", "type": "BUSINESS", "name": "Lakeside Centre"}
    plan = plan_term(term(FIRST, 2, location=place, capacity=8))

    assert all(e.payload["location"] == place and e.payload["totalCapacity"] == 8 for e in plan.events)


def test_the_digest_follows_what_would_be_sent() -> None:
    one = plan_term(term(FIRST, 10, exclusions=(HALF_TERM,)))
    same = plan_term(term(FIRST, 10, exclusions=(HALF_TERM,)))
    other = plan_term(term(FIRST, 9, exclusions=(HALF_TERM,)))

    assert one.digest == same.digest
    assert one.digest != other.digest


@pytest.mark.parametrize("weeks", [1, 2, 13, 52])
def test_sessions_are_the_events_days_and_nothing_else(weeks: int) -> None:
    plan = plan_term(term(FIRST, weeks, exclusions=(HALF_TERM,)))

    from_events = sorted(s for e in plan.events for s in e.sessions)
    assert from_events == sorted(s.local_start for s in plan.sessions)
