"""The Wix client's log line per call (``wix/client.py``) and its bounded wait for the rate budget:
the fields a JSON log carries, and never a secret."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from backoffice.logs import JsonFormatter, RedactingFormatter
from bookings_app.wix import bookings, services
from bookings_app.wix.client import ApiKeyAuth, AppTokenAuth, WixClient
from bookings_app.wix.errors import WixRateBudgetExhausted, WixUnauthenticated, WixUnavailable
from bookings_app.wix.ratelimit import FileRateLimiter
from tests.wix.wire import BASE, Wire, fail, make_client, ok
from wix_sandbox import Sandbox
from wix_sandbox.transport import SandboxTransport

CANARY_KEY = "canary-KEY-7f3a9c1e5b"
CANARY_SECRET = "canary-SECRET-4d8e2b6a0f"


class FixedLimiter:
    """A limiter that says it waited ``seconds`` for every slot."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def acquire(self) -> float:
        return self.seconds


def _calls(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "wix.call"]


def test_each_attempt_is_one_line_with_operation_status_request_id_duration_attempt_and_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wire = Wire(fail(503), ok({"booking": {}}, **{"x-wix-request-id": "req-7"}))
    client, _ = make_client(wire, rate_limiter=FixedLimiter(0.25))

    with caplog.at_level(logging.INFO, logger="bookings_app.wix"), pytest.raises(WixUnavailable):
        bookings.confirm_or_decline_booking(client, booking_id="b-1")  # not idempotent: one attempt

    [line] = _calls(caplog)
    assert line.operation == "bookings.confirm_or_decline_booking"
    assert (line.method, line.path) == ("POST", "/bookings/v2/confirmation/b-1:confirmOrDecline")
    assert line.status == 503 and line.error is None and line.attempt == 1
    assert line.rate_limit_wait_ms == 250.0 and line.duration_ms >= 0
    assert line.levelno == logging.WARNING

    caplog.clear()
    wire = Wire(fail(503), ok({"services": []}, **{"x-wix-request-id": "req-8"}))
    client, _ = make_client(wire)
    with caplog.at_level(logging.INFO, logger="bookings_app.wix"):
        services.query_services(client)  # a read: retried

    first, second = _calls(caplog)
    assert [first.attempt, second.attempt] == [1, 2]
    assert [first.status, second.status] == [503, 200]
    assert second.wix_request_id == "req-8" and second.operation == "services.query_services"
    assert second.levelno == logging.INFO
    assert "req-8" in second.getMessage() and "services.query_services" in second.getMessage()


def test_a_call_that_got_no_answer_is_logged_with_its_error_code(caplog: pytest.LogCaptureFixture) -> None:
    wire = Wire(httpx.ReadTimeout("slow"))
    client, _ = make_client(wire, max_retries=0)

    with caplog.at_level(logging.INFO, logger="bookings_app.wix"), pytest.raises(WixUnavailable):
        client.post("/x", {}, idempotent=False)

    [line] = _calls(caplog)
    assert line.status is None and line.error == "DEADLINE_EXCEEDED" and line.operation == "POST /x"


def test_an_interactive_call_over_the_budget_is_refused_at_once_never_retried_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    now = [5000.0]
    path = tmp_path / "window"
    path.write_text("".join(f"{now[0] - 1.0 + i / 1000!r}\n" for i in range(10)))  # the minute is used up
    limiter = FileRateLimiter(path, per_minute=10, max_wait=1.5, clock=lambda: now[0], sleep=lambda s: None)
    wire = Wire(ok())
    client, sleeps = make_client(wire, rate_limiter=limiter, max_retries=3)

    with caplog.at_level(logging.INFO, logger="bookings_app.wix"), pytest.raises(WixRateBudgetExhausted) as excinfo:
        services.query_services(client)

    assert wire.requests == [] and sleeps == []
    assert excinfo.value.retry_after == pytest.approx(60.0)
    [line] = _calls(caplog)
    assert line.error == "RATE_BUDGET_EXHAUSTED" and line.status is None and line.duration_ms is None


def _format_all(records: list[logging.LogRecord], formatter: logging.Formatter) -> str:
    return "\n".join(formatter.format(r) for r in records)


def test_no_secret_reaches_a_log_line_whatever_wix_answers(caplog: pytest.LogCaptureFixture) -> None:
    """A canary API key and app secret, calls that succeed, fail, time out and refresh a token:
    formatted with redaction switched off, no line holds either secret."""
    wire = Wire(ok(), fail(401, {"message": "bad key"}), fail(500, "<html>proxy error</html>"), httpx.ConnectError("x"))
    keyed, _ = make_client(wire, auth=ApiKeyAuth(CANARY_KEY, "site-1"), max_retries=0)
    sandbox = Sandbox(app_id="app-1", app_secret=CANARY_SECRET, instance_id="inst-1")
    app = WixClient(
        base_url=BASE,
        auth=AppTokenAuth(app_id="app-1", app_secret=CANARY_SECRET, instance_id="inst-1"),
        transport=SandboxTransport(sandbox),
        sleep=lambda s: None,
    )
    wrong = WixClient(
        base_url=BASE,
        auth=AppTokenAuth(app_id="app-1", app_secret=CANARY_SECRET + "-wrong", instance_id="inst-1"),
        transport=SandboxTransport(sandbox),
        sleep=lambda s: None,
    )

    with caplog.at_level(logging.DEBUG):
        for _ in range(4):
            try:
                services.query_services(keyed)
            except Exception:  # noqa: BLE001, S112 - every outcome is wanted in the log
                continue
        services.query_services(app)
        with pytest.raises(WixUnauthenticated):
            services.query_services(wrong)

    assert len(_calls(caplog)) >= 7
    for formatter in (JsonFormatter(secrets=[]), RedactingFormatter("%(message)s", secrets=[])):
        text = _format_all(caplog.records, formatter)
        assert CANARY_KEY not in text and CANARY_SECRET not in text
        assert "oauth.token" in text


def test_the_json_line_of_a_call_carries_every_field() -> None:
    wire = Wire(ok(**{"x-wix-request-id": "req-9"}))
    client, _ = make_client(wire)
    handler = _Collect()
    logger = logging.getLogger("bookings_app.wix")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        services.query_services(client)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)

    [line] = [json.loads(JsonFormatter(secrets=[]).format(r)) for r in handler.records]
    assert line["event"] == "wix.call" and line["logger"] == "bookings_app.wix" and line["level"] == "INFO"
    assert {k: line[k] for k in ("operation", "status", "wix_request_id", "attempt", "rate_limit_wait_ms")} == {
        "operation": "services.query_services",
        "status": 200,
        "wix_request_id": "req-9",
        "attempt": 1,
        "rate_limit_wait_ms": 0.0,
    }
    assert isinstance(line["duration_ms"], float)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
