"""The rules a term meets before it is planned (``services/courses/term.py``): every problem named,
by field, in plain words."""

from __future__ import annotations

from datetime import date, time

import pytest

from bookings_app.models import Service
from bookings_app.services.courses import Exclusion, Slot, TermInvalid, term_make
from tests import factories

TODAY = date(2027, 1, 4)  # a Monday
TUE = Slot(1, time(17), time(17, 45))


def make(**changes):
    args = {
        "service": factories.ServiceFactory.build(
            type=Service.Type.COURSE, schedule_id="sched-1", name="Learn to Swim"
        ),
        "instructor": factories.StaffMemberFactory.build(name="Lena Fischer", resource_id="res-1"),
        "location": None,
        "capacity": 10,
        "slots": [(0, TUE)],
        "first": date(2027, 1, 5),
        "last": None,
        "weeks": 10,
        "exclusions": [],
        "today": TODAY,
        "tz": "Europe/London",
    }
    args.update(changes)
    return term_make(**args)


def problems(**changes) -> dict[str, list[str]]:
    with pytest.raises(TermInvalid) as excinfo:
        make(**changes)
    return excinfo.value.problems


def test_a_good_term_runs_its_weeks_from_the_first_date() -> None:
    term = make()
    assert (term.first, term.last, term.weeks) == (date(2027, 1, 5), date(2027, 3, 15), 10)
    assert make(weeks=None, last=date(2027, 1, 5)).last == date(2027, 1, 5)  # one day is a term


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        (
            {"weeks": None, "last": date(2027, 1, 1)},
            "last_date",
            "The last date (1 Jan 2027) is before the first (5 Jan 2027).",
        ),
        ({"slots": []}, "slots", "Add at least one weekday"),
        ({"weeks": 0}, "weeks", "A term is at least 1 week."),
        ({"slots": [(2, Slot(1, time(17), time(16)))]}, "slot-2", "Tuesday: the session ends before it starts."),
        ({"slots": [(0, Slot(1, time(17), time(17)))]}, "slot-0", "ends before it starts"),
        (
            {"weeks": None, "last": date(2032, 1, 4)},
            "last_date",
            "That term is 261 weeks long; a term can be at most 52 weeks.",
        ),
        ({"weeks": 260}, "weeks", "at most 52 weeks"),
        ({"weeks": 53}, "weeks", "at most 52 weeks"),
        ({"weeks": None}, "last_date", "Give the last date, or the number of weeks."),
        ({"last": date(2027, 2, 1)}, "weeks", "not both"),
        ({"first": date(2027, 1, 3)}, "first_date", "The first date is in the past"),
        ({"first": date(2030, 1, 1)}, "first_date", "at most 2 years ahead"),
        ({"first": None}, "first_date", "Give the date of the first week."),
        ({"capacity": 0}, "capacity", "Capacity is 1 to 1000 people."),
        ({"capacity": None}, "capacity", "how many people"),
        ({"service": None}, "service", "Choose the course."),
        ({"instructor": None}, "instructor", "Choose the instructor."),
        ({"slots": [(0, TUE), (1, Slot(1, time(17, 30), time(18)))]}, "slot-1", "overlaps Tuesday 17:00–17:45 (row 1)"),
        (
            {"exclusions": [(0, Exclusion(date(2027, 2, 7), date(2027, 2, 1), "Half-term"))]},
            "exclusion-0",
            "the end (1 Feb) is before the start",
        ),
        (
            {"exclusions": [(1, Exclusion(date(2028, 2, 1), date(2028, 2, 1), "Gala"))]},
            "exclusion-1",
            "outside the term",
        ),
        ({"exclusions": [(0, Exclusion(date(2027, 2, 1), date(2027, 2, 1), " "))]}, "exclusion-0", "Say why"),
    ],
)
def test_a_bad_term_names_the_field_and_says_why(changes: dict, field: str, says: str) -> None:
    found = problems(**changes)
    assert any(says in m for m in found.get(field, [])), found


def test_a_class_service_is_not_a_course() -> None:
    found = problems(
        service=factories.ServiceFactory.build(type=Service.Type.CLASS, schedule_id="s", name="Open Water Swim")
    )
    assert found["service"] == ["Open Water Swim is not a course with a calendar in Wix."]


def test_an_instructor_without_a_calendar_resource_is_refused() -> None:
    found = problems(instructor=factories.StaffMemberFactory.build(name="Sam Rivers", resource_id=""))
    assert "Sam Rivers has no calendar resource in Wix" in found["instructor"][0]


def test_every_problem_is_listed_at_once() -> None:
    found = problems(slots=[], weeks=0, capacity=0)
    assert set(found) == {"slots", "weeks", "capacity"}


def test_exclusions_are_kept_in_date_order() -> None:
    late = Exclusion(date(2027, 2, 1), date(2027, 2, 7), "Half-term")
    early = Exclusion(date(2027, 1, 12), date(2027, 1, 12), "Gala")
    assert make(exclusions=[(0, late), (1, early)]).exclusions == (early, late)
