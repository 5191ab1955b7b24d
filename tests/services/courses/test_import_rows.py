"""Each row of a timetable checked (``services/courses/import_rows.py``): names matched however they
are typed, UK and ISO dates, HH:MM times, defaults — and every mistake named with its row and column."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from bookings_app.models import StaffMember
from bookings_app.services.courses import ImportRefused
from bookings_app.services.courses.import_rows import MAX_PROBLEMS, parse_date, parse_time, rows_check
from tests.services.courses.helpers import TUE, CourseWorld, next_weekday
from tests.services.courses.import_helpers import add_aqua_fit, csv_bytes, problems, read, uk

pytestmark = pytest.mark.django_db


def day() -> date:
    return next_weekday(TUE)


def check(rows: list[list[str]], **kw):
    return rows_check(sheet=read(csv_bytes(rows, **kw)), today=timezone.localdate())


def refused(rows: list[list[str]], **kw) -> list[str]:
    with pytest.raises(ImportRefused) as excinfo:
        check(rows, **kw)
    return problems(excinfo)


def test_rows_become_sessions_with_names_matched_however_they_are_typed(cw: CourseWorld) -> None:
    aqua, sam, boathouse = add_aqua_fit(cw)
    rows = [
        ["  LEARN to   swim ", uk(day()), "17:00", "17:45", "lena fischer", "", ""],
        ["Aqua Fit", day().isoformat(), "9:30", "10:15", "sam.okafor@swimclub.example", "the boathouse", "6"],
    ]

    one, two = check(rows)

    assert one.number == 2 and one.service == cw.service() and one.instructor == cw.instructor()
    assert (one.day, one.start, one.end) == (day(), time(17), time(17, 45))
    assert one.place is None  # the course's own place
    assert one.capacity == 12  # the course's default
    assert two.service.name == "Aqua Fit" and two.instructor.wix_id == sam["id"]
    assert two.place is not None and two.place.id == boathouse["id"]
    assert (two.start, two.capacity) == (time(9, 30), 6)


@pytest.mark.parametrize("text", ["2027-03-02", "02/03/2027", "2/3/2027", "02/03/27", "02-03-2027", "02.03.2027"])
def test_dates_are_iso_or_uk_day_first(text: str) -> None:
    assert parse_date(text) == date(2027, 3, 2)


@pytest.mark.parametrize("text", ["03/25/2027", "2027-02-30", "Tuesday", "2/3", "45000"])
def test_what_is_not_a_day_first_date_is_not_a_date(text: str) -> None:
    assert parse_date(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("17:00", time(17)),
        ("9:30", time(9, 30)),
        ("17:00:00", time(17)),
        ("5:00 PM", time(17)),
        ("17.15", time(17, 15)),
    ],
)
def test_times_are_hh_mm(text: str, expected: time) -> None:
    assert parse_time(text) == expected


def test_an_unknown_course_names_the_courses_that_exist_and_a_close_one(cw: CourseWorld) -> None:
    add_aqua_fit(cw)
    (message,) = refused([["Learn to swimm", uk(day()), "17:00", "17:45", "Lena Fischer", "", ""]])
    assert message == (
        "Row 2, column A “Course”: there is no course called “Learn to swimm”. Did you mean “Learn to Swim”? "
        "The courses are: Aqua Fit, Learn to Swim."
    )


def test_a_class_named_as_the_course_is_refused_as_not_a_course(cw: CourseWorld) -> None:
    (message,) = refused([["Open Water Swim", uk(day()), "17:00", "17:45", "Lena Fischer", "", ""]])
    assert "“Open Water Swim” is a class, not a course. The courses are: Learn to Swim." in message


def test_an_unknown_instructor_and_one_without_a_calendar_resource(cw: CourseWorld) -> None:
    StaffMember.objects.filter(name="Alex Coach").update(resource_id="")
    messages = refused(
        [
            ["Learn to Swim", uk(day()), "17:00", "17:45", "Lena Fisher", "", ""],
            ["Learn to Swim", uk(day()), "18:00", "18:45", "Alex Coach", "", ""],
        ]
    )
    assert messages[0].startswith("Row 2, column E “Instructor”: there is no instructor called “Lena Fisher”.")
    assert "Did you mean “Lena Fischer”?" in messages[0] and "The staff are: " in messages[0]
    assert messages[1] == (
        "Row 3, column E “Instructor”: Alex Coach has no calendar resource in Wix, so Wix can't put them on a "
        "session. Sync again, or choose someone else."
    )


def test_dates_times_capacity_and_place_each_say_what_is_wrong(cw: CourseWorld) -> None:
    today = timezone.localdate()
    yesterday = today - timedelta(days=1)
    rows = [
        ["Learn to Swim", "31/02/2027", "17:00", "17:45", "Lena Fischer", "", ""],
        ["Learn to Swim", uk(yesterday), "17:00", "17:45", "Lena Fischer", "", ""],
        ["Learn to Swim", uk(today + timedelta(days=800)), "17:00", "17:45", "Lena Fischer", "", ""],
        ["Learn to Swim", uk(day()), "5pm-ish", "17:45", "Lena Fischer", "", ""],
        ["Learn to Swim", uk(day()), "18:00", "17:45", "Lena Fischer", "", ""],
        ["Learn to Swim", uk(day()), "19:00", "19:45", "Lena Fischer", "", "twelve"],
        ["Learn to Swim", uk(day()), "20:00", "20:45", "Lena Fischer", "", "0"],
        ["Learn to Swim", uk(day()), "21:00", "21:45", "Lena Fischer", "The Moon", ""],
        ["", "", "", "", "", "", "5"],
    ]

    messages = refused(rows)

    assert messages[:8] == [
        "Row 2, column B “Date”: “31/02/2027” is not a date. Write it as 31/01/2027 (day first) or 2027-01-31.",
        f"Row 3, column B “Date”: {yesterday:%a %-d %b %Y} is in the past (today is {today:%-d %b %Y}).",
        f"Row 4, column B “Date”: {today + timedelta(days=800):%-d %b %Y} is more than 2 years ahead.",
        "Row 5, column C “Start”: “5pm-ish” is not a time. Write it as 17:00 (24-hour clock, HH:MM).",
        "Row 6, column D “End”: the session ends (17:45) before it starts (18:00). A session starts and ends on "
        "the same day.",
        "Row 7, column G “Capacity”: “twelve” is not a number of places (like 12).",
        "Row 8, column G “Capacity”: the capacity is 1 to 1000 places, not 0.",
        "Row 9, column F “Location”: there is no place called “The Moon”. The places are: Lakeside Centre. Leave it "
        "empty for the course's own place.",
    ]
    assert messages[8:] == [
        "Row 10, column A “Course”: the course is missing.",
        "Row 10, column B “Date”: the date is missing.",
        "Row 10, column C “Start”: the start time is missing.",
        "Row 10, column D “End”: the end time is missing.",
        "Row 10, column E “Instructor”: the instructor is missing.",
    ]


def test_a_duplicate_row_names_the_row_it_repeats(cw: CourseWorld) -> None:
    row = ["Learn to Swim", uk(day()), "17:00", "17:45", "Lena Fischer", "", "12"]
    same = ["learn to swim", day().isoformat(), "17:00:00", "5:45 PM", "LENA FISCHER", "", "10"]

    (message,) = refused([row, ["Learn to Swim", uk(day()), "18:00", "18:45", "Lena Fischer", "", ""], same])

    assert message == "Row 4: it repeats row 2 (the same course, date and times). Delete one of the two rows."


def test_a_file_full_of_mistakes_lists_the_first_ones_and_counts_the_rest(cw: CourseWorld) -> None:
    rows = [["Nope", uk(day()), "17:00", "17:45", "Lena Fischer", "", ""]] * (MAX_PROBLEMS + 15)
    messages = refused(rows)
    assert len(messages) == MAX_PROBLEMS + 1
    assert messages[-1] == "… and 15 more problems like these."
