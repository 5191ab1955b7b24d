"""The sandbox's Bookings Reader V2: Query / Count Extended Bookings (CONTRACT.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.wix_sandbox.builders import call, make_contact, make_event, make_service
from wix_sandbox import BOOKINGS_APP_ID, Sandbox

QUERY = "/_api/bookings-reader/v2/extended-bookings/query"
COUNT = "/_api/bookings-reader/v2/extended-bookings/count"
BOOKINGS = "/_api/bookings-service/v2/bookings"


def book(sb: Sandbox, service: dict, event: dict, **booking: Any) -> dict[str, Any]:
    body = {
        "booking": {
            "bookedEntity": {"slot": {"serviceId": service["id"], "eventId": event["id"]}},
            "totalParticipants": 1,
            **booking,
        }
    }
    status, answer = call(sb, "POST", BOOKINGS, body)
    assert status == 200, answer
    return answer["booking"]


def query(sb: Sandbox, path: str = QUERY, **body: Any) -> dict[str, Any]:
    status, answer = call(sb, "POST", path, body)
    assert status == 200, answer
    return answer


def ids(answer: dict[str, Any]) -> list[str]:
    return [item["booking"]["id"] for item in answer["extendedBookings"]]


@pytest.fixture
def club(sandbox: Sandbox, sandbox_clock: list[datetime]) -> dict[str, Any]:
    """Two sessions and four bookings created a minute apart (oldest first)."""
    service = make_service(sandbox)
    morning = make_event(sandbox, service, datetime(2026, 11, 22, 7, 0))
    evening = make_event(sandbox, service, datetime(2026, 11, 22, 18, 0))
    contact = make_contact(sandbox)
    bookings = []
    for event, status in ((morning, "CONFIRMED"), (morning, "CREATED"), (evening, "CONFIRMED"), (evening, "PENDING")):
        sandbox_clock[0] += timedelta(minutes=1)
        bookings.append(book(sandbox, service, event, status=status, contactDetails={"contactId": contact["id"]}))
    return {"service": service, "morning": morning, "evening": evening, "contact": contact, "bookings": bookings}


def test_query_returns_newest_bookings_first_by_default(sandbox: Sandbox, club: dict) -> None:
    answer = query(sandbox, query={})

    assert ids(answer) == [b["id"] for b in reversed(club["bookings"])]
    assert answer["pagingMetadata"]["count"] == 4
    assert answer["pagingMetadata"]["hasNext"] is False


def test_query_answers_the_same_on_its_alias(sandbox: Sandbox, club: dict) -> None:
    primary = query(sandbox, query={})
    alias = query(sandbox, "/bookings/bookings-reader/v2/extended-bookings/query", query={})

    assert primary == alias


def test_query_without_a_query_is_rejected(sandbox: Sandbox) -> None:
    status, answer = call(sandbox, "POST", QUERY, {})

    assert status == 400
    assert answer["details"]["validationError"]["fieldViolations"][0]["field"] == "query"


def test_query_filters_by_session_on_the_documented_item_path(sandbox: Sandbox, club: dict) -> None:
    answer = query(sandbox, query={"filter": {"bookedEntity.item.slot.eventId": club["morning"]["id"]}})

    assert sorted(ids(answer)) == sorted(b["id"] for b in club["bookings"][:2])
    # The booking comes back in its own shape: bookedEntity.slot, no "item".
    assert "item" not in answer["extendedBookings"][0]["booking"]["bookedEntity"]


def test_query_filters_course_bookings_by_schedule(sandbox: Sandbox, club: dict) -> None:
    course = make_service(sandbox, type="COURSE", name="Learn to Swim")
    make_event(sandbox, course, datetime(2026, 11, 23, 18, 0))
    status, made = call(
        sandbox,
        "POST",
        BOOKINGS,
        {"booking": {"bookedEntity": {"schedule": {"scheduleId": course["schedule"]["id"]}}, "totalParticipants": 1}},
    )
    assert status == 200, made

    answer = query(sandbox, query={"filter": {"bookedEntity.item.schedule.scheduleId": course["schedule"]["id"]}})

    assert ids(answer) == [made["booking"]["id"]]


@pytest.mark.parametrize(
    "flt",
    [
        {"bookedEntity.slot.eventId": "e"},  # the booking's JSON path, not the documented filter
        {"bookedEntity.schedule.scheduleId": "s"},
        {"booking.status": "PENDING"},  # no "booking." prefix in the supported filters
        {"contactDetails.firstName": "Jo"},
        {"$or": [{"status": "CONFIRMED"}, {"revision": "1"}]},  # found inside $or too
    ],
)
def test_query_and_count_refuse_a_field_the_docs_do_not_list(sandbox: Sandbox, club: dict, flt: dict) -> None:
    status, answer = call(sandbox, "POST", QUERY, {"query": {"filter": flt}})
    count_status, counted = call(sandbox, "POST", COUNT, {"filter": flt})

    assert status == 400 and count_status == 400
    assert answer["details"]["applicationError"]["code"] == "UNSUPPORTED_FILTER_FIELD"
    assert counted["details"]["applicationError"]["code"] == "UNSUPPORTED_FILTER_FIELD"


@pytest.mark.parametrize(
    "flt",
    [
        {"contactDetails.contactId": {"$startsWith": "c"}},  # eq, ne, in only
        {"id": {"$gt": "a"}},
        {"bookedEntity.tags": "GROUP"},  # hasSome, hasAll only
    ],
)
def test_query_refuses_an_operator_the_docs_do_not_list_for_the_field(sandbox: Sandbox, club: dict, flt: dict) -> None:
    status, answer = call(sandbox, "POST", QUERY, {"query": {"filter": flt}})

    assert status == 400
    assert answer["details"]["applicationError"]["code"] == "UNSUPPORTED_FILTER_OPERATOR"


def test_query_refuses_a_field_filtered_twice(sandbox: Sandbox, club: dict) -> None:
    # "You can specify a filter only once per query": Wix would apply only the first.
    twice = {"$and": [{"startDate": {"$gte": "2026-11-22T00:00:00.000Z"}}, {"startDate": {"$lt": "2026-11-23"}}]}
    once = {"startDate": {"$gte": "2026-11-22T00:00:00.000Z", "$lt": "2026-11-23T00:00:00.000Z"}}

    status, answer = call(sandbox, "POST", QUERY, {"query": {"filter": twice}})
    ranged = query(sandbox, query={"filter": once})

    assert status == 400
    assert answer["details"]["applicationError"]["code"] == "UNSUPPORTED_FILTER"
    assert len(ids(ranged)) == 4


def test_query_refuses_a_sort_on_an_unlisted_field(sandbox: Sandbox, club: dict) -> None:
    status, answer = call(sandbox, "POST", QUERY, {"query": {"sort": [{"fieldName": "revision"}]}})

    assert status == 400
    assert answer["details"]["applicationError"]["code"] == "UNSUPPORTED_SORT_FIELD"


def test_query_filters_by_tags_and_participants(sandbox: Sandbox, club: dict) -> None:
    group = query(sandbox, query={"filter": {"bookedEntity.tags": {"$hasSome": ["GROUP"]}}})
    alone = query(sandbox, query={"filter": {"participantsInfo.type.totalParticipants.value": {"$gt": 1}}})

    assert len(ids(group)) == 4
    assert ids(alone) == []


def test_query_filters_by_status(sandbox: Sandbox, club: dict) -> None:
    answer = query(sandbox, query={"filter": {"status": {"$in": ["CONFIRMED", "PENDING"]}}})

    assert sorted(ids(answer)) == sorted(club["bookings"][i]["id"] for i in (0, 2, 3))


def test_query_filters_by_contact(sandbox: Sandbox, club: dict) -> None:
    stranger = make_contact(sandbox, "Other", "Person")

    mine = query(sandbox, query={"filter": {"contactDetails.contactId": club["contact"]["id"]}})
    theirs = query(sandbox, query={"filter": {"contactDetails.contactId": stranger["id"]}})

    assert len(ids(mine)) == 4
    assert ids(theirs) == []


def test_query_filters_by_updated_date(sandbox: Sandbox, club: dict) -> None:
    since = club["bookings"][2]["updatedDate"]

    answer = query(sandbox, query={"filter": {"updatedDate": {"$gte": since}}})

    assert sorted(ids(answer)) == sorted(b["id"] for b in club["bookings"][2:])


def test_query_pages_by_cursor(sandbox: Sandbox, club: dict) -> None:
    first = query(sandbox, query={"cursorPaging": {"limit": 3}})
    second = query(sandbox, query={"cursorPaging": {"limit": 3, "cursor": first["pagingMetadata"]["cursors"]["next"]}})

    assert first["pagingMetadata"]["hasNext"] is True
    assert second["pagingMetadata"]["hasNext"] is False
    assert ids(first) + ids(second) == [b["id"] for b in reversed(club["bookings"])]


def test_query_pages_by_offset(sandbox: Sandbox, club: dict) -> None:
    answer = query(sandbox, query={"paging": {"limit": 2, "offset": 2}, "sort": [{"fieldName": "createdDate"}]})

    assert ids(answer) == [b["id"] for b in club["bookings"][2:]]
    assert answer["pagingMetadata"]["total"] == 4


def test_query_returns_at_most_50_by_default(sandbox: Sandbox) -> None:
    service = make_service(sandbox)
    event = make_event(sandbox, service, datetime(2026, 11, 22, 7, 0))
    for _ in range(51):
        book(sandbox, service, event)

    answer = query(sandbox, query={})

    assert len(answer["extendedBookings"]) == 50
    assert answer["pagingMetadata"]["hasNext"] is True


def test_query_over_100_per_page_is_rejected(sandbox: Sandbox) -> None:
    status, _ = call(sandbox, "POST", QUERY, {"query": {"cursorPaging": {"limit": 101}}})

    assert status == 400


def test_query_adds_attendance_only_when_asked_and_known(sandbox: Sandbox, club: dict) -> None:
    attended = club["bookings"][0]
    status, set_answer = call(
        sandbox,
        "POST",
        "/bookings/bookings-attendance/set",
        {"attendance": {"bookingId": attended["id"], "eventId": club["morning"]["id"], "status": "ATTENDED"}},
    )
    assert status == 200

    plain = query(sandbox, query={})
    with_info = query(sandbox, query={}, withBookingAttendanceInfo=True)

    assert all("attendance" not in item for item in plain["extendedBookings"])
    by_id = {item["booking"]["id"]: item for item in with_info["extendedBookings"]}
    assert by_id[attended["id"]]["attendance"] == {
        "id": set_answer["attendance"]["id"],
        "status": "ATTENDED",
        "numberOfAttendees": 1,
    }
    assert "attendance" not in by_id[club["bookings"][1]["id"]]


def test_query_adds_the_ecom_order_only_when_asked(sandbox: Sandbox, club: dict) -> None:
    paid = club["bookings"][0]
    canceled = {
        "id": "order-old",
        "status": "CANCELED",
        "paymentStatus": "NOT_PAID",
        "createdDate": "2026-11-21T09:10:00.000Z",
        "lineItems": [{"catalogReference": {"catalogItemId": paid["id"], "appId": BOOKINGS_APP_ID}}],
    }
    order = {
        **canceled,
        "id": "order-live",
        "status": "APPROVED",
        "paymentStatus": "PAID",
        "createdDate": "2026-11-21T09:05:00.000Z",
    }
    with sandbox.state.transaction():
        sandbox.state.put("orders", canceled)
        sandbox.state.put("orders", order)

    plain = query(sandbox, query={})
    with_order = query(sandbox, query={}, withEcomOrder=True)

    assert all("order" not in item for item in plain["extendedBookings"])
    by_id = {item["booking"]["id"]: item for item in with_order["extendedBookings"]}
    assert by_id[paid["id"]]["order"]["id"] == "order-live"
    assert "order" not in by_id[club["bookings"][1]["id"]]


def test_query_adds_allowed_actions_when_asked(sandbox: Sandbox, club: dict, sandbox_clock: list[datetime]) -> None:
    canceled = club["bookings"][1]
    call(sandbox, "POST", f"{BOOKINGS}/{canceled['id']}/cancel", {"revision": canceled["revision"]})

    answer = query(sandbox, query={}, withBookingAllowedActions=True)
    by_id = {item["booking"]["id"]: item["allowedActions"] for item in answer["extendedBookings"]}
    sandbox_clock[0] = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    later = query(sandbox, query={}, withBookingAllowedActions=True)

    assert by_id[club["bookings"][0]["id"]] == {"cancel": True, "reschedule": True}
    assert by_id[canceled["id"]] == {"cancel": False, "reschedule": False}
    assert later["extendedBookings"][-1]["allowedActions"] == {"cancel": True, "reschedule": False}


def test_count_counts_matching_bookings(sandbox: Sandbox, club: dict) -> None:
    status, answer = call(sandbox, "POST", COUNT, {"filter": {"bookedEntity.item.slot.eventId": club["evening"]["id"]}})
    _, everything = call(sandbox, "POST", "/bookings/bookings-reader/v2/extended-bookings/count", {})

    assert status == 200
    assert answer == {"count": 2}
    assert everything == {"count": 4}
