"""The sandbox's Bookings Attendance API (CONTRACT.md §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_event, make_service
from wix_sandbox import Sandbox

SET = "/bookings/bookings-attendance/set"
BULK_SET = "/bookings/v2/bulk/attendance/set"
QUERY = "/bookings/bookings-attendance/query"
COUNT = "/bookings/bookings-attendance/count"


def code(body: dict[str, Any]) -> str:
    return body["details"]["applicationError"]["code"]


def violated_fields(body: dict[str, Any]) -> list[str]:
    return [v["field"] for v in body["details"]["validationError"]["fieldViolations"]]


@pytest.fixture
def session(sandbox: Sandbox) -> dict[str, Any]:
    """A class session with three confirmed bookings."""
    service = make_service(sandbox)
    event = make_event(sandbox, service, datetime(2026, 11, 21, 7, 0))
    bookings = []
    for _ in range(3):
        status, answer = call(
            sandbox,
            "POST",
            "/_api/bookings-service/v2/bookings",
            {
                "booking": {
                    "bookedEntity": {"slot": {"serviceId": service["id"], "eventId": event["id"]}},
                    "totalParticipants": 1,
                    "status": "CONFIRMED",
                }
            },
        )
        assert status == 200
        bookings.append(answer["booking"])
    return {"service": service, "event": event, "bookings": bookings}


def attendance(session: dict, index: int = 0, **fields: Any) -> dict[str, Any]:
    return {
        "bookingId": session["bookings"][index]["id"],
        "eventId": session["event"]["id"],
        "status": "ATTENDED",
        **fields,
    }


def set_attendance(sb: Sandbox, body: dict[str, Any], path: str = SET) -> dict[str, Any]:
    status, answer = call(sb, "POST", path, {"attendance": body})
    assert status == 200, answer
    return answer["attendance"]


# -- set ------------------------------------------------------------------------------------------


def test_set_attendance_records_one_attendee_by_default(sandbox: Sandbox, session: dict) -> None:
    stored = set_attendance(sandbox, attendance(session))

    assert stored["bookingId"] == session["bookings"][0]["id"]
    assert stored["eventId"] == session["event"]["id"]
    assert stored["status"] == "ATTENDED"
    assert stored["numberOfAttendees"] == 1
    assert sandbox.state.get("attendances", stored["id"]) == stored


def test_set_attendance_again_updates_the_same_record(sandbox: Sandbox, session: dict) -> None:
    first = set_attendance(sandbox, attendance(session))

    second = set_attendance(sandbox, attendance(session, status="NOT_ATTENDED", numberOfAttendees=2))

    assert second["id"] == first["id"]
    assert (second["status"], second["numberOfAttendees"]) == ("NOT_ATTENDED", 2)
    assert sandbox.state.count("attendances") == 1


def test_set_attendance_keeps_one_record_per_booking(sandbox: Sandbox, session: dict) -> None:
    set_attendance(sandbox, attendance(session, 0))
    set_attendance(sandbox, attendance(session, 1))

    assert sandbox.state.count("attendances") == 2


def test_set_attendance_allows_more_attendees_than_participants(sandbox: Sandbox, session: dict) -> None:
    stored = set_attendance(sandbox, attendance(session, numberOfAttendees=4))

    assert stored["numberOfAttendees"] == 4


@pytest.mark.parametrize(
    "path",
    [
        "/_api/bookings-attendance/set",
        "/bookings/attendance/set",
        "/bookings/attendance/v2/attendance/set",
        "/bookings/v2/attendance/set",
        "/_api/bookings-attendance/v2/attendance/set",
    ],
)
def test_set_attendance_answers_on_every_alias(sandbox: Sandbox, session: dict, path: str) -> None:
    stored = set_attendance(sandbox, attendance(session), path=path)

    assert stored["status"] == "ATTENDED"


def test_set_attendance_accepts_the_deprecated_session_id(sandbox: Sandbox, session: dict) -> None:
    body = attendance(session)
    body["sessionId"] = body.pop("eventId")

    stored = set_attendance(sandbox, body)

    assert stored["eventId"] == stored["sessionId"] == session["event"]["id"]


def test_set_attendance_without_booking_and_status_is_rejected(sandbox: Sandbox, session: dict) -> None:
    status, answer = call(sandbox, "POST", SET, {"attendance": {"eventId": session["event"]["id"]}})

    assert status == 400
    assert violated_fields(answer) == ["attendance.bookingId", "attendance.status"]
    assert sandbox.state.count("attendances") == 0


def test_set_attendance_with_unknown_status_is_rejected(sandbox: Sandbox, session: dict) -> None:
    status, answer = call(sandbox, "POST", SET, {"attendance": attendance(session, status="LATE")})

    assert status == 400
    assert violated_fields(answer) == ["attendance.status"]


@pytest.mark.parametrize("count", [-1, "2"])
def test_set_attendance_with_a_bad_attendee_count_is_rejected(sandbox: Sandbox, session: dict, count: Any) -> None:
    status, answer = call(sandbox, "POST", SET, {"attendance": attendance(session, numberOfAttendees=count)})

    assert status == 400
    assert violated_fields(answer) == ["attendance.numberOfAttendees"]


def test_set_attendance_without_a_session_is_rejected(sandbox: Sandbox, session: dict) -> None:
    body = attendance(session)
    del body["eventId"]

    status, answer = call(sandbox, "POST", SET, {"attendance": body})

    assert status == 400
    assert code(answer) == "SESSION_ID_NOT_PROVIDED"
    assert sandbox.state.count("attendances") == 0


def test_set_attendance_of_unknown_booking_is_not_found(sandbox: Sandbox, session: dict) -> None:
    status, answer = call(sandbox, "POST", SET, {"attendance": attendance(session, bookingId="nope")})

    assert status == 404
    assert code(answer) == "BOOKING_NOT_FOUND"
    assert sandbox.state.count("attendances") == 0


def test_set_attendance_for_unknown_session_is_not_found(sandbox: Sandbox, session: dict) -> None:
    status, answer = call(sandbox, "POST", SET, {"attendance": attendance(session, eventId="nope")})

    assert status == 404
    assert code(answer) == "SESSION_NOT_FOUND"
    assert sandbox.state.count("attendances") == 0


# -- bulk set -----------------------------------------------------------------------------------------


def test_bulk_set_attendance_returns_items_only_when_asked(sandbox: Sandbox, session: dict) -> None:
    details = [{"attendance": attendance(session, i)} for i in range(3)]

    status, lean = call(sandbox, "POST", BULK_SET, {"attendanceDetails": details})
    _, full = call(sandbox, "POST", BULK_SET, {"attendanceDetails": details, "returnFullEntity": True})

    assert status == 200
    assert all(r["itemMetadata"]["success"] and "item" not in r for r in lean["results"])
    assert [r["item"]["id"] for r in full["results"]] == [r["itemMetadata"]["id"] for r in lean["results"]]
    assert full["bulkActionMetadata"] == {"totalSuccesses": 3, "totalFailures": 0, "undetailedFailures": 0}
    assert sandbox.state.count("attendances") == 3


@pytest.mark.parametrize(
    "path",
    [
        "/bookings-attendance/v2/bulk/attendance/set",
        "/_api/bookings-attendance/v2/bulk/attendance/set",
        "/bookings/attendance/v2/bulk/attendance/set",
    ],
)
def test_bulk_set_attendance_answers_on_every_alias(sandbox: Sandbox, session: dict, path: str) -> None:
    status, answer = call(sandbox, "POST", path, {"attendanceDetails": [{"attendance": attendance(session)}]})

    assert status == 200
    assert answer["bulkActionMetadata"]["totalSuccesses"] == 1


def test_bulk_set_attendance_takes_at_most_8(sandbox: Sandbox, session: dict) -> None:
    details = [{"attendance": attendance(session, i % 3)} for i in range(9)]

    status, _ = call(sandbox, "POST", BULK_SET, {"attendanceDetails": details})
    eight, _ = call(sandbox, "POST", BULK_SET, {"attendanceDetails": details[:8]})

    assert status == 400
    assert eight == 200


def test_bulk_set_attendance_with_nothing_to_set_is_rejected(sandbox: Sandbox) -> None:
    status, answer = call(sandbox, "POST", BULK_SET, {"attendanceDetails": []})

    assert status == 400
    assert code(answer) == "ATTENDANCES_MISSING_IN_REQUEST"


def test_bulk_set_attendance_with_a_missing_field_fails_the_whole_call(sandbox: Sandbox, session: dict) -> None:
    broken = attendance(session, 1)
    del broken["status"]
    details = [{"attendance": attendance(session, 0)}, {"attendance": broken}]

    status, answer = call(sandbox, "POST", BULK_SET, {"attendanceDetails": details})

    assert status == 400
    assert violated_fields(answer) == ["attendanceDetails[1].attendance.status"]
    assert sandbox.state.count("attendances") == 0


def test_bulk_set_attendance_without_a_session_fails_the_whole_call(sandbox: Sandbox, session: dict) -> None:
    broken = attendance(session, 1)
    del broken["eventId"]

    status, answer = call(
        sandbox, "POST", BULK_SET, {"attendanceDetails": [{"attendance": attendance(session)}, {"attendance": broken}]}
    )

    assert status == 400
    assert code(answer) == "SESSION_ID_NOT_PROVIDED"
    assert sandbox.state.count("attendances") == 0


def test_bulk_set_attendance_reports_an_unknown_session_per_item(sandbox: Sandbox, session: dict) -> None:
    details = [{"attendance": attendance(session, 0, eventId="gone")}, {"attendance": attendance(session, 1)}]

    status, answer = call(sandbox, "POST", BULK_SET, {"attendanceDetails": details})

    assert status == 200
    failed, ok = answer["results"]
    assert failed["itemMetadata"] == {
        "originalIndex": 0,
        "success": False,
        "error": {"code": "SESSION_NOT_FOUND", "description": "Session gone not found", "data": {"id": "gone"}},
    }
    assert ok["itemMetadata"]["success"] is True
    assert answer["bulkActionMetadata"] == {"totalSuccesses": 1, "totalFailures": 1, "undetailedFailures": 0}
    assert sandbox.state.count("attendances") == 1


# -- query, get, count ----------------------------------------------------------------------------------


def test_query_attendance_filters_and_pages_by_cursor(sandbox: Sandbox, session: dict) -> None:
    for i in range(3):
        set_attendance(sandbox, attendance(session, i, status="ATTENDED" if i else "NOT_ATTENDED"))
    flt = {"eventId": session["event"]["id"]}

    status, first = call(sandbox, "POST", QUERY, {"query": {"filter": flt, "cursorPaging": {"limit": 2}}})
    _, second = call(
        sandbox,
        "POST",
        QUERY,
        {"query": {"cursorPaging": {"limit": 2, "cursor": first["pagingMetadata"]["cursors"]["next"]}}},
    )
    _, attended = call(sandbox, "POST", QUERY, {"query": {"filter": {"status": "ATTENDED"}}})

    assert status == 200
    assert len(first["attendances"]) == 2
    assert first["pagingMetadata"]["hasNext"] is True
    assert len(second["attendances"]) == 1
    assert second["pagingMetadata"]["hasNext"] is False
    assert {a["bookingId"] for a in attended["attendances"]} == {b["id"] for b in session["bookings"][1:]}
    assert attended["pagingMetadata"]["cursors"] == {"next": None, "prev": None}


def test_query_attendance_takes_up_to_1000_a_page_as_the_sdk_says(sandbox: Sandbox, session: dict) -> None:
    set_attendance(sandbox, attendance(session))

    status, answer = call(sandbox, "POST", QUERY, {"query": {"cursorPaging": {"limit": 1000}}})
    over, refused = call(sandbox, "POST", QUERY, {"query": {"cursorPaging": {"limit": 1001}}})

    assert status == 200 and len(answer["attendances"]) == 1
    assert over == 400 and code(refused) == "ILLEGAL_LIMIT"


@pytest.mark.parametrize(
    ("flt", "error"),
    [
        ({"createdDate": {"$gte": "2026-11-21T00:00:00.000Z"}}, "UNSUPPORTED_FILTER_FIELD"),
        ({"updatedDate": {"$gte": "2026-11-21T00:00:00.000Z"}}, "UNSUPPORTED_FILTER_FIELD"),
        ({"eventId": {"$startsWith": "e"}}, "UNSUPPORTED_FILTER_OPERATOR"),
    ],
)
def test_query_and_count_attendance_refuse_what_the_query_spec_does_not_list(
    sandbox: Sandbox, flt: dict, error: str
) -> None:
    status, answer = call(sandbox, "POST", QUERY, {"query": {"filter": flt}})
    count_status, counted = call(sandbox, "POST", COUNT, {"filter": flt})

    assert status == count_status == 400
    assert code(answer) == code(counted) == error


@pytest.mark.parametrize(
    "path",
    [
        QUERY,
        "/_api/bookings-attendance/query",
        "/bookings/attendance/query",
        "/bookings/attendance/v2/attendance/query",
        "/bookings/v2/attendance/query",
    ],
)
def test_query_attendance_answers_on_every_alias(sandbox: Sandbox, session: dict, path: str) -> None:
    set_attendance(sandbox, attendance(session))

    status, answer = call(sandbox, "POST", path, {"query": {}})

    assert status == 200
    assert len(answer["attendances"]) == 1


def test_get_attendance_by_id(sandbox: Sandbox, session: dict) -> None:
    stored = set_attendance(sandbox, attendance(session))

    status, answer = call(sandbox, "GET", f"/bookings/bookings-attendance/{stored['id']}")
    alias_status, alias = call(sandbox, "GET", f"/bookings/v2/attendance/{stored['id']}")

    assert status == alias_status == 200
    assert answer == alias == {"attendance": stored}


def test_get_unknown_attendance_is_not_found(sandbox: Sandbox) -> None:
    status, answer = call(sandbox, "GET", "/bookings/bookings-attendance/nope")

    assert status == 404
    assert code(answer) == "ATTENDANCE_NOT_FOUND"


def test_count_attendances(sandbox: Sandbox, session: dict) -> None:
    set_attendance(sandbox, attendance(session, 0))
    set_attendance(sandbox, attendance(session, 1, status="NOT_ATTENDED"))

    _, attended = call(sandbox, "POST", COUNT, {"filter": {"status": "ATTENDED"}})
    _, everything = call(sandbox, "POST", "/bookings/v2/attendance/count", {})

    assert attended == {"count": 1}
    assert everything == {"count": 2}
