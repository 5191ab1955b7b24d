"""A running course in headless Chromium: a Tue/Thu term built and pushed, three people booked on the
course, a sync; the admin opens the course's page, adds one session (twice), cancels one session
and finds it cancelled on Today (twice), and moves the last date later (twice) — each previewed
first. Screens are saved under test-artifacts/ at 1366×768 and 768×1024."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from bookings_app import wix
from bookings_app.models import CourseBuild, CourseCancel, Service, Session, StaffMember
from bookings_app.services import courses, push, sync
from bookings_app.services.courses import Slot
from bookings_app.wix import bookings as wix_bookings
from tests.browser.conftest import needs_chromium, shots, sign_in
from tests.wix_sandbox.builders import make_contact, make_service, make_staff

pytestmark = [pytest.mark.browser, needs_chromium]

BUILD_PAGE = re.compile(r"/courses/\d+/$")
COURSE = "Learn to Swim"


def pushed() -> None:
    with wix.get_wix_client() as client:
        report = push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    assert report.needs_attention == 0, report.as_dict()


def next_weekday(weekday: int, weeks_ahead: int = 1) -> date:
    start = timezone.localdate() + timedelta(weeks=weeks_ahead)
    return start + timedelta(days=(weekday - start.weekday()) % 7)


@pytest.fixture
def running() -> Service:
    """Learn to Swim in the sandbox: a three-week Tue/Thu term built and pushed, three people booked
    on the course online, all mirrored by a sync."""
    sandbox = wix.get_sandbox()
    teacher = make_staff(sandbox, "Lena Fischer")
    course = make_service(sandbox, type="COURSE", name=COURSE, price="96", capacity=12, staff=[teacher])
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    service = Service.objects.get(name=COURSE)
    term = courses.term_make(
        service=service,
        instructor=StaffMember.objects.get(name="Lena Fischer"),
        location=None,
        capacity=12,
        slots=[(0, Slot(1, time(17), time(17, 45))), (1, Slot(3, time(17), time(17, 45)))],
        first=next_weekday(1),
        last=None,
        weeks=3,
        exclusions=[],
        today=timezone.localdate(),
        tz="Europe/London",
    )
    plan = courses.plan_term(term)
    courses.course_build_commit(user=None, term=term, digest=plan.digest, idempotency_key="browser-edit-term")
    pushed()
    for first, last in (("Ann", "Archer"), ("Bo", "Baker"), ("Cy", "Cole")):
        contact = make_contact(sandbox, first, last, phone="+44 7700 900123")
        with wix.get_wix_client() as client:
            wix_bookings.create_booking(
                client,
                booking={
                    "bookedEntity": {"schedule": {"scheduleId": course["schedule"]["id"], "serviceId": course["id"]}},
                    "contactDetails": {"contactId": contact["id"]},
                    "totalParticipants": 1,
                    "selectedPaymentOption": "OFFLINE",
                    "status": "CONFIRMED",
                },
            )
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    return service


@pytest.mark.django_db(transaction=True)
def test_add_cancel_and_move_the_last_date_of_a_running_course(tablet, admin_password, running):
    from playwright.sync_api import expect

    page = tablet
    sandbox = wix.get_sandbox()
    course_url = f"/courses/course/{running.pk}/"
    sign_in(page, username="browser-admin", password=admin_password, next_path="/courses/")
    page.get_by_role("navigation", name="Courses").get_by_role("link", name=COURSE).click()
    page.wait_for_url(f"**{course_url}")
    sessions = page.locator("#course-sessions tbody tr")
    expect(sessions).to_have_count(6)
    expect(sessions.first).to_contain_text("3 / 12")  # everyone booked on the course, on every session
    expect(page.locator(".course-edit-note")).to_contain_text("does not cancel anyone's course booking")
    assert all(p.exists() for p in shots(page, "course-edit-1-page"))

    # Add one session, twice: a Wednesday, then a Friday.
    for n, day in enumerate((next_weekday(2), next_weekday(4)), 1):
        form = page.locator("#add-session")
        form.get_by_label("Date").fill(day.isoformat())
        expect(form.get_by_label("Starts")).to_have_value("17:00")  # the course's times, filled in
        form.get_by_role("button", name="Preview the session").click()
        preview = page.locator("#course_add_commit-preview")
        expect(preview.get_by_role("heading", level=2)).to_have_text("One new session: 1 session")
        expect(preview.get_by_role("heading", level=2)).to_be_focused()
        expect(preview).to_contain_text("1 × Bulk Create Event")
        if n == 1:
            assert all(p.exists() for p in shots(page, "course-edit-2-add-preview"))
        preview.get_by_role("button", name="Create this session in Wix").click()
        page.wait_for_url(BUILD_PAGE)
        pushed()
        expect(page.locator("#course-build-status")).to_contain_text("1 of 1 session in Wix", timeout=15_000)
        page.get_by_role("link", name=f"{COURSE}: its sessions ›").click()
        page.wait_for_url(f"**{course_url}")
        expect(sessions).to_have_count(6 + n)
    assert CourseBuild.objects.filter(source="ADDED").count() == 2

    # Cancel one session, twice: the first still to come each time (a Tuesday, then the Wednesday
    # added above); each is cancelled on Today after.
    for n in (1, 2):
        target = (
            Session.objects.filter(service=running, start__gte=timezone.now())
            .exclude(status="CANCELLED")
            .order_by("start")
            .first()
        )
        row = page.locator(f"#session-{target.pk}")
        row.get_by_role("link", name=re.compile("Cancel the session")).click()
        preview = page.locator("#cancel-preview")
        expect(preview.get_by_role("heading", level=2)).to_be_focused()
        expect(preview).to_contain_text("Who is affected (3)")
        expect(preview).to_contain_text("Ann Archer")
        expect(preview).to_contain_text(f"POST /calendar/v3/events/{target.wix_id}/cancel")
        if n == 1:
            assert all(p.exists() for p in shots(page, "course-edit-3-cancel-preview"))
        preview.get_by_role("button", name="Cancel this session in Wix").click()
        expect(row).to_contain_text("Cancelling…")
        pushed()
        expect(row).to_contain_text("Cancelled", timeout=15_000)
        assert sandbox.state.get("events", target.wix_id)["status"] == "CANCELLED"
        day = timezone.localtime(target.start).date()
        page.goto(f"/today/?date={day.isoformat()}")
        on_today = page.locator(".session", has_text=COURSE)
        expect(on_today).to_have_class(re.compile("is-cancelled"))
        expect(on_today).to_contain_text("Cancelled")
        if n == 1:
            assert all(p.exists() for p in shots(page, "course-edit-4-today-cancelled"))
        page.goto(course_url)
    assert CourseCancel.objects.count() == 2
    assert [b["status"] for b in sandbox.state.all("bookings")] == ["CONFIRMED"] * 3  # nobody's booking

    # Move the last date later, twice: two weeks, then one more.
    for n, weeks in ((1, 2), (2, 1)):
        last = courses.course_last_day(service=running, tz="Europe/London")
        form = page.locator("#last-date")
        form.get_by_label("New last date").fill((last + timedelta(weeks=weeks)).isoformat())
        form.get_by_role("button", name=re.compile("Preview")).click()
        preview = page.locator("#course_last_date_commit-preview")
        expect(preview.get_by_role("heading", level=2)).to_have_text(f"New weeks: {2 * weeks} sessions")
        if n == 1:
            assert all(p.exists() for p in shots(page, "course-edit-5-later-preview"))
        preview.get_by_role("button", name="Create the new sessions in Wix").click()
        page.wait_for_url(BUILD_PAGE)
        pushed()
        expect(page.locator("#course-build-status")).to_contain_text(
            f"{2 * weeks} of {2 * weeks} sessions in Wix", timeout=15_000
        )
        page.goto(course_url)
    assert CourseBuild.objects.filter(source="EXTENDED").count() == 2
    expect(page.locator("#course-sessions tbody tr.state-cancelled")).to_have_count(2)
    assert all(p.exists() for p in shots(page, "course-edit-6-after"))
