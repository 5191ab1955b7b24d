"""The course builder in headless Chromium: an admin builds "Learn to Swim — Tue/Thu 17:00–17:45,
10 weeks, skip one week", sees 18 sessions in the preview, creates them, watches the worker put them
in the sandbox, and finds them on Today after a sync — then builds a second term right after.
Screens are saved under test-artifacts/ at 1366×768 and 768×1024."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
from django.utils import timezone

from bookings_app import wix
from bookings_app.models import CourseBuild, Service, Session, StaffMember
from bookings_app.services import push, sync
from tests.browser.conftest import needs_chromium, shots, sign_in
from wix_sandbox.seed import seed_demo

pytestmark = [pytest.mark.browser, needs_chromium]

COURSE = "Learn to Swim Outdoors (8 weeks)"
BUILD_PAGE = re.compile(r"/courses/\d+/$")


@pytest.fixture
def swim_club() -> Service:
    """The demo swim club in the sandbox, mirrored by a full sync; returns its course."""
    seed_demo(wix.get_sandbox())
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    return Service.objects.get(name=COURSE)


def next_tuesday(weeks_ahead: int = 1) -> date:
    start = timezone.localdate() + timedelta(weeks=weeks_ahead)
    return start + timedelta(days=(1 - start.weekday()) % 7)


def fill_term(page, *, rows: list[tuple[str, str, str]], first: date, weeks: int, off: tuple[date, date, str] | None):
    page.get_by_label("Course", exact=True).select_option(label=COURSE)
    page.get_by_label("Instructor").select_option(label="Lena Fischer")
    page.get_by_label("Places per session").fill("10")
    for i, (day, start, end) in enumerate(rows):
        page.locator(f"#slot-{i}-weekday").select_option(label=day)
        page.locator(f"#slot-{i}-start").fill(start)
        page.locator(f"#slot-{i}-end").fill(end)
    page.get_by_label("First week starts").fill(first.isoformat())
    page.get_by_label("or number of weeks").fill(str(weeks))
    if off:
        page.locator("#exclusion-0-first").fill(off[0].isoformat())
        page.locator("#exclusion-0-last").fill(off[1].isoformat())
        page.locator("#exclusion-0-reason").fill(off[2])


@pytest.mark.django_db(transaction=True)
def test_build_a_ten_week_course_preview_18_sessions_create_them_and_find_them_on_today(
    tablet, admin_password, swim_club
):
    from playwright.sync_api import expect

    page = tablet
    commits: list[str] = []
    page.on("request", lambda r: commits.append(r.method) if r.url.endswith("/courses/new/commit/") else None)
    sandbox = wix.get_sandbox()
    before = {e["id"] for e in sandbox.state.all("events")}
    sign_in(page, username="browser-admin", password=admin_password, next_path="/today/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    page.wait_for_url("**/courses/")
    page.get_by_role("link", name="Build a course term").click()
    page.wait_for_url("**/courses/new/")
    assert all(p.exists() for p in shots(page, "course-builder-1-builder"))

    first = next_tuesday()
    week5 = first - timedelta(days=first.weekday()) + timedelta(weeks=4)
    fill_term(
        page,
        rows=[("Tuesday", "17:00", "17:45"), ("Thursday", "17:00", "17:45")],
        first=first,
        weeks=10,
        off=(week5, week5 + timedelta(days=6), "Half-term"),
    )
    # A slip first: the end before the start is a message next to the row, nothing sent.
    page.locator("#slot-1-end").fill("16:45")
    page.get_by_role("button", name="Preview sessions").click()
    expect(page.locator("#course-problems")).to_contain_text("Thursday: the session ends before it starts.")
    expect(page.locator("#course-problems")).to_be_focused()  # scrolled to, and read out
    expect(page.locator("#course-preview")).to_have_count(0)
    page.locator("#slot-1-end").fill("17:45")
    page.get_by_role("button", name="Preview sessions").click()

    preview = page.locator("#course-preview")
    expect(preview.get_by_role("heading", level=2)).to_have_text(f"18 sessions of {COURSE}")
    expect(preview.get_by_role("heading", level=2)).to_be_focused()
    expect(preview.locator("tr.is-excluded")).to_have_count(2)
    expect(preview.locator("tr.is-excluded").first).to_contain_text("Half-term")
    expect(preview).to_contain_text("1 × Bulk Create Event")
    expect(preview).to_contain_text("4 events (4 weekly series) making 18 sessions")
    assert all(p.exists() for p in shots(page, "course-builder-2-preview"))
    assert CourseBuild.objects.count() == 0

    preview.get_by_role("button", name="Create 18 sessions in Wix").click()
    page.wait_for_url(BUILD_PAGE)
    status = page.locator("#course-build-status")
    expect(status).to_contain_text("0 of 18 sessions in Wix")
    expect(status).to_contain_text("Waiting for the worker")
    assert all(p.exists() for p in shots(page, "course-builder-3-waiting"))
    assert commits == ["POST"]  # one click, one request

    # The worker pushes (synchronously here); the page follows by itself.
    with wix.get_wix_client() as client:
        report = push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    assert report.synced == 1, report.as_dict()
    expect(status).to_contain_text("18 of 18 sessions in Wix", timeout=15_000)
    expect(status).to_contain_text("All 18 sessions are in Wix.")
    assert all(p.exists() for p in shots(page, "course-builder-4-done"))

    made = [e for e in sandbox.state.all("events") if e["id"] not in before and e["recurrenceType"] != "MASTER"]
    assert len(made) == 18
    assert {e["start"]["localDate"][11:16] for e in made} == {"17:00"}
    assert not {e["start"]["localDate"][:10] for e in made} & {
        week5.isoformat(),
        (week5 + timedelta(days=3)).isoformat(),
    }

    # On Today, after a sync, for the first Tuesday.
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
    assert Session.objects.filter(service=swim_club, start__date__gte=first).count() >= 18 - 4  # the window: 60 days
    page.get_by_role("link", name="See the first session on Today").click()
    page.wait_for_url(f"**/today/?date={first.isoformat()}*")
    session = page.locator(".session", has_text=COURSE)
    expect(session).to_contain_text("17:00")
    expect(session).to_contain_text("Lena Fischer")
    assert all(p.exists() for p in shots(page, "course-builder-5-today"))

    # A second term right after the first: Wednesdays at 17:00 for 4 weeks.
    page.goto("/courses/new/")
    fill_term(page, rows=[("Wednesday", "17:00", "17:45")], first=first + timedelta(days=1), weeks=4, off=None)
    page.get_by_role("button", name="Preview sessions").click()
    expect(page.locator("#course-preview h2")).to_have_text(f"4 sessions of {COURSE}")
    page.get_by_role("button", name="Create 4 sessions in Wix").click()
    page.wait_for_url(BUILD_PAGE)
    with wix.get_wix_client() as client:
        push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    expect(page.locator("#course-build-status")).to_contain_text("4 of 4 sessions in Wix", timeout=15_000)
    assert CourseBuild.objects.count() == 2

    page.get_by_role("link", name="‹ Course terms").click()
    expect(page.locator(".build-list tbody tr")).to_have_count(2)
    expect(page.locator(".build-list")).not_to_contain_text("Needs attention")
    assert all(p.exists() for p in shots(page, "course-builder-6-list"))


@pytest.mark.django_db(transaction=True)
def test_a_term_wix_refused_in_part_says_which_sessions_exist_and_retry_sends_the_rest(
    tablet, admin_password, swim_club
):
    from playwright.sync_api import expect

    from bookings_app.services import courses
    from bookings_app.services.courses import Slot

    page = tablet
    sandbox = wix.get_sandbox()
    lena = StaffMember.objects.get(name="Lena Fischer")
    term = courses.term_make(
        service=swim_club,
        instructor=lena,
        location=None,
        capacity=10,
        slots=[(0, Slot(1, time(17), time(17, 45))), (1, Slot(3, time(17), time(17, 45)))],
        first=next_tuesday(),
        last=None,
        weeks=6,
        exclusions=[],
        today=timezone.localdate(),
        tz="Europe/London",
    )
    plan = courses.plan_term(term)
    build = courses.course_build_commit(user=None, term=term, digest=plan.digest, idempotency_key="browser-partial-1")
    thursdays = build.events.get(position=1)
    thursdays.payload = {**thursdays.payload, "resources": [{"id": "gone-resource", "permissionRole": "WRITER"}]}
    thursdays.save()
    with wix.get_wix_client() as client:
        push.push_desk_actions_now(wix=client, ignore_undo_window=True)

    sign_in(page, username="browser-admin", password=admin_password, next_path=f"/courses/{build.pk}/")
    status = page.locator("#course-build-status")
    expect(status).to_contain_text("Needs attention")
    expect(status).to_contain_text("6 of 12 sessions in Wix")
    expect(status).to_contain_text("6 sessions were not created (the instructor's calendar resource no longer exists")
    expect(status.locator("tr.state-failed")).to_have_count(6)
    assert all(p.exists() for p in shots(page, "course-builder-7-needs-attention"))

    sandbox.state.put("resources", {"id": "gone-resource", "name": "Lena Fischer", "revision": "1"})
    status.get_by_role("button", name="Retry the 6 missing sessions").click()
    expect(status).to_contain_text("Waiting for the worker")
    with wix.get_wix_client() as client:
        push.push_desk_actions_now(wix=client, ignore_undo_window=True)
    expect(status).to_contain_text("12 of 12 sessions in Wix", timeout=15_000)
    expect(status.get_by_role("button", name="Retry the 6 missing sessions")).to_have_count(0)
