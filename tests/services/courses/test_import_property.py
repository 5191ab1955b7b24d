"""Property: whatever file is uploaded — random bytes, or a CSV/XLSX of random cells under real or
random headers — reading and previewing it ends in a preview or in ``ImportRefused`` with messages,
never in another exception (which the view would answer with a 500)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

from bookings_app.services import courses
from tests.services.courses.helpers import CourseWorld
from tests.services.courses.import_helpers import HEADERS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

# No example database: the failing example is printed, and nothing is written into the checkout.
PROPERTY = hsettings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "Learn to Swim",
            "learn to swim",
            "Lena Fischer",
            "17:00",
            "17:45",
            "25:99",
            "31/02/2027",
            "2031-01-01",
            "12",
            "0",
            "-3",
            "1e9",
            "",
            " ",
            "Lakeside Centre",
            '"',
            ";",
            "\t",
            "\x00",
        ]
    ),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
)
HEADER_CELLS = st.one_of(
    st.sampled_from([*HEADERS, "Teacher", "Finish", "Venue", "Places", "Notes"]), st.text(max_size=12)
)


def outcome(data: bytes, name: str) -> None:
    try:
        sheet = courses.sheet_read(name=name, data=data)
        courses.course_import_preview(sheet=sheet, today=timezone.localdate(), tz=settings.TIME_ZONE)
    except courses.ImportRefused as refused:
        assert refused.problems and all(str(p).strip() for p in refused.problems)


@PROPERTY
@given(data=st.binary(max_size=3000), name=st.sampled_from(["t.csv", "t.xlsx", "t", "../../t.CSV"]))
def test_random_bytes_never_cause_anything_but_a_refusal_or_a_preview(cw: CourseWorld, data: bytes, name: str) -> None:
    outcome(data, name)
    outcome(b"PK\x03\x04" + data, name)  # looks like a zip, is not
    outcome(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + data, name)


@PROPERTY
@given(
    headers=st.lists(HEADER_CELLS, min_size=0, max_size=9),
    rows=st.lists(st.lists(CELLS, max_size=9), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
)
def test_malformed_csv_never_causes_anything_but_a_refusal_or_a_preview(
    cw: CourseWorld, headers: list[str], rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    try:
        data = csv_bytes(rows, headers=headers, delimiter=delimiter, encoding=encoding)
    except UnicodeEncodeError:
        return  # cp1252 can't hold every character: not a file anyone could save
    outcome(data, "t.csv")


@hsettings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    headers=st.lists(HEADER_CELLS, max_size=9),
    rows=st.lists(
        st.lists(st.one_of(CELLS, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()), max_size=9),
        max_size=8,
    ),
)
def test_malformed_xlsx_never_causes_anything_but_a_refusal_or_a_preview(
    cw: CourseWorld, headers: list, rows: list[list]
) -> None:
    try:
        data = xlsx_bytes(rows, headers=headers)
    except (ValueError, TypeError, IllegalCharacterError):
        return  # openpyxl refuses to write it (control characters): no such file exists
    outcome(data, "t.xlsx")
