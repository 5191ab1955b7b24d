"""What the admin reads when Wix refuses a course's events (``services/courses/messages.py``): the
sandbox's real refusals, in plain language."""

from __future__ import annotations

import pytest

from bookings_app.services.courses import messages
from bookings_app.wix import WixValidationError
from tests.services.courses.helpers import CourseWorld

pytestmark = pytest.mark.django_db


def refusal(cw: CourseWorld, body: dict) -> WixValidationError:
    with pytest.raises(WixValidationError) as excinfo:
        cw.world.wix.post("/calendar/v3/bulk/events/create", body, idempotent=False)
    return excinfo.value


def event(cw: CourseWorld, **changes) -> dict:
    from bookings_app.services import courses

    payload = dict(courses.plan_term(cw.term(weeks=2)).events[0].payload)
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def test_an_unwrapped_event_reads_as_such(cw: CourseWorld) -> None:
    err = refusal(cw, {"events": [event(cw)]})
    assert messages.request_refused(err) == 'Wix refused the whole request — an event was not wrapped as {"event": …}'


def test_an_event_without_resources_reads_as_a_missing_instructor(cw: CourseWorld) -> None:
    err = refusal(cw, {"events": [{"event": event(cw, resources=None)}]})
    assert messages.wix_reason(err) == "an event was sent without its instructor (a calendar resource is required)"


def test_a_resource_without_a_role_and_two_weekdays_are_both_said_once(cw: CourseWorld) -> None:
    bad = event(cw, resources=[{"id": cw.teacher["resourceId"]}])
    bad["recurrenceRule"] = {**bad["recurrenceRule"], "days": ["TUESDAY", "THURSDAY"]}
    err = refusal(cw, {"events": [{"event": bad}, {"event": bad}]})
    assert messages.wix_reason(err) == (
        "the instructor was sent without a permission role; a weekly series named more than one weekday"
    )


def test_an_unknown_item_error_keeps_wix_words_and_code() -> None:
    code, reason = messages.item_reason({"code": "SOMETHING_NEW", "description": "Calendar is busy"})
    assert (code, reason) == ("SOMETHING_NEW", "Wix said “Calendar is busy” (SOMETHING_NEW)")


@pytest.mark.parametrize(
    ("counts", "says"),
    [
        ({"created": 18, "failed": 0, "waiting": 0}, "All 18 sessions are in Wix."),
        ({"created": 17, "failed": 1, "waiting": 0}, "17 of 18 sessions are in Wix. 1 session was not created (x)."),
        ({"created": 9, "failed": 0, "waiting": 9}, "9 of 18 sessions are in Wix. 9 sessions are still on their way."),
    ],
)
def test_the_summary_says_how_many_exist_and_how_many_do_not(counts: dict, says: str) -> None:
    assert messages.build_summary(total=18, reasons=["x"], **counts).startswith(says)
