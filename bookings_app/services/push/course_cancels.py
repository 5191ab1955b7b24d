"""``COURSE_CANCEL``: sessions of a running course cancelled in Wix (``services.courses.cancel_send``
does the steps: Cancel Event per session, a lost answer read with Get Event before re-sending).

Pushed like any desk action: claimed under a lease, a transient failure backs off and tries again,
and a cancel Wix refused in part needs attention — the admin reads which sessions are cancelled and
which are not, and "Retry" sends only the rest (``courses.course_cancel_retry``).
"""

from __future__ import annotations

from bookings_app.models import CourseCancel, DeskAction
from bookings_app.services import courses
from bookings_app.services.push.worker import Push


def push_course_cancels(push: Push, actions: list[DeskAction]) -> None:
    for action in actions:
        push.guarded(action, lambda action=action: _push_one(push, action))


def _push_one(push: Push, action: DeskAction) -> None:
    cancel = CourseCancel.objects.filter(action=action).select_related("service").first()
    if cancel is None:
        push.attention(action, "course_cancel_missing", "What to cancel is missing: cancel the sessions again.")
        return
    outcome = courses.course_cancel_send(cancel=cancel, call=push.call, heartbeat=lambda: push.extend_lease([action]))
    if outcome.complete:
        push.synced(action, message=outcome.message)
    else:
        push.attention(action, "course_cancel_partial", outcome.message)
