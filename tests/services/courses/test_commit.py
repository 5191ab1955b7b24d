"""Commit and retry (``services/courses/commit.py``): saved before anything is sent, once per form,
only the previewed plan, and a retry that sends only what Wix refused."""

from __future__ import annotations

import pytest

from bookings_app.models import AuditEntry, CourseBuild, CourseBuildEvent, DeskAction
from bookings_app.services import courses
from bookings_app.services.errors import BookingError
from tests.services.conftest import key
from tests.services.courses.helpers import CourseWorld, action_of, planned_starts

pytestmark = pytest.mark.django_db

State = CourseBuildEvent.State


def test_commit_saves_the_build_its_exact_events_and_a_desk_action_and_sends_nothing(
    cw: CourseWorld, admin_user
) -> None:
    first = cw.term().first
    term = cw.term(first=first, exclusions=(cw.half_term(first),))
    plan = courses.plan_term(term)
    calls = cw.world.calls()

    build = courses.course_build_commit(user=admin_user, term=term, digest=plan.digest, idempotency_key=key("course"))

    assert cw.world.calls() == calls
    assert build.sessions_planned == 18 and build.created_by == admin_user
    assert [e.payload for e in build.events.order_by("position")] == [e.payload for e in plan.events]
    assert [e.sessions for e in build.events.order_by("position")] == [e.sessions for e in plan.events]
    assert set(build.events.values_list("state", flat=True)) == {State.PLANNED}
    assert build.slots == [
        {"weekday": 1, "start": "17:00", "end": "17:45"},
        {"weekday": 3, "start": "17:00", "end": "17:45"},
    ]
    assert build.exclusions[0]["reason"] == "Half-term"
    action = action_of(build)
    assert action.kind == DeskAction.Kind.COURSE_BUILD and action.status == DeskAction.Status.QUEUED
    assert action.run_after <= action.created_at  # no undo window: nothing to undo before it is sent
    assert action.params["course_build"] == build.pk
    audit = AuditEntry.objects.get(action="course.build")
    assert audit.user == admin_user and "18 sessions" in audit.summary


def test_the_same_form_twice_is_one_build(cw: CourseWorld) -> None:
    term = cw.term()
    digest = courses.plan_term(term).digest
    form_key = key("course")

    one = courses.course_build_commit(user=None, term=term, digest=digest, idempotency_key=form_key)
    two = courses.course_build_commit(user=None, term=term, digest=digest, idempotency_key=form_key)

    assert one.pk == two.pk
    assert CourseBuild.objects.count() == 1 and DeskAction.objects.count() == 1


def test_a_plan_that_is_not_the_previewed_one_is_refused(cw: CourseWorld) -> None:
    previewed = courses.plan_term(cw.term(weeks=10)).digest
    with pytest.raises(BookingError) as excinfo:
        courses.course_build_commit(user=None, term=cw.term(weeks=9), digest=previewed, idempotency_key=key("course"))
    assert excinfo.value.code == "plan_changed"
    assert CourseBuild.objects.count() == 0 and DeskAction.objects.count() == 0


def test_a_key_that_made_another_build_is_refused(cw: CourseWorld) -> None:
    form_key = key("course")
    term = cw.term(weeks=10)
    courses.course_build_commit(user=None, term=term, digest=courses.plan_term(term).digest, idempotency_key=form_key)
    other = cw.term(weeks=4)
    with pytest.raises(BookingError) as excinfo:
        courses.course_build_commit(
            user=None, term=other, digest=courses.plan_term(other).digest, idempotency_key=form_key
        )
    assert excinfo.value.code == "key_reused"
    assert CourseBuild.objects.count() == 1


@pytest.mark.parametrize("bad", ["", "x" * 151])
def test_a_missing_key_is_refused(cw: CourseWorld, bad: str) -> None:
    term = cw.term()
    with pytest.raises(BookingError) as excinfo:
        courses.course_build_commit(user=None, term=term, digest=courses.plan_term(term).digest, idempotency_key=bad)
    assert excinfo.value.code == "idempotency_missing"


def test_retry_is_refused_while_it_is_on_its_way_and_once_it_is_done(cw: CourseWorld) -> None:
    build = cw.commit(cw.term())
    with pytest.raises(BookingError) as excinfo:
        courses.course_build_retry(user=None, build=build)
    assert excinfo.value.code == "not_retryable" and "still being sent" in excinfo.value.message

    cw.world.push()
    with pytest.raises(BookingError) as excinfo:
        courses.course_build_retry(user=None, build=build)
    assert "Every session of this term is in Wix." in excinfo.value.message


def test_the_same_term_committed_again_from_a_new_form_creates_nothing_twice(cw: CourseWorld) -> None:
    """Two tabs, or an admin who builds the same term again: the second plan leaves out every
    session the first build made or is making, so the preview offers nothing and Wix ends up
    with each session once."""
    term = cw.term(weeks=10)
    cw.commit(term)

    preview = courses.course_preview(term=term)
    assert preview.plan.sessions == [] and len(preview.plan.skipped) == 20
    assert {s.exclusion.reason for s in preview.plan.skipped} == {"Already on its way to Wix"}
    with pytest.raises(BookingError) as excinfo:
        courses.course_build_commit(user=None, term=term, digest=preview.plan.digest, idempotency_key=key("course"))
    assert excinfo.value.code == "no_sessions"

    cw.world.push()
    cw.world.mirror()
    again = courses.course_preview(term=term)
    assert again.plan.sessions == [] and {s.exclusion.reason for s in again.plan.skipped} == {"Already in Wix"}
    assert len(cw.starts_in_wix()) == 20 and len(set(cw.starts_in_wix())) == 20
    assert CourseBuild.objects.count() == 1


def test_a_term_made_longer_creates_only_the_new_weeks(cw: CourseWorld) -> None:
    ten = cw.term(weeks=10)
    cw.commit(ten)
    cw.world.push()
    twelve = cw.term(first=ten.first, weeks=12)

    preview = courses.course_preview(term=twelve)
    assert len(preview.plan.sessions) == 4 and len(preview.plan.skipped) == 20
    build = courses.course_build_commit(
        user=None, term=twelve, digest=preview.plan.digest, idempotency_key=key("course")
    )
    cw.world.push()

    assert build.sessions_planned == 4
    assert cw.starts_in_wix() == planned_starts(twelve)  # each of the 24 sessions once


def test_a_preview_made_before_another_tab_committed_the_same_term_is_refused(cw: CourseWorld) -> None:
    term = cw.term(weeks=10)
    seen_in_the_second_tab = courses.course_preview(term=term).plan.digest
    cw.commit(term)  # the first tab

    with pytest.raises(BookingError) as excinfo:
        courses.course_build_commit(user=None, term=term, digest=seen_in_the_second_tab, idempotency_key=key("course"))

    assert excinfo.value.code == "plan_changed"
    assert CourseBuild.objects.count() == 1
