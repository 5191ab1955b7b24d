"""The participant import in headless Chromium, as an admin does it: upload yesterday's sign-in sheet, tell
it which column is the class (its name is one we don't know), read the dry run — what it will create, and
the rows with mistakes, by row and column —, import, watch the progress bar as the worker sends the rows,
read each row's result, download the failed rows, fix one, upload that file again: only that row is
imported, the others are refused again, nothing is doubled in Wix. Screens are saved under
test-artifacts/ at 1366×768 and 768×1024."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from bookings_app import wix
from bookings_app.models import Booking, Contact, ParticipantImport, Session
from bookings_app.services import sync
from bookings_app.services.imports import run
from tests.browser.conftest import needs_chromium, shots, sign_in
from wix_sandbox.seed import seed_demo

pytestmark = [pytest.mark.browser, needs_chromium]

IMPORT_PAGE = re.compile(r"/imports/\d+/$")
HEADERS = ["Name", "E-mail", "Mobile", "Swim", "Day", "Start", "Paid by", "Amount", "Came", "Notes"]


@pytest.fixture
def swim_club() -> Session:
    """The demo club, mirrored; yesterday's 07:00 swim."""
    seed_demo(wix.get_sandbox())
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    yesterday = timezone.localdate() - timedelta(days=1)
    return Session.objects.get(service__name="Open Water Swim", start__date=yesterday)


def sign_in_sheet(session: Session, tmp_path: Path, name: str = "saturday-swim.csv") -> Path:
    """Seven people who came to yesterday's swim and weren't booked, and three rows with mistakes."""
    booked = set(Booking.objects.filter(session=session).values_list("contact_id", flat=True))
    people = list(Contact.objects.exclude(pk__in=booked).exclude(email="").order_by("pk")[:10])
    day = f"{timezone.localtime(session.start):%d/%m/%Y}"
    rows = [
        [f"{p.first_name} {p.last_name}", p.email, "", "Open Water Swim", day, "07:00", paid, amount, came, ""]
        for p, paid, amount, came in zip(
            people[:7],
            ["cash", "cash", "card", "cheque", "unpaid", "cash", "card"],
            ["12", "", "12", "12", "", "12", "10"],
            ["yes", "y", "yes", "yes", "yes", "no", "yes"],
            strict=False,
        )
    ]
    rows.append(
        [
            f"{people[7].first_name} {people[7].last_name}",
            "not-an-email",
            "",
            "Open Water Swim",
            day,
            "07:00",
            "cash",
            "",
            "yes",
            "",
        ]
    )
    rows.append(
        [
            f"{people[8].first_name} {people[8].last_name}",
            people[8].email,
            "",
            "Open Water Swimm",
            day,
            "07:00",
            "cash",
            "12",
            "yes",
            "misspelt",
        ]
    )
    rows.append(
        [
            f"{people[9].first_name} {people[9].last_name}",
            people[9].email,
            "",
            "Open Water Swim",
            day,
            "07:00",
            "cash",
            "twelve",
            "yes",
            "",
        ]
    )
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADERS, *rows])
    path = tmp_path / name
    path.write_bytes(out.getvalue().encode("utf-8-sig"))
    return path


@pytest.mark.django_db(transaction=True)
def test_upload_map_dry_run_import_progress_results_then_the_fixed_row_alone(
    tablet, admin_password, swim_club, tmp_path
):
    from playwright.sync_api import expect

    page = tablet
    sandbox = wix.get_sandbox()
    bookings_before = len(sandbox.state.all("bookings"))
    sign_in(page, username="browser-admin", password=admin_password, next_path="/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import participants")
    assert all(p.exists() for p in shots(page, "import-1-upload"))

    # Upload; the columns are recognised — but not "Swim": the admin says it is the class.
    page.get_by_label("Participants file (CSV or XLSX)").set_input_files(sign_in_sheet(swim_club, tmp_path))
    page.get_by_role("button", name="Upload and check the columns").click()
    page.wait_for_url(IMPORT_PAGE)
    expect(page.get_by_label("Column A “Name”")).to_have_value("name")
    expect(page.get_by_label("Column D “Swim”")).to_have_value("")
    assert all(p.exists() for p in shots(page, "import-2-columns"))
    page.get_by_label("Column D “Swim”").select_option("service")
    page.get_by_role("button", name="Check the 10 rows (dry run)").click()

    # The dry run: what it would create, and each mistake by row and column.
    dry = page.locator("#dry-run")
    expect(dry.get_by_role("heading", level=2)).to_have_text("7 rows to import")
    expect(dry.get_by_role("heading", level=2)).to_be_focused()
    expect(dry.locator(".total", has_text="Bookings")).to_contain_text("7")
    expect(dry.locator(".total", has_text="Check-ins")).to_contain_text("6")
    expect(dry.locator(".total", has_text="Errors")).to_contain_text("3")
    rows = page.locator("#import-rows")
    expect(rows.locator("tbody tr")).to_have_count(3)  # the errors first
    expect(rows).to_contain_text("Column B “E-mail”: “not-an-email” is not an email address.")
    expect(rows).to_contain_text("Did you mean “Open Water Swim”?")
    assert all(p.exists() for p in shots(page, "import-3-dry-run"))
    rows.get_by_role("link", name=re.compile("^To import")).click()
    expect(rows.locator("tbody tr")).to_have_count(7)
    expect(rows).to_contain_text("Card £10.00")
    assert len(sandbox.state.all("bookings")) == bookings_before  # nothing has changed yet

    # Import: the progress bar follows the worker.
    dry.get_by_role("button", name="Import 7 rows").click()
    progress = page.locator("#import-progress")
    expect(progress).to_contain_text("0 of 7 rows finished")
    expect(progress.get_by_role("button", name="Cancel")).to_be_visible()
    assert all(p.exists() for p in shots(page, "import-4-progress"))
    with wix.get_wix_client() as client:  # the worker, synchronously here; the page follows by itself
        run.imports_run_due(wix=client)
    expect(progress).to_contain_text("7 of 7 rows finished", timeout=15_000)
    expect(progress).to_contain_text("All 7 rows imported.")
    expect(page.locator("#import-rows tbody tr")).to_have_count(7)
    expect(page.locator("#import-rows")).to_contain_text("Done")
    assert all(p.exists() for p in shots(page, "import-5-done"))
    assert len(sandbox.state.all("bookings")) == bookings_before + 7

    # The failed rows, downloaded: fix the misspelt class, upload that file again.
    with page.expect_download() as download:
        progress.get_by_role("link", name="Download failed rows (CSV)").click()
    lines = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert lines[0] == [*HEADERS, "Error"] and len(lines) == 4
    fixed = [[*r[:3], "Open Water Swim", *r[4:10]] if r[3] == "Open Water Swimm" else r[:10] for r in lines[1:]]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADERS + ["Error"], *[[*r, ""] for r in fixed]])
    again = tmp_path / "saturday-swim-failed-rows.csv"
    again.write_bytes(out.getvalue().encode("utf-8-sig"))

    progress.get_by_role("link", name="Import another file").click()
    page.wait_for_url("**/imports/")
    expect(page.locator(".import-history tbody tr")).to_have_count(1)
    page.get_by_label("Participants file (CSV or XLSX)").set_input_files(again)
    page.get_by_role("button", name="Upload and check the columns").click()
    page.wait_for_url(IMPORT_PAGE)
    expect(page.get_by_label("Column D “Swim”")).to_have_value("service")  # remembered
    expect(page.locator(".notice")).to_contain_text("chosen as for your last file with these column names")
    page.get_by_role("button", name="Check the 3 rows (dry run)").click()
    expect(dry.get_by_role("heading", level=2)).to_have_text("1 row to import")
    expect(dry.locator(".total", has_text="Errors")).to_contain_text("2")
    assert all(p.exists() for p in shots(page, "import-6-fixed-row"))
    dry.get_by_role("button", name="Import 1 row").click()
    expect(progress).to_contain_text("0 of 1 row finished")
    with wix.get_wix_client() as client:
        run.imports_run_due(wix=client)
    expect(progress).to_contain_text("1 of 1 row finished", timeout=15_000)
    assert len(sandbox.state.all("bookings")) == bookings_before + 8  # that row alone
    assert ParticipantImport.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_cancel_after_a_batch_resume_and_a_row_wix_refuses(tablet, admin_password, swim_club, tmp_path, monkeypatch):
    from playwright.sync_api import expect

    page = tablet
    sandbox = wix.get_sandbox()
    monkeypatch.setattr(run, "BATCH", 2)
    booked = set(Booking.objects.filter(session=swim_club).values_list("contact_id", flat=True))
    holder = (
        Contact.objects.exclude(pk__in=booked)
        .filter(
            member__balances__status__iexact="ACTIVE",
            member__balances__unlimited=False,
            member__balances__remaining_credits__gte=2,
        )
        .order_by("pk")
        .first()
    )
    balance = holder.member.balances.filter(status__iexact="ACTIVE", unlimited=False, remaining_credits__gte=2).first()
    pool = sandbox.state.get("balances", balance.wix_id)
    pool["amount"]["available"] = "0"  # used up in Wix since the last sync: the mirror doesn't know
    with sandbox.state.transaction():
        sandbox.state.put("balances", pool)
    people = list(Contact.objects.exclude(pk__in=booked | {holder.pk}).exclude(email="").order_by("pk")[:5])
    day = f"{timezone.localtime(swim_club.start):%d/%m/%Y}"
    rows = [
        [f"{p.first_name} {p.last_name}", p.email, "", "Open Water Swim", day, "07:00", "cash", "", "yes", ""]
        for p in people
    ]
    rows.append(
        [
            f"{holder.first_name} {holder.last_name}",
            holder.email,
            "",
            "Open Water Swim",
            day,
            "07:00",
            "plan",
            "",
            "yes",
            "",
        ]
    )
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([["Name", "E-mail", "Mobile", "Class", *HEADERS[4:]], *rows])
    path = tmp_path / "six.csv"
    path.write_bytes(out.getvalue().encode())

    sign_in(page, username="browser-admin", password=admin_password, next_path="/imports/")
    page.get_by_label("Participants file (CSV or XLSX)").set_input_files(path)
    page.get_by_role("button", name="Upload and check the columns").click()
    page.get_by_role("button", name="Check the 6 rows (dry run)").click()
    page.locator("#dry-run").get_by_role("button", name="Import 6 rows").click()
    progress = page.locator("#import-progress")
    imported = ParticipantImport.objects.get()
    with wix.get_wix_client() as client:  # one batch of two rows, and the worker stops there for now
        run.import_run(wix=client, imported=imported, slice_seconds=-1)
    expect(progress).to_contain_text("2 of 6 rows finished", timeout=15_000)
    progress.get_by_role("button", name="Cancel").click()  # the confirm dialog is accepted
    expect(progress).to_contain_text("Stopping after this batch")
    with wix.get_wix_client() as client:
        run.imports_run_due(wix=client)
    expect(progress).to_contain_text("Stopped: 4 rows not started.", timeout=15_000)
    expect(progress.get_by_role("button", name="Resume")).to_be_visible()
    assert all(p.exists() for p in shots(page, "import-7-stopped"))
    assert (
        len(
            [
                b
                for b in sandbox.state.all("bookings")
                if b["bookedEntity"].get("slot", {}).get("eventId") == swim_club.wix_id
            ]
        )
        == len(booked) + 2
    )

    progress.get_by_role("button", name="Resume").click()
    expect(progress).to_contain_text("Importing")
    with wix.get_wix_client() as client:
        for _ in range(3):
            run.imports_run_due(wix=client)
    expect(progress).to_contain_text("Finished, some rows failed", timeout=15_000)
    expect(progress).to_contain_text("5 rows imported; 1 failed")
    rows_part = page.locator("#import-rows")
    expect(rows_part.locator("tbody tr")).to_have_count(1)  # the failed one first
    expect(rows_part).to_contain_text("Wix refused the plan charge")
    expect(rows_part).to_contain_text("Not done: the plan charge.")
    assert all(p.exists() for p in shots(page, "import-8-refused"))

    pool["amount"]["available"] = "3"  # the desk sorted the pass out in Wix
    with sandbox.state.transaction():
        sandbox.state.put("balances", pool)
    progress.get_by_role("button", name="Retry what Wix refused").click()
    expect(progress).to_contain_text("Importing")
    with wix.get_wix_client() as client:
        run.imports_run_due(wix=client)
    expect(progress).to_contain_text("All 6 rows imported.", timeout=15_000)
    assert sandbox.state.get("balances", balance.wix_id)["amount"]["available"] == "2"
