"""``COURSE_BUILD``: a course term's Calendar V3 events (``services.courses.send`` does the steps).

A build is pushed like any desk action: claimed under a lease (so a build left by a dead worker is
picked up again when the lease runs out, with no click), a transient failure backs off and tries
again — first looking in Wix for what an unanswered request made —, and a build Wix refused in
part needs attention: the admin reads which sessions exist and which don't, and "Retry" sends only
the rest (``courses.course_build_retry``).
"""

from __future__ import annotations

from bookings_app.models import CourseBuild, DeskAction
from bookings_app.services import courses
from bookings_app.services.push.worker import Later, Push


def push_course_builds(push: Push, actions: list[DeskAction]) -> None:
    for action in actions:
        push.guarded(action, lambda action=action: _push_one(push, action))


def _push_one(push: Push, action: DeskAction) -> None:
    build = CourseBuild.objects.filter(action=action).select_related("service", "instructor").first()
    if build is None:
        push.attention(action, "course_build_missing", "This course term's plan is missing: build it again.")
        return
    try:
        outcome = courses.course_build_send(build=build, call=push.call, heartbeat=lambda: push.extend_lease([action]))
    except courses.AnswerMissing as exc:
        raise Later(str(exc)) from exc
    if outcome.complete:
        push.synced(action, message=outcome.message)
    else:
        push.attention(action, "course_build_partial", outcome.message)
