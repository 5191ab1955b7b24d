"""The course builder's screens (``views/courses.py``): the builder and its preview, commit, the
build's page with its progress and Retry, bad input (422), roles — each used twice in a row."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from bookings_app.models import CourseBuild, CourseBuildEvent, DeskAction, Session
from tests.services.conftest import build_world
from tests.services.courses.helpers import THU, TUE, CourseWorld, build_course_world, next_weekday
from tests.services.push.conftest import push_now, recorder

pytestmark = pytest.mark.django_db

NEW = "/courses/new/"
COMMIT = "/courses/new/commit/"


@pytest.fixture
def cw() -> CourseWorld:
    world = build_world()
    yield build_course_world(world)
    world.wix.close()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def form(cw: CourseWorld, **changes: Any) -> dict[str, str]:
    """The builder's fields for "Learn to Swim — Tue/Thu 17:00–17:45, 10 weeks, skip week 5"."""
    first = next_weekday(TUE)
    monday = first - timedelta(days=first.weekday()) + timedelta(weeks=4)
    data = {
        "service": str(cw.service().pk),
        "instructor": str(cw.instructor().pk),
        "location": "",
        "capacity": "10",
        "slot-0-weekday": str(TUE),
        "slot-0-start": "17:00",
        "slot-0-end": "17:45",
        "slot-1-weekday": str(THU),
        "slot-1-start": "17:00",
        "slot-1-end": "17:45",
        "first_date": first.isoformat(),
        "last_date": "",
        "weeks": "10",
        "exclusion-0-first": monday.isoformat(),
        "exclusion-0-last": (monday + timedelta(days=6)).isoformat(),
        "exclusion-0-reason": "Half-term",
    }
    data.update({k: str(v) for k, v in changes.items()})
    return data


def preview(client, data: dict[str, str]):
    response = client.post(NEW, data)
    assert response.status_code == 200, response.content.decode()[:3000]
    return response


def commit_data(response, data: dict[str, str]) -> dict[str, str]:
    """The form as the preview rendered it: the fields plus its key and the plan's digest."""
    ctx = response.context
    html = response.content.decode()
    key = html.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    return {**data, "idempotency_key": key, "plan_digest": ctx["preview"].plan.digest}


# --- the builder and its preview ----------------------------------------------------------------


def test_the_preview_lists_18_sessions_the_struck_through_week_and_the_wix_calls(admin_client, cw) -> None:
    calls_before = cw.world.calls()
    response = preview(admin_client, form(cw))

    html = unescape(response.content.decode())
    p = response.context["preview"]
    assert len(p.plan.sessions) == 18 and len(p.plan.skipped) == 2
    assert "18 sessions of Learn to Swim" in html
    assert html.count("<del>") == 4  # the excluded Tuesday and Thursday: date and time each
    assert "Half-term" in html
    assert "Create 18 sessions in Wix" in html
    assert "1 × Bulk Create Event" in html and "4 events (4 weekly series) making 18 sessions" in html
    assert "POST /calendar/v3/bulk/events/create" in html and '"permissionRole": "WRITER"' in html
    assert CourseBuild.objects.count() == 0 and DeskAction.objects.count() == 0
    preview(admin_client, form(cw))  # again: the same
    assert cw.world.calls() == calls_before  # a preview sends nothing to Wix


def test_the_preview_flags_clashes_with_the_instructors_other_sessions_and_keeps_them(admin_client, cw) -> None:
    from tests.services.courses.helpers import make_clashing_class

    make_clashing_class(cw)
    response = preview(admin_client, form(cw))

    p = response.context["preview"]
    assert len(p.plan.sessions) == 18  # flagged, not dropped
    assert p.clash_count == 1
    html = response.content.decode()
    assert "Lena Fischer teaches Open Water Swim" in html
    assert "1 session clashes with what is already on the calendar" in html


def test_the_builder_answers_htmx_with_its_own_part(admin_client, cw) -> None:
    response = admin_client.post(NEW, form(cw), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="course-builder">')
    assert "<header" not in html


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"weeks": "", "last_date": "2000-01-01"}, "last_date", "is before the first"),
        (
            {
                "slot-0-weekday": "",
                "slot-0-start": "",
                "slot-0-end": "",
                "slot-1-weekday": "",
                "slot-1-start": "",
                "slot-1-end": "",
            },
            "slots",
            "Add at least one weekday",
        ),
        ({"weeks": "0"}, "weeks", "A term is at least 1 week."),
        ({"slot-0-end": "16:30"}, "slot-0", "the session ends before it starts"),
        ({"weeks": "260"}, "weeks", "a term can be at most 52 weeks"),
        ({"weeks": ""}, "last_date", "Give the last date, or the number of weeks."),
        ({"last_date": "2099-01-01"}, "weeks", "not both"),
        ({"first_date": "2001-02-03"}, "first_date", "in the past"),
        ({"first_date": "not a date"}, "first_date", "Enter a date as YYYY-MM-DD."),
        ({"capacity": "lots"}, "capacity", "whole number"),
        ({"capacity": "0"}, "capacity", "Capacity is 1 to 1000"),
        ({"slot-0-start": "5pm"}, "slot-0", "Give the start and end times"),
        ({"slot-0-weekday": "9"}, "slot-0", "Choose the weekday."),
        ({"exclusion-0-reason": ""}, "exclusion-0", "Say why"),
        ({"exclusion-0-first": "2031-01-01", "exclusion-0-last": "2031-01-02"}, "exclusion-0", "outside the term"),
        ({"exclusion-0-last": "2000-01-01"}, "exclusion-0", "before the start"),
        ({"service": "999999"}, "service", "Select a valid choice"),
        ({"slot-1-weekday": str(TUE), "slot-1-start": "17:30", "slot-1-end": "18:00"}, "slot-1", "overlaps"),
    ],
)
def test_bad_input_is_a_422_with_the_message_and_changes_nothing(admin_client, cw, changes, field, says) -> None:
    data = form(cw, **changes)
    for attempt in (1, 2):  # the same screen twice in a row
        response = admin_client.post(NEW, data)
        assert response.status_code == 422, (attempt, response.content.decode()[:500])
        form_ = response.context["form"]
        found = [str(e) for e in form_.errors.get(field, [])] + form_.row_errors.get(field, [])
        assert any(says in m for m in found), (field, found, form_.errors, form_.row_errors)
        assert says in unescape(response.content.decode())
        assert response.context["preview"] is None
    assert CourseBuild.objects.count() == 0 and DeskAction.objects.count() == 0


def test_a_term_where_every_date_is_excluded_is_a_422(admin_client, cw) -> None:
    first = next_weekday(TUE)
    data = form(
        cw,
        weeks="1",
        **{"exclusion-0-first": first.isoformat(), "exclusion-0-last": (first + timedelta(days=6)).isoformat()},
    )
    response = admin_client.post(NEW, data)
    assert response.status_code == 422
    assert "No sessions are left" in response.content.decode()


def test_an_instructor_without_a_calendar_resource_is_refused_with_a_message(admin_client, cw) -> None:
    cw.instructor().__class__.objects.filter(pk=cw.instructor().pk).update(resource_id="")
    response = admin_client.post(NEW, form(cw))
    assert response.status_code == 422
    assert "has no calendar resource in Wix" in response.content.decode()


# --- commit, the build's page, twice in a row ----------------------------------------------------------


def test_commit_saves_then_the_worker_creates_them_and_a_second_course_works_as_well(admin_client, cw) -> None:
    client, transport = recorder(cw.world)
    for round_ in (1, 2):
        data = form(cw) if round_ == 1 else form(cw, **{"slot-0-start": "18:00", "slot-0-end": "18:45"})
        if round_ == 2:
            data.update({"slot-1-start": "18:00", "slot-1-end": "18:45"})
        shown = preview(admin_client, data)
        posted = commit_data(shown, data)

        response = admin_client.post(COMMIT, posted)
        build = CourseBuild.objects.order_by("-pk").first()
        assert response.status_code == 302 and response["Location"] == reverse("course_build", args=[build.pk])
        again = admin_client.post(COMMIT, posted)  # a double click
        assert again.status_code == 302 and again["Location"] == response["Location"]
        assert CourseBuild.objects.count() == round_
        assert DeskAction.objects.filter(kind="COURSE_BUILD").count() == round_

        page = admin_client.get(response["Location"])
        assert page.status_code == 200
        assert 'hx-trigger="every 1s"' in page.content.decode()  # polls while it runs
        assert "0 of 18 sessions in Wix" in page.content.decode()

        push_now(client)

        status = admin_client.get(response["Location"], HTTP_HX_REQUEST="true")
        html = status.content.decode()
        assert html.lstrip().startswith('<section id="course-build-status"')
        assert "18 of 18 sessions in Wix" in html and "Done" in html
        assert "every 1s" not in html  # stops polling
        assert "All 18 sessions are in Wix." in html
    assert len(cw.sessions_in_wix()) == 36
    assert Session.objects.filter(service=cw.service()).count() == 36
    assert len(transport.bodies("/bulk/events/create")) == 2


def test_a_commit_whose_form_changed_since_the_preview_shows_the_new_preview(admin_client, cw) -> None:
    data = form(cw)
    posted = commit_data(preview(admin_client, data), data)
    posted["weeks"] = "9"

    response = admin_client.post(COMMIT, posted)

    assert response.status_code == 409
    assert "differ from the preview" in response.content.decode()
    assert response.context["preview"] is not None and len(response.context["preview"].plan.sessions) == 16
    assert CourseBuild.objects.count() == 0


def test_a_commit_with_bad_input_is_a_422(admin_client, cw) -> None:
    data = form(cw)
    posted = commit_data(preview(admin_client, data), data)
    posted["slot-0-end"] = "16:00"
    assert admin_client.post(COMMIT, posted).status_code == 422
    assert CourseBuild.objects.count() == 0


def test_the_sandboxs_whole_request_400_is_shown_and_retry_sends_only_what_is_missing(admin_client, cw) -> None:
    data = form(cw)
    admin_client.post(COMMIT, commit_data(preview(admin_client, data), data))
    build = CourseBuild.objects.get()
    # The second series lost its instructor on the way (the recipe's documented 400).
    event = build.events.get(position=1)
    original = event.payload
    event.payload = {k: v for k, v in original.items() if k != "resources"}
    event.save()

    push_now(cw.world.wix)

    page = admin_client.get(reverse("course_build", args=[build.pk])).content.decode()
    assert "Needs attention" in page
    assert "0 of 18 sessions in Wix" in page
    assert "Wix refused the whole request — an event was sent without its instructor" in page
    assert "Retry the 18 missing sessions" in page
    assert cw.sessions_in_wix() == []

    event.payload = original
    event.save()
    for attempt in (1, 2):
        response = admin_client.post(reverse("course_retry", args=[build.pk]), HTTP_HX_REQUEST="true")
        if attempt == 1:
            assert response.status_code == 200
            push_now(cw.world.wix)
        else:
            assert response.status_code == 409  # nothing left to retry
            assert "Every session of this term is in Wix." in response.content.decode()
    assert len(cw.sessions_in_wix()) == 18
    assert DeskAction.objects.get(kind="COURSE_BUILD").status == "SYNCED"


def test_a_past_first_session_by_the_time_the_worker_runs_is_explained(
    admin_client, admin_user, cw, time_machine
) -> None:
    data = form(cw)
    admin_client.post(COMMIT, commit_data(preview(admin_client, data), data))
    build = CourseBuild.objects.get()
    time_machine.move_to(timezone.now() + timedelta(days=15))  # Wix was out of reach for two weeks
    admin_client.force_login(admin_user)

    push_now(cw.world.wix)

    response = admin_client.get(reverse("course_build", args=[build.pk]))
    assert response.status_code == 200, response
    page = response.content.decode()
    assert "a session is in the past — build the term again from today" in page
    assert not cw.sessions_in_wix()
    assert all(e.state == CourseBuildEvent.State.FAILED for e in build.events.all())


# --- who may do what ----------------------------------------------------------------------------------


def test_a_manager_may_look_and_preview_but_not_create(manager_client, cw) -> None:
    assert manager_client.get("/courses/").status_code == 200
    assert manager_client.get(NEW).status_code == 200
    response = preview(manager_client, form(cw))
    assert "Only an admin can create these sessions" in response.content.decode()
    assert "idempotency_key" not in response.content.decode()
    data = {**form(cw), "idempotency_key": "abcdefgh-1234", "plan_digest": "x"}
    assert manager_client.post(COMMIT, data).status_code == 403
    assert CourseBuild.objects.count() == 0
    build = cw.commit(cw.term())
    assert manager_client.get(f"/courses/{build.pk}/").status_code == 200
    assert manager_client.post(f"/courses/{build.pk}/retry/").status_code == 403


@pytest.mark.parametrize("url", ["/courses/", NEW])
def test_the_front_desk_may_not_open_the_builder(desk_client, url) -> None:
    assert desk_client.get(url).status_code == 403


def test_signed_out_goes_to_the_sign_in_page(client) -> None:
    response = client.get(NEW)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_list_shows_the_terms_and_an_unknown_build_is_404(admin_client, cw) -> None:
    data = form(cw)
    admin_client.post(COMMIT, commit_data(preview(admin_client, data), data))
    html = admin_client.get("/courses/").content.decode()
    assert "Learn to Swim" in html and "Sending" in html
    assert admin_client.get("/courses/999999/").status_code == 404
    assert admin_client.post("/courses/999999/retry/").status_code == 404


def test_the_header_links_to_courses_for_admins_and_managers_only(client, admin_user, manager_user, desk_user) -> None:
    for user, shown in ((admin_user, True), (manager_user, True), (desk_user, False)):
        client.force_login(user)
        html = client.get("/today/").content.decode()
        assert ('href="/courses/"' in html) is shown, user
