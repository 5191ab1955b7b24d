"""The timetable import in headless Chromium: an admin uploads a file with a mistake (told which row
and column, nothing saved), fixes it, previews six irregular sessions, creates them, watches the
worker put them in the sandbox — then uploads the same file again and is told there is nothing to
create. Screens are saved under test-artifacts/ at 1366×768 and 768×1024."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bookings_app import wix
from bookings_app.models import CourseBuild, CourseImport, Service
from bookings_app.services import push, sync
from tests.browser.conftest import needs_chromium, shots, sign_in
from wix_sandbox.seed import seed_demo

pytestmark = [pytest.mark.browser, needs_chromium]

COURSE = "Learn to Swim Outdoors (8 weeks)"
IMPORT_PAGE = re.compile(r"/courses/imports/\d+/$")


@pytest.fixture
def swim_club() -> Service:
    seed_demo(wix.get_sandbox())
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    return Service.objects.get(name=COURSE)


def timetable(tmp_path: Path, rows: list[list[str]], name: str = "summer-timetable.csv") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")  # as Excel writes it in much of Europe
    writer.writerow(["Course", "Date", "Start time", "Finish", "Teacher", "Venue", "Places"])
    writer.writerows(rows)
    path = tmp_path / name
    path.write_bytes(out.getvalue().encode("cp1252"))
    return path


def irregular(first: date) -> list[list[str]]:
    """Six early sessions on no regular pattern, mostly Lena's, one Sam's, one at the centre."""
    days = [0, 2, 9, 10, 16, 23]
    rows = [[COURSE, f"{first + timedelta(days=d):%d/%m/%Y}", "07:15", "08:00", "Lena Fischer", "", ""] for d in days]
    rows[2][4] = "Sam Rivers"
    rows[3][5], rows[3][6] = "Lakeside Centre", "8"
    return rows


@pytest.mark.django_db(transaction=True)
def test_upload_preview_commit_then_the_same_file_again_creates_nothing(tablet, admin_password, swim_club, tmp_path):
    from playwright.sync_api import expect

    page = tablet
    sandbox = wix.get_sandbox()
    before = {e["id"] for e in sandbox.state.all("events")}
    first = timezone.localdate() + timedelta(days=8)
    sign_in(page, username="browser-admin", password=admin_password, next_path="/courses/")
    page.get_by_role("link", name="Import a timetable (CSV/XLSX)").click()
    page.wait_for_url("**/courses/import/")
    assert all(p.exists() for p in shots(page, "course-import-1-upload"))

    # A slip first: a teacher Front Desk doesn't know. Row and column named; nothing saved.
    bad = irregular(first)
    bad[4][4] = "Lena Fisher"
    page.get_by_label("Timetable file (CSV or XLSX)").set_input_files(timetable(tmp_path, bad, "draft.csv"))
    page.get_by_role("button", name="Preview sessions").click()
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text("draft.csv can't be imported")
    expect(problems).to_contain_text(
        "Row 6, column E “Teacher”: there is no instructor called “Lena Fisher”. Did you mean “Lena Fischer”?"
    )
    expect(problems).to_be_focused()
    expect(page.locator("#course-preview")).to_have_count(0)
    assert all(p.exists() for p in shots(page, "course-import-2-problems"))

    path = timetable(tmp_path, irregular(first))
    page.get_by_label("Timetable file (CSV or XLSX)").set_input_files(path)
    page.get_by_role("button", name="Preview sessions").click()
    preview = page.locator("#course-preview")
    expect(preview.get_by_role("heading", level=2)).to_have_text("6 new sessions of 1 course")
    expect(preview.get_by_role("heading", level=2)).to_be_focused()
    expect(preview.locator("tbody tr")).to_have_count(6)
    expect(preview).to_contain_text("1 × Bulk Create Event")
    expect(preview).to_contain_text("Sam Rivers")
    assert all(p.exists() for p in shots(page, "course-import-3-preview"))
    assert not CourseImport.objects.exists()

    preview.get_by_role("button", name="Create 6 sessions in Wix").click()
    page.wait_for_url(IMPORT_PAGE)
    status = page.locator("#course-import-status")
    expect(status).to_contain_text("0 of 6 sessions in Wix")
    assert all(p.exists() for p in shots(page, "course-import-4-sending"))

    with wix.get_wix_client() as client:  # the worker, synchronously here; the page follows by itself
        report = push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    assert report.synced == 1, report.as_dict()
    expect(status).to_contain_text("6 of 6 sessions in Wix", timeout=15_000)
    expect(status).to_contain_text("All 6 new sessions are in Wix.")
    expect(status.get_by_role("link", name=COURSE)).to_be_visible()
    assert all(p.exists() for p in shots(page, "course-import-5-done"))
    made = [e for e in sandbox.state.all("events") if e["id"] not in before]
    assert len(made) == 6 and all(e["recurrenceType"] == "NONE" for e in made)
    assert sorted(e["start"]["localDate"][:16] for e in made) == sorted(
        f"{first + timedelta(days=d):%Y-%m-%d}T07:15" for d in (0, 2, 9, 10, 16, 23)
    )

    # The same file again: every session already exists; nothing to create, nothing sent.
    page.get_by_role("link", name="Import another file").click()
    page.wait_for_url("**/courses/import/")
    page.get_by_label("Timetable file (CSV or XLSX)").set_input_files(path)
    page.get_by_role("button", name="Preview sessions").click()
    expect(preview.get_by_role("heading", level=2)).to_have_text("Nothing new: every session already exists")
    expect(preview.locator("tr.is-existing")).to_have_count(6)
    expect(preview).to_contain_text("This very file was imported on")
    expect(preview.get_by_role("button", name=re.compile("^Create"))).to_have_count(0)
    assert all(p.exists() for p in shots(page, "course-import-6-again"))
    with wix.get_wix_client() as client:
        push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    assert len([e for e in sandbox.state.all("events") if e["id"] not in before]) == 6
    assert CourseImport.objects.count() == 1 and CourseBuild.objects.count() == 1
