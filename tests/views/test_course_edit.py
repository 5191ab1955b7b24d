"""A running course's page (``views/course_edit.py``): its sessions with their booked counts; one
session added, one cancelled, the last date moved later and earlier — each previewed, committed,
pushed, and used twice in a row; bad input (422), refusals (409), roles."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings_app.models import CourseBuild, CourseCancel, DeskAction, Session
from tests.services.conftest import build_world
from tests.services.courses.edit_helpers import booked_online, running_course
from tests.services.courses.helpers import CourseWorld, build_course_world, next_weekday
from tests.services.push.conftest import push_now

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cw() -> CourseWorld:
    world = build_world()
    yield build_course_world(world)
    world.wix.close()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def page_url(cw: CourseWorld, part: str = "") -> str:
    return reverse(f"course_{part}" if part else "course_page", args=[cw.service().pk])


def commit_fields(response) -> dict[str, str]:
    """The key and digest the preview rendered (its commit button sends them with the form)."""
    html = response.content.decode()
    key = html.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    digest = html.split('name="plan_digest" value="', 1)[1].split('"', 1)[0]
    return {"idempotency_key": key, "plan_digest": digest}


def add_form(day, start="09:00", end="09:45", **changes) -> dict[str, str]:
    data = {"day": day.isoformat(), "start": start, "end": end, "instructor": "", "location": "", "capacity": ""}
    data.update(changes)
    return data


# --- the page ---------------------------------------------------------------------------------------


def test_the_page_lists_the_sessions_still_to_come_with_their_booked_counts(admin_client, cw) -> None:
    _, sessions = running_course(cw, weeks=2)
    booked_online(cw, "Ann")
    booked_online(cw, "Ben")
    cw.world.mirror()

    response = admin_client.get(page_url(cw))

    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert html.count('class="state-scheduled"') == 4
    assert "Tuesday 17:00–17:45, Thursday 17:00–17:45 · Lena Fischer · 12 places each" in html
    assert "Cancelling a session does not cancel anyone's course booking" in html
    for session in sessions:
        row = html[html.index(f'id="session-{session.pk}"') :]
        row = row[: row.index("</tr>")]
        assert ">2<" in row and "/ 12" in row  # both booked on the course: on every session
        assert reverse("roster", args=[session.ref]) in row
        assert reverse("course_cancel", args=[cw.service().pk, session.pk]) in row
    assert 'hx-trigger="every 1s"' not in html  # nothing on its way: no polling
    # Linked from the builds list, the builder and a build's page.
    link = page_url(cw)
    assert link in admin_client.get("/courses/").content.decode()
    assert link in admin_client.get("/courses/new/").content.decode()
    assert link in admin_client.get(reverse("course_build", args=[CourseBuild.objects.get().pk])).content.decode()


def test_who_may_open_and_change_a_running_course(client, cw, admin_user, manager_user, desk_user) -> None:
    _, sessions = running_course(cw, weeks=1)
    url = page_url(cw)
    cancel = reverse("course_cancel", args=[cw.service().pk, sessions[0].pk])
    assert client.get(url).status_code == 302  # signed out: the sign-in page
    client.force_login(desk_user)
    assert client.get(url).status_code == 403
    assert client.get(cancel).status_code == 403
    client.force_login(manager_user)
    assert client.get(url).status_code == 200
    preview = client.get(cancel)
    assert preview.status_code == 200 and "Only an admin can cancel sessions." in preview.content.decode()
    assert "idempotency_key" not in preview.content.decode()
    fields = {"idempotency_key": "abcdefgh-1234", "plan_digest": "x"}
    assert (
        client.post(reverse("course_cancel_commit", args=[cw.service().pk, sessions[0].pk]), fields).status_code == 403
    )
    assert client.post(page_url(cw, "add_commit"), {**add_form(next_weekday(5)), **fields}).status_code == 403
    assert client.post(page_url(cw, "last_date_commit"), {"new_last_date": "2099-01-01", **fields}).status_code == 403
    assert not CourseCancel.objects.exists() and CourseBuild.objects.count() == 1


def test_unknown_courses_sessions_and_a_class_are_404(admin_client, cw) -> None:
    _, sessions = running_course(cw, weeks=1)
    klass = cw.world.class_service()
    assert admin_client.get(reverse("course_page", args=[klass.pk])).status_code == 404
    assert admin_client.get(reverse("course_page", args=[999999])).status_code == 404
    assert admin_client.get(f"/courses/course/{2**70}/").status_code == 404
    assert admin_client.get(reverse("course_cancel", args=[cw.service().pk, 999999])).status_code == 404
    other = cw.world.session()  # a class session, not this course's
    assert admin_client.get(reverse("course_cancel", args=[cw.service().pk, other.pk])).status_code == 404
    assert admin_client.post(reverse("course_cancel_retry", args=[cw.service().pk, 999999])).status_code == 404


# --- one session added --------------------------------------------------------------------------------


def test_add_one_session_preview_commit_push_twice_in_a_row(admin_client, cw) -> None:
    running_course(cw, weeks=1)
    for n, day in enumerate((next_weekday(5), next_weekday(6)), 1):
        data = add_form(day)
        shown = admin_client.post(page_url(cw, "add"), data, **HTMX)
        assert shown.status_code == 200
        html = unescape(shown.content.decode())
        assert html.lstrip().startswith('<div id="course-tools"')
        assert "One new session: 1 session" in html and "Lena Fischer · 12 places each" in html  # the course's
        assert "1 × Bulk Create Event" in html and '"recurrenceRule"' not in html
        assert f'"localDate": "{day.isoformat()}T09:00:00"' in html
        posted = {**data, **commit_fields(shown)}

        response = admin_client.post(page_url(cw, "add_commit"), posted)
        build = CourseBuild.objects.order_by("-pk").first()
        assert response.status_code == 302 and response["Location"] == reverse("course_build", args=[build.pk])
        assert build.source == CourseBuild.Source.ADDED and build.sessions_planned == 1
        again = admin_client.post(page_url(cw, "add_commit"), posted, **HTMX)  # a double click
        assert again.status_code == 200 and again["HX-Redirect"] == response["Location"]
        assert CourseBuild.objects.filter(source="ADDED").count() == n

        push_now(cw.world.wix)
        assert Session.objects.filter(service=cw.service()).count() == 2 + n
    # The same session once more, on a fresh form: refused, nothing made.
    refused = admin_client.post(page_url(cw, "add"), add_form(next_weekday(5)))
    assert refused.status_code == 422
    assert "has this session already (already in wix)" in unescape(refused.content.decode())
    assert CourseBuild.objects.filter(source="ADDED").count() == 2


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"day": ""}, "Give the date of the session."),
        ({"day": "31/02/2027"}, "Enter a date as YYYY-MM-DD."),
        ({"start": "5pm"}, "Enter a time like 17:00."),
        ({"end": "08:00"}, "the session ends before it starts"),
        ({"capacity": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"capacity": "5000"}, "Capacity is 1 to 1000 people."),
        ({"instructor": "999999"}, "Select a valid choice."),
        ({"day": "2001-01-01"}, "has passed"),
        ({"day": "9999-12-31"}, "at most 2 years ahead"),
        ({"capacity": "99999999999999999999"}, "Capacity is 1 to 1000 people."),
    ],
)
def test_bad_input_to_add_a_session_is_a_422_and_changes_nothing(admin_client, cw, changes, says) -> None:
    data = {**add_form(next_weekday(5)), **changes}
    for _ in (1, 2):
        response = admin_client.post(page_url(cw, "add"), data)
        assert response.status_code == 422
        assert says in unescape(response.content.decode())
        assert response.context["add_preview"] is None
        committed = admin_client.post(
            page_url(cw, "add_commit"), {**data, "idempotency_key": "abcdefgh-1", "plan_digest": "x"}
        )
        assert committed.status_code == 422
    assert not CourseBuild.objects.exists() and not DeskAction.objects.exists()


def test_an_added_session_whose_preview_changed_is_refused_with_the_new_preview(admin_client, cw) -> None:
    day, teacher = next_weekday(5), str(cw.instructor().pk)  # no timetable yet: the instructor is chosen
    assert admin_client.post(page_url(cw, "add"), add_form(day)).status_code == 422  # not chosen: "Choose…"
    shown = admin_client.post(page_url(cw, "add"), add_form(day, instructor=teacher))
    posted = {**add_form(day, end="10:00", instructor=teacher), **commit_fields(shown)}

    response = admin_client.post(page_url(cw, "add_commit"), posted)

    assert response.status_code == 409 and "differ from the preview" in response.content.decode()
    assert not CourseBuild.objects.exists()


# --- one session cancelled ----------------------------------------------------------------------------


def test_cancel_one_session_shows_who_is_affected_then_it_is_cancelled_on_today_and_the_roster(
    admin_client, cw
) -> None:
    _, sessions = running_course(cw, weeks=2)
    booked_online(cw, "Ann")
    cw.world.mirror()
    for target in (sessions[1], sessions[3]):  # twice in a row
        url = reverse("course_cancel", args=[cw.service().pk, target.pk])
        shown = admin_client.get(url, **HTMX)
        assert shown.status_code == 200
        html = unescape(shown.content.decode())
        assert html.lstrip().startswith('<div id="course-tools"')
        assert "Who is affected (1)" in html and "Ann Swimmer" in html and "mailto:ann.swimmer" in html
        assert f"POST /calendar/v3/events/{target.wix_id}/cancel" in html
        assert "Nobody's booking is cancelled." in html
        posted = commit_fields(shown)

        response = admin_client.post(reverse("course_cancel_commit", args=[cw.service().pk, target.pk]), posted, **HTMX)
        assert response.status_code == 200 and response["HX-Redirect"] == page_url(cw)
        again = admin_client.post(reverse("course_cancel_commit", args=[cw.service().pk, target.pk]), posted)
        assert again.status_code == 302 and again["Location"] == page_url(cw)
        page = admin_client.get(page_url(cw)).content.decode()
        assert "Cancelling…" in page and 'hx-trigger="every 1s"' in page

        push_now(cw.world.wix)

        part = admin_client.get(page_url(cw) + "?part=sessions", **HTMX).content.decode()
        assert part.lstrip().startswith('<section id="course-sessions"') and "every 1s" not in part
        row = part[part.index(f'id="session-{target.pk}"') :]
        assert "Cancelled" in row[: row.index("</tr>")]
        day = timezone.localtime(target.start).date()
        today = admin_client.get(f"/today/?date={day.isoformat()}").content.decode()
        assert "is-cancelled" in today and ">Cancelled<" in today
        roster = admin_client.get(reverse("roster", args=[target.ref])).content.decode()
        assert '<span class="badge is-bad">Cancelled</span>' in roster and "Ann" in roster  # still booked
    assert CourseCancel.objects.count() == 2
    assert [e["start"]["localDate"] for e in cw.sessions_in_wix()] == [
        timezone.localtime(s.start).strftime("%Y-%m-%dT%H:%M:%S") for s in (sessions[0], sessions[2])
    ]
    # A cancelled session offers no cancel; asking anyway is refused with why.
    refused = admin_client.get(reverse("course_cancel", args=[cw.service().pk, sessions[1].pk]))
    assert refused.status_code == 409 and "is cancelled already" in refused.content.decode()


def test_a_session_already_being_cancelled_in_another_tab_is_refused(admin_client, cw) -> None:
    _, sessions = running_course(cw, weeks=1)
    url = reverse("course_cancel", args=[cw.service().pk, sessions[0].pk])
    first, second = admin_client.get(url), admin_client.get(url)
    commit = reverse("course_cancel_commit", args=[cw.service().pk, sessions[0].pk])

    assert admin_client.post(commit, commit_fields(first)).status_code == 302
    response = admin_client.post(commit, commit_fields(second))

    assert response.status_code == 409 and "is being cancelled already" in response.content.decode()
    assert admin_client.post(commit, {"idempotency_key": "", "plan_digest": "x"}).status_code == 409
    assert CourseCancel.objects.count() == 1


def test_a_cancel_wix_refused_is_retried_from_the_page(admin_client, cw) -> None:
    _, sessions = running_course(cw, weeks=1)
    shown = admin_client.get(reverse("course_cancel", args=[cw.service().pk, sessions[0].pk]))
    admin_client.post(reverse("course_cancel_commit", args=[cw.service().pk, sessions[0].pk]), commit_fields(shown))
    gone = cw.sb.state.get("events", sessions[0].wix_id)
    cw.sb.state.delete("events", sessions[0].wix_id)
    push_now(cw.world.wix)
    cancel = CourseCancel.objects.get()

    page = admin_client.get(page_url(cw)).content.decode()
    assert "Needs attention" in page and "This session is no longer in Wix" in page
    assert "Retry what Wix refused" in page

    cw.sb.state.put("events", gone)  # back in Wix
    retry = reverse("course_cancel_retry", args=[cw.service().pk, cancel.pk])
    assert admin_client.post(retry, **HTMX).status_code == 200
    push_now(cw.world.wix)
    again = admin_client.post(retry, **HTMX)  # nothing left to retry
    assert again.status_code == 409 and "Every session is cancelled." in again.content.decode()
    assert Session.objects.get(pk=sessions[0].pk).is_cancelled


# --- the last date -------------------------------------------------------------------------------------


def test_move_the_last_date_later_creates_only_the_new_weeks_twice_in_a_row(admin_client, cw) -> None:
    _, sessions = running_course(cw, weeks=1)
    last = timezone.localtime(sessions[-1].start).date()
    for n in (1, 2):
        new_last = last + timedelta(weeks=n)
        shown = admin_client.post(page_url(cw, "last_date"), {"new_last_date": new_last.isoformat()}, **HTMX)
        assert shown.status_code == 200
        html = unescape(shown.content.decode())
        assert "New weeks: 2 sessions" in html and "1 weekly series" not in html
        assert 'name="direction" value="later"' in html
        first = html.split('name="first" value="', 1)[1].split('"', 1)[0]
        posted = {"new_last_date": new_last.isoformat(), "first": first, "direction": "later", **commit_fields(shown)}

        response = admin_client.post(page_url(cw, "last_date_commit"), posted)
        build = CourseBuild.objects.order_by("-pk").first()
        assert response.status_code == 302 and response["Location"] == reverse("course_build", args=[build.pk])
        assert build.source == CourseBuild.Source.EXTENDED and build.sessions_planned == 2
        assert admin_client.post(page_url(cw, "last_date_commit"), posted)["Location"] == response["Location"]
        push_now(cw.world.wix)
    assert len(cw.sessions_in_wix()) == 6
    same = admin_client.post(page_url(cw, "last_date"), {"new_last_date": (last + timedelta(weeks=2)).isoformat()})
    assert same.status_code == 422 and "last session is on" in unescape(same.content.decode())


def test_move_the_last_date_earlier_cancels_the_sessions_after_it(admin_client, cw) -> None:
    _, sessions = running_course(cw, weeks=3)
    booked_online(cw, "Ann")
    cw.world.mirror()
    new_last = timezone.localtime(sessions[3].start).date()

    shown = admin_client.post(page_url(cw, "last_date"), {"new_last_date": new_last.isoformat()})
    assert shown.status_code == 200
    html = unescape(shown.content.decode())
    assert f"Cancel 2 sessions after {new_last:%a %-d %b %Y}?" in html
    assert "Ann Swimmer" in html
    for session in sessions[4:]:
        assert f"POST /calendar/v3/events/{session.wix_id}/cancel  {{}}" in html
    assert html.count("/cancel  {}") == 2 and "2 × Cancel Event" in html
    posted = {"new_last_date": new_last.isoformat(), "direction": "earlier", **commit_fields(shown)}
    response = admin_client.post(page_url(cw, "last_date_commit"), posted)
    assert response.status_code == 302 and response["Location"] == page_url(cw)
    assert admin_client.post(page_url(cw, "last_date_commit"), posted)["Location"] == page_url(cw)
    assert CourseCancel.objects.count() == 1 and CourseCancel.objects.get().reason == "LAST_DATE"

    push_now(cw.world.wix)

    assert len(cw.sessions_in_wix()) == 4
    page = unescape(admin_client.get(page_url(cw)).content.decode())
    assert page.count('class="state-cancelled"') == 2 and f"last session {new_last:%a %-d %b %Y}" in page
    # A day later than the new last date, when the timetable has no session: nothing to create.
    friday = new_last + timedelta(days=1)
    again = admin_client.post(page_url(cw, "last_date"), {"new_last_date": friday.isoformat()})
    assert again.status_code == 422
    assert f"No session of the timetable falls between {friday:%-d %b} and {friday:%-d %b %Y}" in again.content.decode()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "Give the course's new last date."),
        ("next week", "Enter a date as YYYY-MM-DD."),
        ("2001-01-01", "has passed"),
    ],
)
def test_bad_last_dates_are_a_422_and_change_nothing(admin_client, cw, value, says) -> None:
    running_course(cw, weeks=1)
    for _ in (1, 2):
        response = admin_client.post(page_url(cw, "last_date"), {"new_last_date": value})
        assert response.status_code == 422 and says in unescape(response.content.decode())
    assert not CourseCancel.objects.exists() and CourseBuild.objects.count() == 1


def test_a_course_without_a_timetable_says_to_use_the_builder(admin_client, cw) -> None:
    response = admin_client.post(page_url(cw, "last_date"), {"new_last_date": next_weekday(5).isoformat()})
    assert response.status_code == 422 and "build the new weeks in the course builder" in response.content.decode()
    page = admin_client.get(page_url(cw)).content.decode()
    assert "No sessions of this course are still to come." in page and "No weekly timetable yet" in page


def test_add_a_session_prefills_the_courses_instructor_and_times(admin_client, cw) -> None:
    running_course(cw, weeks=1)
    form = admin_client.get(page_url(cw)).context["add_form"]
    assert form["instructor"].value() == cw.instructor().pk
    assert form["start"].value() == "17:00" and form["end"].value() == "17:45"
