"""The tests' copy of the import's sample file, ``tests/data/participants-sample-2026-11-21.csv``: the
practice file (``services/imports/sample.py``) of the demo swim club on the day the service tests pin
(``SEEDED_AT``), a few hundred rows with deliberate mistakes — and what its dry run finds in it. (``make
run`` writes the same file for its own demo as ``tests/data/participants-sample.csv``:
``tests/management/commands/test_setup_demo.py``.)

``REGENERATE_SAMPLE=1 pytest tests/services/imports/test_sample.py`` writes the file again (after a change
to the generator or to the demo)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from bookings_app.models import ImportRow
from bookings_app.services import sync
from bookings_app.services.imports import dry_run, sample, upload

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "participants-sample-2026-11-21.csv"
DAY = date(2026, 11, 21)  # tests/services/conftest.SEEDED_AT, in London


@pytest.fixture
def club(demo, sandbox_wix, wix):
    report = sync.sync_full(wix=wix)
    assert not report.error
    return demo


def test_the_shipped_sample_is_the_practice_file_of_the_demo_club(club) -> None:
    data = sample.practice_csv(today=DAY)
    if os.environ.get("REGENERATE_SAMPLE"):
        SAMPLE.write_bytes(data)
    assert data == SAMPLE.read_bytes()
    assert 250 <= data.count(b"\n") <= 400


def test_the_samples_dry_run_finds_its_deliberate_mistakes_by_row_and_column(club) -> None:
    imported = upload.import_upload(user=None, name=SAMPLE.name, data=SAMPLE.read_bytes())
    refused = dry_run.import_check(user=None, imported=imported, mapping=imported.mapping, allow_new_contacts=False)
    assert refused.diff["rows"] == 271 and refused.diff["invalid"] == 27

    allowed = dry_run.import_check(user=None, imported=imported, mapping=imported.mapping, allow_new_contacts=True)

    errors = {r.number: f"{r.column}: {r.message}" for r in allowed.rows.filter(state=ImportRow.State.INVALID)}
    assert len(errors) == allowed.diff["invalid"] == 21  # the six new people are welcome now
    assert allowed.diff["contacts"] == 6
    expected = {
        25: "E “Class”: There is no class or course called “Open Water Swimm”. Did you mean “Open Water Swim”?",
        42: ": It repeats row 41",
        43: "F “Date”: There is no Sunset Swim session on Sun 22 Nov 2026 at 18:30.",
        62: "F “Date”: “31/02/2026” is not a date.",
        94: "G “Time”: There is no Open Water Swim session on Sat 21 Nov 2026 at 19:45. That day it starts at 07:00.",
        129: "C “E-mail”: “evie.ward231@” is not an email address.",
        151: "I “Amount”: £12.00 is due; the row says £120.00.",
        171: "I “Amount”: “twelve” is not an amount.",
        187: "H “Paid”: “bitcoin” is not a way to pay",
        203: "K “Attended”: “maybe” is not yes or no.",
        219: "A “First name”: “=HYPERLINK(",
        235: "B “Surname”: This cell is 1,000 characters long",
        247: "D “Mobile”: “call me” is not a phone number.",
        259: "H “Paid”: It says paid online, but £12.00 is due in Wix",
        268: "H “Paid”: Charlotte Thompson has no plan that covers Open Water Swim.",
        269: "E “Class”: The course is full: 12 of 12 places are taken (2 by earlier rows of this file).",
        270: "E “Class”: The course is full",
        271: "C “E-mail”: No customer matches Pip Unknown",
        272: "A “First name”: 2 customers have this name: Alfie Martin (alfie.martin@example.com), Alfie Martin (",
        273: "K “Attended”: Sun 22 Nov 07:00 hasn't happened yet",
        274: "E “Class”: Classic Manicure is an appointment",
    }
    assert {n: errors[n][: len(text)] for n, text in expected.items()} == expected
