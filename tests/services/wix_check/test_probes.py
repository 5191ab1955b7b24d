"""The read-only half of ``wix_check`` (``services/wix_check/probes.py``) against the sandbox."""

from __future__ import annotations

import httpx
import pytest

from bookings_app.selectors import site_fact
from bookings_app.services.wix_check import Status
from bookings_app.services.wix_check.operations import PROBES
from bookings_app.services.wix_check.probes import NO_SUCH_FIELD, OPERATIONS
from tests.services.wix_check.helpers import (
    app_error,
    client,
    forward_with,
    line,
    not_ok,
    reply,
    run_check,
)
from wix_sandbox.state import COLLECTIONS

pytestmark = pytest.mark.django_db


def _counts(sb) -> dict[str, int]:
    return {name: sb.state.count(name) for name in COLLECTIONS}


def test_read_only_every_operation_is_reachable_and_nothing_is_made(world) -> None:
    world.customer("Pat", credits=5)
    before = _counts(world.sb)

    report = run_check(client(world.sb))

    assert _counts(world.sb) == before, "a read-only check must not make anything in Wix"
    assert not_ok(report) == {}
    assert report.ok
    assert line(report, "API key and site id").status == Status.OK
    assert [line(report, app).status for app in ("Wix Bookings", "Wix eCommerce", "Wix Pricing Plans")] == [
        Status.OK
    ] * 3
    assert {c.name for c in report.checks if c.section == OPERATIONS} == {p.name for p in PROBES}
    # A 404 for a made-up id proves the route; it is not a missing route.
    assert "made-up id" in line(report, "Get Order").meaning
    assert not report.leftovers
    # What a read can settle is settled and stored; the rest waits for --write.
    assert site_fact("unrouted_path_status", None) == 404
    assert site_fact("unsupported_filter", None) in ("400", "ignored", "no_match")
    assert any("membership id" in item and "--write" in item for item in report.unsettled)


def test_a_missing_permission_on_one_route_names_the_permission_to_add(world) -> None:
    wix = client(world.sb, ("POST", r"/order-billing/charge-memberships$", None, app_error(403, "PERMISSION_DENIED")))

    report = run_check(wix)

    charge = line(report, "Charge Memberships")
    assert charge.status == Status.MISSING_PERMISSION
    assert "ECOM.ORDER_BILLING_CHARGE_MEMBERSHIPS" in charge.todo
    assert line(report, "API key and site id").status == Status.OK
    assert line(report, "Add Payments").status == Status.OK
    assert not report.ok


def test_a_route_wix_does_not_have_is_told_from_an_entity_it_does_not_have(world) -> None:
    no_route = reply(404, {"message": "Not Found", "details": {}})
    wix = client(world.sb, ("POST", r"/extended-bookings/query$", None, no_route))

    report = run_check(wix)

    assert line(report, "Query Extended Bookings").status == Status.ROUTE_MISSING
    assert line(report, "Confirm Or Decline Booking").status == Status.OK  # 404 BOOKING_NOT_FOUND
    assert not report.ok


def test_a_wrong_api_key_stops_at_the_first_call(world) -> None:
    calls_before = world.calls()

    report = run_check(client(world.sb, api_key="not-the-key"))

    assert [(c.name, c.status) for c in report.checks] == [("API key and site id", Status.BAD_KEY)]
    assert "WIX_API_KEY" in report.checks[0].todo
    assert world.calls() - calls_before == 1
    assert not report.ok and not report.answers


def test_403_on_everything_is_a_wrong_site_id(world) -> None:
    report = run_check(client(world.sb, site_id="another-site"))

    assert [(c.name, c.status) for c in report.checks] == [("API key and site id", Status.WRONG_SITE)]
    assert "WIX_SITE_ID" in report.checks[0].todo
    assert not report.ok


def test_pricing_plans_not_installed(world) -> None:
    wix = client(world.sb, ("GET", r"^/pricing-plans/", None, app_error(428, "PRICING_PLANS_NOT_INSTALLED")))

    report = run_check(wix)

    assert line(report, "Wix Pricing Plans").status == Status.NOT_INSTALLED
    assert "App Market" in line(report, "Wix Pricing Plans").todo
    assert line(report, "List Pricing Plan Orders").status == Status.NOT_INSTALLED
    assert line(report, "Wix Bookings").status == Status.OK


def test_a_probe_wix_should_have_refused_but_accepted_is_reported_with_its_id(world) -> None:
    made = reply(200, {"contact": {"id": "contact-made-by-mistake"}})
    wix = client(world.sb, ("POST", r"^/contacts/v4/contacts$", None, made))

    report = run_check(wix)

    assert line(report, "Create Contact").status == Status.UNEXPECTED
    assert [left.wix_id for left in report.leftovers] == ["contact-made-by-mistake"]
    assert not report.ok


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda request, forward: httpx.Response(400, json={"message": "bad filter"}, request=request), "400"),
        (
            lambda request, forward: forward_with(request, forward, {"query": {"paging": {"limit": 1}}}),
            "ignored",
        ),
    ],
    ids=["refused", "ignored"],
)
def test_an_unsupported_filter_field_is_settled(world, answer, expected) -> None:
    wix = client(world.sb, ("POST", r"/services/query$", lambda text: NO_SUCH_FIELD in text, answer))

    report = run_check(wix)

    assert site_fact("unsupported_filter", None) == expected
    assert line(report, "Query Services").status == Status.OK


def test_credentials_wix_refuses_the_same_way_everywhere_are_not_taken_for_access(world) -> None:
    # E.g. Wix-app credentials the token endpoint turns down with a 400: every call fails alike.
    wix = client(world.sb, *[(method, r"", None, app_error(400, "INVALID_CLIENT")) for method in ("GET", "POST")])

    report = run_check(wix)

    assert [c.name for c in report.checks] == ["API key and site id"]
    assert report.checks[0].status != Status.OK
    assert "refused every call" in report.checks[0].meaning and "credentials" in report.checks[0].todo
    assert not report.ok


def test_no_answer_from_wix_at_all(world) -> None:
    def down(request, forward):
        raise httpx.ConnectError("connection refused", request=request)

    report = run_check(client(world.sb, *[(method, r"", None, down) for method in ("GET", "POST")]))

    assert [(c.name, c.status) for c in report.checks] == [("API key and site id", Status.NO_ANSWER)]
    assert "network" in report.checks[0].todo
