"""``manage.py setup_demo`` as ``make run`` runs it, on the embedded sandbox at today's date: the demo
club seeded and mirrored, and the import's sample file written for it — whose dry run finds the
rows it was written to find and the mistakes it was written with, and nothing else."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from bookings_app.models import ImportRow, Session
from bookings_app.services.imports import dry_run, upload

pytestmark = pytest.mark.django_db

# The sample's deliberate mistakes (``services/imports/sample.py``): what each one's message says, and
# how many rows make it. Six new people are refused too while new contacts aren't allowed.
MISTAKES = {
    "There is no class or course called": 1,  # the class misspelt
    "It repeats row": 1,
    "is not a date": 1,  # 31/02
    "session on": 2,  # no class at that time; no Sunset Swim that Sunday
    "is not an email address": 1,
    "is due; the row says": 1,  # an amount more than the price
    "is not an amount": 1,
    "is not a way to pay": 1,
    "is not yes or no": 1,
    "formula": 1,
    "characters long": 1,
    "is not a phone number": 1,
    "It says paid online": 1,
    "has no plan that covers": 1,
    "The course is full": 2,  # more enrolments than the course has places
    "No customer matches": 1,  # no email, no phone, a name nobody has
    "customers have this name": 1,  # ambiguous
    "hasn't happened yet": 1,  # a check-in for tomorrow
    "is an appointment": 1,
}


def kind(message: str) -> str:
    found = [k for k in MISTAKES if k in message]
    return found[0] if len(found) == 1 else f"unexpected: {message[:120]}"


def test_make_runs_setup_writes_a_sample_whose_dry_run_finds_its_deliberate_mistakes(
    tmp_path: Path, time_machine
) -> None:
    # The sample follows the time of day (whose sign-in sheet, which bookings lie ahead): tried at
    # midday, as in the small hours the sheet holds fewer rows than the bounds below.
    time_machine.move_to(
        datetime.combine(
            timezone.localdate(), datetime.min.time().replace(hour=12), tzinfo=timezone.get_default_timezone()
        ),
        tick=True,
    )
    path = tmp_path / "participants-sample.csv"
    out = io.StringIO()

    call_command("setup_demo", sample=str(path), stdout=out)

    assert "Seeded the demo swim club" in out.getvalue()
    assert f"{path} — {allowed_rows(path)} rows, some with mistakes" in out.getvalue()
    data = path.read_bytes()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert 250 <= len(rows) <= 400
    # Dated on the sessions the mirror holds now: the sign-in sheet of the last days, bookings ahead.
    days = {_day(r["Date"]) for r in rows if r["Date"] and r["Date"] != "31/02/2026"}
    today = timezone.localdate()
    assert min(days) >= today - timedelta(days=3) and max(days) <= today + timedelta(days=7)
    assert Session.objects.filter(start__date__in=days).count() >= 5

    imported = upload.import_upload(user=None, name=path.name, data=data)
    refused = dict(
        dry_run.import_check(user=None, imported=imported, mapping=imported.mapping, allow_new_contacts=False).diff
    )
    allowed = dry_run.import_check(user=None, imported=imported, mapping=imported.mapping, allow_new_contacts=True)

    errors = Counter(kind(r.message) for r in allowed.rows.filter(state=ImportRow.State.INVALID))
    assert errors == MISTAKES
    deliberate = sum(MISTAKES.values())
    assert allowed.diff["invalid"] == deliberate and refused["invalid"] == deliberate + 6
    assert allowed.diff["contacts"] == 6
    # Every other row is imported: most of the file.
    assert allowed.diff["rows"] == allowed_rows(path) == len(rows) - 2  # two blank lines
    assert allowed.diff["planned"] + allowed.diff["skip"] == allowed.diff["rows"] - deliberate
    assert allowed.diff["planned"] >= 200 and refused["planned"] == allowed.diff["planned"] - 6
    assert allowed.diff["bookings"] > 100 and allowed.diff["payments"] > 50
    assert allowed.diff["plan_charges"] > 0 and allowed.diff["check_ins"] > 50


def test_setup_demo_again_leaves_the_demo_and_writes_the_same_sample(tmp_path: Path) -> None:
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    call_command("setup_demo", sample=str(first), stdout=io.StringIO())
    out = io.StringIO()

    call_command("setup_demo", sample=str(second), stdout=out)

    assert "already holds the demo data" in out.getvalue()
    assert first.read_bytes() == second.read_bytes()
    nowhere = io.StringIO()
    call_command("setup_demo", sample=str(tmp_path / "no" / "such.csv"), stdout=nowhere)
    assert "was not written" in nowhere.getvalue()


def allowed_rows(path: Path) -> int:
    """The rows the import counts: the blank lines left out."""
    return sum(1 for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))) if any(row)) - 1


def _day(text: str):
    for fmt in ("%d/%m/%Y", "%Y-%m-%d", "%d %b %Y", "%d/%m/%y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise AssertionError(f"not a date the sample writes: {text!r}")


def test_the_day_parser_reads_every_format_the_sample_writes() -> None:
    assert {_day(t) for t in ("05/12/2026", "2026-12-05", "05 Dec 2026", "05/12/26")} == {_day("2026-12-05")}
    assert re.match(r"\d{4}-\d\d-\d\d", str(_day("2026-12-05")))
