"""Wix error responses mapped to typed errors (``wix/errors.py``), through the client. No network."""

from __future__ import annotations

import httpx
import pytest

from bookings_app.wix.errors import (
    WixBadRequest,
    WixConflict,
    WixNotFound,
    WixPermissionDenied,
    WixPreconditionFailed,
    WixRateLimited,
    WixUnauthenticated,
    WixUnavailable,
    WixValidationError,
    error_from_response,
)
from tests.wix.wire import Wire, app_error, fail, make_client

# -- error mapping ----------------------------------------------------------------------------------


def test_400_validation_error_keeps_field_violations() -> None:
    violations = [
        {"field": "booking.bookedEntity", "description": "is required", "violatedRule": "REQUIRED_FIELD"},
        {"field": "booking.totalParticipants", "description": "must be ≥ 1", "violatedRule": "MIN"},
    ]
    body = {"message": "invalid booking", "details": {"validationError": {"fieldViolations": violations}}}
    client, _ = make_client(Wire(fail(400, body, **{"x-wix-request-id": "req-v"})))

    with pytest.raises(WixValidationError) as excinfo:
        client.post("/_api/bookings-service/v2/bookings", {}, idempotent=False)

    err = excinfo.value
    assert err.status == 400
    assert err.code == "INVALID_ARGUMENT"
    assert err.violations == violations
    assert err.message == "invalid booking"
    assert err.request_id == "req-v"
    assert not err.transient


def test_400_application_error_is_bad_request_with_its_code() -> None:
    client, _ = make_client(Wire(fail(400, app_error("SESSION_ID_NOT_PROVIDED", "send a session"))))

    with pytest.raises(WixBadRequest) as excinfo:
        client.post("/bookings/bookings-attendance/set", {}, idempotent=True)

    assert excinfo.value.code == "SESSION_ID_NOT_PROVIDED"
    assert excinfo.value.details["applicationError"]["description"] == "send a session"
    assert not isinstance(excinfo.value, WixValidationError)


@pytest.mark.parametrize(
    ("status", "code", "exc_type"),
    [
        (401, "UNAUTHENTICATED", WixUnauthenticated),
        (403, "PERMISSION_DENIED", WixPermissionDenied),
        (404, "BOOKING_NOT_FOUND", WixNotFound),
        (409, "INVALID_REVISION", WixConflict),
        (428, "SESSION_CAPACITY_EXCEEDED", WixPreconditionFailed),
        (428, "ORDER_ALREADY_PAID", WixPreconditionFailed),
        (428, "NOT_ENOUGH_BALANCE", WixPreconditionFailed),
    ],
)
def test_status_maps_to_typed_error_keeping_code_and_request_id(status: int, code: str, exc_type: type) -> None:
    wire = Wire(fail(status, app_error(code, "nope"), **{"X-Wix-Request-Id": f"req-{status}"}))
    client, sleeps = make_client(wire)

    with pytest.raises(exc_type) as excinfo:
        client.post("/some/write", {}, idempotent=True)

    err = excinfo.value
    assert (err.status, err.code, err.message, err.request_id) == (status, code, "nope", f"req-{status}")
    assert not err.transient
    assert len(wire.requests) == 1 and sleeps == []  # business rejections are never retried
    assert code in str(err) and f"req-{status}" in str(err)


def test_bare_error_without_details_gets_code_from_status() -> None:
    client, _ = make_client(Wire(fail(404, {"message": "no such thing"})))

    with pytest.raises(WixNotFound) as excinfo:
        client.get("/x")
    assert excinfo.value.code == "NOT_FOUND"
    assert excinfo.value.message == "no such thing"


def test_non_json_error_body_still_maps_cleanly() -> None:
    wire = Wire(fail(502, "<html><body>Bad gateway from the proxy</body></html>"))
    client, _ = make_client(wire, max_retries=0)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/ecom/v1/checkouts", {}, idempotent=False)

    err = excinfo.value
    assert err.status == 502
    assert err.code == "UNAVAILABLE"
    assert err.message == "Bad Gateway"
    assert "Bad gateway from the proxy" in err.details["body"]
    assert err.transient


def test_unknown_4xx_is_bad_request() -> None:
    client, _ = make_client(Wire(fail(405, {"message": "method not allowed"})))
    with pytest.raises(WixBadRequest):
        client.get("/x")


def test_429_is_rate_limited_with_retry_after() -> None:
    client, _ = make_client(Wire(fail(429, app_error("RESOURCE_EXHAUSTED"), **{"Retry-After": "7"})), max_retries=0)

    with pytest.raises(WixRateLimited) as excinfo:
        client.get("/x")
    assert excinfo.value.retry_after == 7.0
    assert excinfo.value.status == 429
    assert excinfo.value.transient


@pytest.mark.parametrize(
    ("status", "idempotent", "maybe_applied"),
    [
        (500, False, True),
        (502, False, True),
        (503, False, True),
        (504, False, True),
        (502, True, False),
        (504, True, False),
        (500, True, False),
        (503, True, False),
        (408, False, True),
    ],
)
def test_5xx_is_unavailable_and_says_whether_a_write_may_have_happened(
    status: int, idempotent: bool, maybe_applied: bool
) -> None:
    client, _ = make_client(Wire(fail(status, app_error("UNAVAILABLE"))), max_retries=0)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/x", {}, idempotent=idempotent)
    assert excinfo.value.status == status
    assert excinfo.value.maybe_applied is maybe_applied
    assert excinfo.value.transient


def test_read_timeout_on_a_write_may_have_been_applied() -> None:
    wire = Wire(httpx.ReadTimeout("slow"))
    client, sleeps = make_client(wire)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/_api/bookings-service/v2/bookings", {}, idempotent=False)

    err = excinfo.value
    assert err.status is None
    assert err.code == "DEADLINE_EXCEEDED"
    assert err.maybe_applied is True
    assert len(wire.requests) == 1 and sleeps == []


def test_dropped_connection_on_a_write_may_have_been_applied() -> None:
    wire = Wire(httpx.RemoteProtocolError("Server disconnected without sending a response."))
    client, _ = make_client(wire)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/ecom/v1/payments/orders/o1/add-payment", {}, idempotent=False)
    assert excinfo.value.maybe_applied is True
    assert len(wire.requests) == 1


def test_connection_refused_is_unavailable_and_not_applied() -> None:
    client, _ = make_client(Wire(httpx.ConnectError("refused")), max_retries=0)

    with pytest.raises(WixUnavailable) as excinfo:
        client.post("/x", {}, idempotent=False)
    assert excinfo.value.maybe_applied is False
    assert excinfo.value.code == "UNAVAILABLE"


def test_application_error_data_is_read_from_the_envelope() -> None:
    body = {
        "message": "ordered",
        "details": {"applicationError": {"code": "CART_ALREADY_ORDERED", "data": {"cartId": "c", "orderId": "o"}}},
    }
    err = error_from_response(409, body, idempotent=False)
    assert err.code == "CART_ALREADY_ORDERED"
    assert err.data == {"cartId": "c", "orderId": "o"}
    assert error_from_response(500, "<html>", idempotent=True).data == {}
