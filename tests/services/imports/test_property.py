"""Property: whatever file is uploaded — random bytes, or a CSV/XLSX of random cells under real or random
headers, in any encoding and separator — reading it and its dry run (with the guessed columns, and with
random columns chosen) end in a dry run or in ``ImportRefused`` with messages, never in another exception
(which the view would answer with a 500). Rows that can't be read are errors of their row."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from openpyxl.utils.exceptions import IllegalCharacterError

from bookings_app.models import ImportRow, ParticipantImport
from bookings_app.services.imports import dry_run, upload
from bookings_app.services.imports.mapping import FIELDS
from bookings_app.services.imports.sheet import ImportRefused
from tests.services.conftest import World
from tests.services.imports.helpers import HEADERS, csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

# No example database: the failing example is printed, and nothing is written into the checkout.
PROPERTY = hsettings(
    max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "Open Water Swim",
            "open water swim",
            "Learn to Swim",
            "Sports Massage",
            "07:00",
            "7pm",
            "25:99",
            "31/02/2027",
            "2027-13-01",
            "1 Jan 2027",
            "cash",
            "card",
            "cheque",
            "plan",
            "online",
            "unpaid",
            "bitcoin",
            "12",
            "£12.50",
            "12,50",
            "1,2,3",
            "-3",
            "1e9",
            "NaN",
            "Infinity",
            "yes",
            "no",
            "maybe",
            "",
            " ",
            "=1+1",
            "+44 7700 900123",
            "@SUM(A1)",
            "x@example.com",
            "@",
            '"',
            ";",
            "\t",
            "\x00",
            "\r",
            "A" * 2000,
        ]
    ),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.integers(-3, 3).map(lambda d: (date.today() + timedelta(days=d)).strftime("%d/%m/%Y")),  # the club's days
)
HEADER_CELLS = st.one_of(
    st.sampled_from([*HEADERS, "Name", "E-mail", "Mobile", "Notes", "Error", ""]), st.text(max_size=12)
)


@pytest.fixture
def club(world: World) -> World:
    """The class mirrored, with a customer and a plan holder: rows can match, book and pay."""
    from tests.services.imports.helpers import ImportWorld

    ImportWorld(world)
    world.mirror(world.customer("Amy", "Swimmer"), world.customer("Bo", "Swimmer", credits=3))
    return world


def outcome(data: bytes, name: str, choices: list[int] | None = None) -> None:
    try:
        imported = upload.import_upload(user=None, name=name, data=data)
    except ImportRefused as refused:
        assert refused.problems and all(str(p).strip() for p in refused.problems)
        return
    mapping = imported.mapping
    if choices is not None:
        mapping = {FIELDS[c % len(FIELDS)].name: i for i, c in enumerate(choices[: len(imported.headers)])}
    try:
        dry_run.import_check(user=None, imported=imported, mapping=mapping, allow_new_contacts=True)
    except ImportRefused as refused:
        assert refused.problems and all(str(p).strip() for p in refused.problems)
        return
    imported.refresh_from_db()
    assert imported.status == "CHECKED"
    assert not imported.rows.filter(state=ImportRow.State.NEW).exists()
    assert all(r.message for r in imported.rows.filter(state=ImportRow.State.INVALID))
    ParticipantImport.objects.all().delete()


@PROPERTY
@given(data=st.binary(max_size=3000), name=st.sampled_from(["p.csv", "p.xlsx", "p", "../../p.CSV"]))
def test_random_bytes_never_cause_anything_but_a_refusal_or_a_dry_run(club: World, data: bytes, name: str) -> None:
    outcome(data, name)
    outcome(b"PK\x03\x04" + data, name)  # looks like a zip, is not
    outcome(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + data, name)  # looks like an old Excel file


@PROPERTY
@given(
    headers=st.lists(HEADER_CELLS, min_size=0, max_size=12),
    rows=st.lists(st.lists(CELLS, max_size=12), max_size=10),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]),
    choices=st.one_of(st.none(), st.lists(st.integers(0, 40), max_size=12)),
)
def test_malformed_csv_never_causes_anything_but_a_refusal_or_a_dry_run(
    club: World, headers: list[str], rows: list[list[str]], delimiter: str, encoding: str, choices: list[int] | None
) -> None:
    try:
        data = csv_bytes(rows, headers=headers, delimiter=delimiter, encoding=encoding)
    except UnicodeEncodeError:
        return  # cp1252 and Latin-1 can't hold every character: not a file anyone could save
    outcome(data, "p.csv", choices)


@hsettings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    headers=st.lists(HEADER_CELLS, max_size=12),
    rows=st.lists(
        st.lists(
            st.one_of(
                CELLS,
                st.integers(),
                st.floats(allow_nan=False),
                st.booleans(),
                st.none(),
                st.dates(),
                st.datetimes(),
                st.times(),
            ),
            max_size=12,
        ),
        max_size=8,
    ),
)
def test_malformed_xlsx_never_causes_anything_but_a_refusal_or_a_dry_run(
    world: World, headers: list, rows: list
) -> None:
    try:
        data = xlsx_bytes(rows, headers=headers)
    except (ValueError, TypeError, IllegalCharacterError):
        return  # openpyxl refuses to write it (control characters): no such file exists
    outcome(data, "p.xlsx")
