"""Helpers for the push tests: a roster to settle, the fewest calls settling it can cost, and a
sandbox transport that makes trouble on purpose."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx

from bookings_app.models import DeskAction
from bookings_app.services import desk, push
from bookings_app.wix import WixClient
from bookings_app.wix.client import ApiKeyAuth
from tests.services.conftest import World, key
from wix_sandbox.transport import SandboxTransport

# --- Wix calls per participant ---------------------------------------------------------------


def roster(world: World, *, n: int, plans: int, orders: bool) -> dict[str, list[dict[str, Any]]]:
    """``n`` people booked online into tomorrow's class (``plans`` of them with a class pass)."""
    people: dict[str, list[dict[str, Any]]] = {"plan": [], "other": []}
    for i in range(n):
        person = world.customer(f"P{i:03d}", credits=5 if i < plans else None)
        people["plan" if i < plans else "other"].append(person)
        world.online_booking(person, order=orders)
    return people


def settle(world: World, desk_user, *, owes: int) -> list[DeskAction]:
    session = world.session()
    rows = desk.settle_suggestions(session=session)
    choices = []
    owing = 0
    for row in rows:
        resolution = row.resolution
        if resolution == "cash" and owing < owes:
            resolution, owing = "owes", owing + 1
        choices.append(
            desk.SettleChoice(
                booking_id=row.booking.pk,
                resolution=resolution,
                balance_id=row.balance.pk if row.balance else None,
                check_in=True,
            )
        )
    return desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=key("settle"))


def fewest(*, mode: str, n: int, cash: int, plan: int, owes: int, walk_ins: bool) -> int:
    """The fewest Wix calls the payment mode allows for settling the roster (one order per person).

    * attendance: Bulk Set Attendance, 8 a call → ceil(n / 8);
    * walk-ins only: Bulk Create Booking, 40 a call → ceil(n / 40);
    * ecom, booking made online with its order (an OFFLINE line, its id mirrored): cash → Add
      Payments each (one order per call: Bulk Mark Orders As Paid has no public route); plan →
      Redeem Benefit + the plan payment recorded with Add Payments (Charge Memberships charges only
      lines sold for a plan — UNCONFIRMED, the sandbox's strict reading); owes → nothing;
    * ecom, walk-in (no order yet, booked for a plan when one pays): Create Cart + Place Order
      each (no bulk form: one cart is one order for one buyer); cash → Add Payments; plan → Get
      Order (the placed order's line id) + Charge Memberships, and its asynchronous status for up
      to 100 orders in one List Transactions For Multiple Orders;
    * booking-only: plan → Redeem Benefit each (no bulk form); every payment status (cash, plan,
      owes) in Bulk Confirm Or Decline, 300 a call.
    """
    calls = math.ceil(n / 8)
    if walk_ins:
        calls += math.ceil(n / 40)
    if mode == "ecom":
        if walk_ins:
            calls += 2 * (cash + plan + owes) + cash + 2 * plan + math.ceil(plan / 100)
        else:
            calls += cash + 2 * plan
    else:
        calls += plan + math.ceil((cash + plan + owes) / 300)
    return calls


# --- lost answers, crashes, backoff ----------------------------------------------------------


class Trouble(httpx.BaseTransport):
    """The sandbox, with one kind of trouble on the next ``times`` calls whose path has ``part``:
    ``lost`` (Wix did it, the answer never came), ``timeout`` (never arrived), ``503``, or
    ``crash`` (Wix did it, then the worker process died). ``sent`` keeps every request."""

    def __init__(self, world: World, part: str, kind: str, times: int = 1) -> None:
        self.inner = SandboxTransport(world.sb)
        self.part, self.kind, self.times = part, kind, times
        self.sent: list[httpx.Request] = []

    def bodies(self, part: str) -> list[dict[str, Any]]:
        """The JSON bodies of the requests sent to paths containing ``part``."""
        return [json.loads(r.content or b"{}") for r in self.sent if part in r.url.path]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if self.times and self.part in request.url.path:
            self.times -= 1
            if self.kind == "timeout":
                raise httpx.ReadTimeout("injected", request=request)
            if self.kind == "503":
                return httpx.Response(503, json={"message": "injected"}, request=request)
            self.inner.handle_request(request)
            if self.kind == "crash":
                raise Crash
            raise httpx.ReadTimeout("injected: the answer was lost", request=request)
        return self.inner.handle_request(request)


def recorder(world: World) -> tuple[WixClient, Trouble]:
    """A client on the world's sandbox that keeps every request (no trouble)."""
    transport = Trouble(world, "", "none", times=0)
    return trouble_client(world, transport), transport


class Recorder(httpx.BaseTransport):
    """Another transport, with every request it passed on kept (``bodies(part)``: the JSON sent
    to paths holding ``part``)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.inner.handle_request(request)

    def bodies(self, part: str) -> list[dict[str, Any]]:
        return [json.loads(r.content or b"{}") for r in self.requests if part in r.url.path]


class Crash(BaseException):
    """The worker process dies (not an error the worker could catch)."""


def trouble_client(world: World, transport: httpx.BaseTransport) -> WixClient:
    return WixClient(
        base_url="https://www.wixapis.com",
        auth=ApiKeyAuth(world.sb.api_key, world.sb.site_id),
        transport=transport,
        sleep=lambda _s: None,
    )


def push_now(client: WixClient, **kwargs: Any) -> push.PushReport:
    return push.push_desk_actions_now(wix=client, ignore_undo_window=True, **kwargs)
