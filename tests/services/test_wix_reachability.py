"""Whether Wix answers (``services/wix_reachability.py``, fed by ``wix/reachability.py``), as the header shows it.

The header used to say "Wix unreachable" only once a whole sync had failed after all its retries:
100 s into an outage it still said "Synced". Now the first unanswered attempt of any client
says so, and the next answer clears it. These tests run outside a test transaction
(``transaction=True``), as the worker and the web processes do: nothing is noted inside one.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings_app import selectors
from bookings_app.models import DeskAction, SyncState
from bookings_app.services import wix_reachability
from bookings_app.wix import WixClient, WixUnavailable, get_wix_client
from bookings_app.wix.client import ApiKeyAuth
from bookings_app.wix.reachability import ObservedTransport
from tests.factories import DeskActionFactory
from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID, Sandbox
from wix_sandbox.transport import SandboxTransport

pytestmark = pytest.mark.django_db(transaction=True)

SERVICES_QUERY = "/_api/bookings/v2/services/query"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    wix_reachability.wix_reachability_forget()
    yield
    wix_reachability.wix_reachability_forget()


class Switch(httpx.BaseTransport):
    """Wix as the network sees it: up (the sandbox answers) or down (the connection is refused)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.up = True
        self.sandbox = SandboxTransport(sandbox)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.sandbox.handle_request(request)


def _header(client) -> str:
    return client.get(reverse("today")).content.decode()


def _client(switch: Switch, *, sleep=lambda _s: None, max_retries: int = 4) -> WixClient:
    return WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID),
        transport=ObservedTransport(switch),
        max_retries=max_retries,
        sleep=sleep,
    )


def test_the_header_says_wix_is_unreachable_from_the_first_unanswered_attempt(desk_client, sandbox) -> None:
    switch = Switch(sandbox)
    with _client(switch) as wix:
        wix.post(SERVICES_QUERY, json={"query": {}}, idempotent=True)
    assert "Wix unreachable" not in _header(desk_client)

    switch.up = False
    seen_between_retries: list[bool] = []

    def sleep(_seconds: float) -> None:  # the client waits between two attempts: look at the header
        seen_between_retries.append("Wix unreachable" in _header(desk_client))

    with _client(switch, sleep=sleep) as wix, pytest.raises(WixUnavailable):
        wix.post(SERVICES_QUERY, json={"query": {}}, idempotent=True)

    assert seen_between_retries == [True, True, True, True]  # from the first failed attempt on
    page = _header(desk_client)
    assert "Wix is not answering (the connection was refused)" in page
    assert "desk actions will wait and reach Wix when it is back" in page

    switch.up = True
    with _client(switch) as wix:
        wix.post(SERVICES_QUERY, json={"query": {}}, idempotent=True)
    page = _header(desk_client)
    assert "Wix unreachable" not in page and "sync-warning" not in page


def test_a_5xx_counts_as_not_answering_and_a_404_as_answering(sandbox) -> None:
    switch = Switch(sandbox)
    sandbox.faults = dataclasses.replace(sandbox.faults, error_5xx_rate=1.0)
    with _client(switch, max_retries=0) as wix, pytest.raises(WixUnavailable):
        wix.post(SERVICES_QUERY, json={"query": {}}, idempotent=True)
    assert selectors.wix_not_answering() is not None and "HTTP 5" in selectors.wix_not_answering()

    sandbox.faults = dataclasses.replace(sandbox.faults, error_5xx_rate=0.0)
    with _client(switch, max_retries=0) as wix, pytest.raises(Exception, match="NOT_FOUND"):
        wix.get("/nope/v1/things")
    assert selectors.wix_not_answering() is None


def test_get_wix_client_observes_every_attempt(desk_client, settings, tmp_path) -> None:
    with socket.socket() as s:  # a port nobody listens on: the connection is refused at once
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.BASE_DIR = tmp_path
    settings.WIX = dataclasses.replace(
        settings.WIX,
        mode="api_key",
        api_key="k" * 20,
        site_id="site",
        base_url=f"http://127.0.0.1:{port}",
        max_retries=0,
    )

    with get_wix_client() as wix, pytest.raises(WixUnavailable):
        wix.get("/bookings/v2/services")

    assert selectors.wix_not_answering() == "the connection was refused"
    assert "Wix unreachable" in _header(desk_client)


def test_the_same_state_is_written_again_only_every_few_seconds(monkeypatch) -> None:
    moments = iter([100.0, 101.0, 102.0, 102.0 + wix_reachability.REFRESH_SECONDS + 1])
    monkeypatch.setattr(wix_reachability, "_clock", lambda: next(moments))

    row = SyncState.objects.filter(kind=SyncState.Kind.WIX_CALLS)
    wix_reachability.wix_reachability_record(False, "down")
    first = row.get().last_error_at
    wix_reachability.wix_reachability_record(False, "down again")  # same state, a second later: not written
    assert row.get().last_error == "down"
    wix_reachability.wix_reachability_record(True, "HTTP 200")  # a change: written at once
    assert selectors.wix_not_answering() is None
    answered = row.get().last_success_at
    wix_reachability.wix_reachability_record(True, "HTTP 200")  # same state, later: written again
    assert row.get().last_success_at > answered > first


def test_a_failing_sync_still_says_so_while_calls_are_answered() -> None:
    SyncState.objects.create(kind="bookings", last_error="Wix did not answer (timeout)", last_error_at=timezone.now())
    wix_reachability.wix_reachability_record(True, "HTTP 200")

    status = selectors.sync_status_get()

    assert status.failing and status.last_error == "Wix did not answer (timeout)"


def test_nothing_is_noted_inside_a_transaction() -> None:
    from django.db import transaction

    with transaction.atomic():
        wix_reachability.wix_reachability_record(False, "down")

    assert not SyncState.objects.exists()


# --- the answer that ends an outage sends the desk's waiting work at once -----------------------------


def _outage(*, answered_ago: timedelta | None) -> None:
    """Wix's latest attempt got no answer; the one before that was answered ``answered_ago``."""
    now = timezone.now()
    SyncState.objects.create(
        kind=SyncState.Kind.WIX_CALLS,
        last_error="the connection was refused",
        last_error_at=now,
        last_success_at=now - answered_ago if answered_ago is not None else None,
    )


def _pushes_queued() -> int:
    return DBTaskResult.objects.filter(task_path="bookings_app.tasks.push_desk_actions", status="READY").count()


def test_the_answer_that_ends_an_outage_sends_what_waits_out_a_retry_delay_at_once() -> None:
    _outage(answered_ago=timedelta(minutes=10))
    later = timezone.now() + timedelta(seconds=DeskAction.MAX_BACKOFF_SECONDS)
    backing_off = DeskActionFactory(attempts=8, next_attempt_at=later, last_error="Wix did not answer")
    due = DeskActionFactory()
    undo_window = DeskActionFactory(run_after=later)  # the desk may still undo it: not sent early
    claimed = DeskActionFactory(status=DeskAction.Status.RUNNING, next_attempt_at=later)  # a live worker's lease

    wix_reachability.wix_reachability_record(True, "HTTP 200")

    backing_off.refresh_from_db()
    assert backing_off.next_attempt_at <= timezone.now() and backing_off.attempts == 8
    assert backing_off.status == DeskAction.Status.QUEUED
    assert DeskAction.objects.get(pk=claimed.pk).next_attempt_at == later
    assert DeskAction.objects.get(pk=undo_window.pk).run_after == later
    assert DeskAction.objects.get(pk=due.pk).next_attempt_at is None
    assert _pushes_queued() == 1
    # …and the mirror, as old as the outage, is caught up now rather than at the minute's poll.
    assert DBTaskResult.objects.filter(task_path="bookings_app.tasks.sync_incremental_task", status="READY").exists()
    assert selectors.wix_not_answering() is None


def test_an_outage_ends_once_whichever_process_sees_the_first_answer() -> None:
    _outage(answered_ago=None)  # never answered since the install: down from the start
    later = timezone.now() + timedelta(minutes=5)
    DeskActionFactory(attempts=3, next_attempt_at=later)
    wix_reachability.wix_reachability_record(True, "HTTP 200")
    assert _pushes_queued() == 1
    DBTaskResult.objects.all().delete()

    backing_off = DeskActionFactory(attempts=1, next_attempt_at=later)  # failed after Wix was back
    wix_reachability.wix_reachability_forget()  # another process, its first answer
    wix_reachability.wix_reachability_record(True, "HTTP 200")

    assert DeskAction.objects.get(pk=backing_off.pk).next_attempt_at == later
    assert _pushes_queued() == 0


def test_a_blip_between_answers_is_no_outage_and_the_retry_delay_stays() -> None:
    _outage(answered_ago=timedelta(seconds=5))
    later = timezone.now() + timedelta(seconds=16)
    backing_off = DeskActionFactory(attempts=4, next_attempt_at=later)

    wix_reachability.wix_reachability_record(True, "HTTP 200")

    assert DeskAction.objects.get(pk=backing_off.pk).next_attempt_at == later
    assert not DBTaskResult.objects.exists()  # no push, no poll brought forward
    assert selectors.wix_not_answering() is None
