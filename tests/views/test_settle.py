"""Settle roster: suggestions preselected, totals, tap to change, one commit (all or nothing)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings_app.models import Attendance, BenefitBalance, Booking, DeskAction, Session
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from tests import factories

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def session() -> Session:
    return factories.SessionFactory(
        start=NOW, title="Dawn swim", capacity=20, service__price=Decimal("12.00"), service__currency="GBP"
    )


def person(session: Session, first: str, **booking) -> Booking:
    contact = factories.ContactFactory(first_name=first, last_name="Test")
    return factories.BookingFactory(session=session, contact=contact, **booking)


def with_plan(booking: Booking, credits: str = "7"):
    return factories.BenefitBalanceFactory(
        member=factories.MemberFactory(contact=booking.contact),
        remaining_credits=Decimal(credits),
        covered_service_ids=[booking.service.wix_id],
        name="10-swim pass",
    )


def key() -> str:
    return str(uuid.uuid4())


def settle_url(session: Session) -> str:
    return reverse("desk_settle", args=[session.ref])


def checked(content: str, booking: Booking) -> str:
    """The value of the row's checked radio button."""
    found = re.search(rf'name="r{booking.pk}-resolution" value="(\w+)"[^>]*checked', content)
    return found.group(1) if found else ""


@pytest.fixture
def mixed(session) -> dict[str, Booking]:
    """Ann has a plan with credit, Bo owes, Cy paid already, Di was a no-show."""
    ann, bo = person(session, "Ann"), person(session, "Bo")
    with_plan(ann)
    cy = person(session, "Cy", payment_status="PAID")
    di = person(session, "Di")
    factories.AttendanceFactory(booking=di, session=session, status=Attendance.Status.NOT_ATTENDED)
    return {"ann": ann, "bo": bo, "cy": cy, "di": di}


def test_settle_preselects_the_suggestions_and_shows_totals(desk_client, session, mixed):
    response = desk_client.get(settle_url(session))

    assert response.status_code == 200
    content = response.content.decode()
    assert checked(content, mixed["ann"]) == "plan" and "Plan · 7 left" in content
    assert checked(content, mixed["bo"]) == "cash" and "Cash £12.00" in content
    assert checked(content, mixed["cy"]) == "paid"
    assert f'name="r{mixed["cy"].pk}-resolution" value="cash"' not in content  # nothing to take from Cy
    assert f'name="r{mixed["bo"].pk}-resolution" value="plan"' not in content  # Bo has no plan
    assert 'data-total="cash">£24.00<' in content  # Bo and Di, at the price
    assert 'data-count="plan">1<' in content and 'data-count="check_in">3<' in content
    assert re.search(rf'name="r{mixed["di"].pk}-check_in"(?! checked)>', content)  # the no-show stays out
    assert 'method="post"' in content and ">Commit all<" in content


def test_the_roster_links_to_settle(desk_client, session):
    content = desk_client.get(reverse("roster", args=[session.ref])).content.decode()

    assert f'href="{settle_url(session)}"' in content


def test_commit_writes_every_row_as_one_batch_and_goes_back_to_the_roster(desk_client, session, mixed):
    token = key()
    data = {
        "idempotency_key": token,
        f"r{mixed['ann'].pk}-resolution": "plan",
        f"r{mixed['ann'].pk}-check_in": "on",
        f"r{mixed['bo'].pk}-resolution": "owes",  # changed from the suggested cash
        f"r{mixed['bo'].pk}-check_in": "on",
        f"r{mixed['cy'].pk}-resolution": "paid",
        f"r{mixed['cy'].pk}-check_in": "on",
        f"r{mixed['di'].pk}-resolution": "card",
        "confirm": "1",
    }

    response = desk_client.post(settle_url(session), data)

    assert response.status_code == 302 and response.url == reverse("roster", args=[session.ref])
    actions = DeskAction.objects.filter(batch_id=token)
    kinds = {(a.booking.contact.first_name, a.kind) for a in actions}
    assert kinds == {
        ("Ann", "PLAN_CHARGE"),
        ("Ann", "ATTENDANCE"),
        ("Bo", "PAY_LATER"),
        ("Bo", "ATTENDANCE"),
        ("Cy", "ATTENDANCE"),
        ("Di", "PAYMENT"),
    }
    assert actions.get(kind="PAYMENT").params["method"] == "CARD"
    roster = desk_client.get(response.url).content.decode()
    assert "Settled 4 participants (6 changes on their way to Wix)." in roster
    assert roster.count("waiting for Wix") >= 4


def test_commit_says_how_much_cash_to_collect_in_the_apps_money_format(desk_client, session, mixed):
    data = {
        "idempotency_key": key(),
        f"r{mixed['ann'].pk}-resolution": "plan",
        f"r{mixed['bo'].pk}-resolution": "cash",
        f"r{mixed['cy'].pk}-resolution": "paid",
        f"r{mixed['di'].pk}-resolution": "cash",
        "confirm": "1",
    }

    response = desk_client.post(settle_url(session), data, follow=True)

    assert "Cash to collect: £24.00." in response.content.decode()


def test_committing_twice_changes_nothing_more(desk_client, session, mixed):
    data = {
        "idempotency_key": key(),
        "confirm": "1",
        **{f"r{b.pk}-resolution": "paid" if n == "cy" else "cash" for n, b in mixed.items()},
    }

    desk_client.post(settle_url(session), data)
    count = DeskAction.objects.count()
    desk_client.post(settle_url(session), data)

    assert DeskAction.objects.count() == count


def test_a_choice_the_row_does_not_offer_is_422_and_writes_nothing(desk_client, session, mixed):
    data = {
        "idempotency_key": key(),
        f"r{mixed['ann'].pk}-resolution": "plan",
        f"r{mixed['bo'].pk}-resolution": "plan",  # Bo has no plan
        f"r{mixed['cy'].pk}-resolution": "paid",
        f"r{mixed['di'].pk}-resolution": "cash",
    }

    response = desk_client.post(settle_url(session), data)

    assert response.status_code == 422
    content = response.content.decode()
    row = content[content.index(f'id="settle-{mixed["bo"].pk}"') :]
    assert row.index("Choose one of the options shown.") < row.index("</tr>")
    assert checked(content, mixed["ann"]) == "plan"  # staff's choices are kept
    assert not DeskAction.objects.exists()


def test_a_missing_row_is_422(desk_client, session, mixed):
    response = desk_client.post(settle_url(session), {"idempotency_key": key()})

    assert response.status_code == 422 and not DeskAction.objects.exists()


def test_a_refusal_from_the_service_is_409_with_its_message(desk_client, session, mixed, monkeypatch):
    def refuse(**kwargs):
        exc = BookingError("Nothing was saved — fix 1 row: No credits left on 10-swim pass.", code="settle_invalid")
        exc.row_errors = {mixed["ann"].pk: "No credits left on 10-swim pass."}
        raise exc

    monkeypatch.setattr(desk, "settle_commit", refuse)
    data = {
        "idempotency_key": key(),
        "confirm": "1",
        **{f"r{b.pk}-resolution": "paid" if n == "cy" else "cash" for n, b in mixed.items()},
    }

    response = desk_client.post(settle_url(session), data)

    assert response.status_code == 409
    content = response.content.decode()
    assert "Nothing was saved — fix 1 row: No credits left on 10-swim pass." in content
    row = content[content.index(f'id="settle-{mixed["ann"].pk}"') :]
    assert row.index('<span class="field-error">No credits left on 10-swim pass.</span>') < row.index("</tr>")


def test_settle_needs_the_front_desk_role(client, no_role_user, session):
    assert client.get(settle_url(session)).status_code == 302
    client.force_login(no_role_user)
    assert client.get(settle_url(session)).status_code == 403
    assert client.post(settle_url(session), {"idempotency_key": key()}).status_code == 403


def test_an_empty_roster_has_nothing_to_settle(desk_client, session):
    content = desk_client.get(settle_url(session)).content.decode()

    assert "Nobody is booked on this session: nothing to settle." in content


def test_settle_queries_do_not_grow_with_rows(client, desk_user):
    def fill(session: Session, n: int) -> None:
        for i in range(n):
            booking = factories.BookingFactory(session=session)
            if i % 2:
                with_plan(booking)

    small, big = factories.SessionFactory(start=NOW), factories.SessionFactory(start=NOW + timedelta(hours=2))
    fill(small, 10)
    fill(big, 100)
    client.force_login(desk_user)
    counts = []
    for s in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(settle_url(s)).status_code == 200
        counts.append(len(ctx.captured_queries))

    assert counts[0] == counts[1]


def test_commit_all_costs_about_the_same_queries_for_10_or_100_rows(client, desk_user):
    client.force_login(desk_user)
    counts = []
    for hours, n in ((1, 10), (3, 100)):
        s = factories.SessionFactory(start=NOW + timedelta(hours=hours), capacity=120)
        data = {"idempotency_key": key(), "confirm": "1"}
        for i in range(n):
            booking = factories.BookingFactory(session=s)
            if i % 3 == 0:
                with_plan(booking)
            data[f"r{booking.pk}-resolution"] = ("plan", "cash", "owes")[i % 3]
            data[f"r{booking.pk}-check_in"] = "on"
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(settle_url(s), data)
        assert response.status_code == 302
        assert DeskAction.objects.filter(batch_id=data["idempotency_key"]).count() == 2 * n
        counts.append(len(ctx.captured_queries))
    # Bulk writes: only SQLite's cap on query variables splits 100 rows' inserts into a few batches.
    assert counts[1] - counts[0] <= (0 if connection.vendor == "postgresql" else 6), counts


# --- confirm, then one undo ----------------------------------------------------------------------


def choices_of(mixed: dict[str, Booking], **changes: str) -> dict[str, str]:
    """The form as suggested (Ann plan, Bo and Di cash, Cy paid; all in but Di), with ``changes``."""
    data = {"idempotency_key": key()}
    for name, booking in mixed.items():
        data[f"r{booking.pk}-resolution"] = changes.get(name, {"ann": "plan", "cy": "paid"}.get(name, "cash"))
        if name != "di":
            data[f"r{booking.pk}-check_in"] = "on"
    return data


def test_commit_all_first_shows_a_summary_to_confirm_and_writes_nothing(desk_client, session, mixed):
    data = choices_of(mixed, bo="owes")

    response = desk_client.post(settle_url(session), data)

    assert response.status_code == 200
    content = response.content.decode()
    assert "Record £12.00 cash from 1 person, charge 1 plan, 1 owes £12.00, check in 3 of 4." in content
    assert content.count('name="confirm"') == 1 and ">Confirm<" in content and ">Back<" in content
    assert f'<input type="hidden" name="idempotency_key" value="{data["idempotency_key"]}">' in content
    assert f'<input type="hidden" name="r{mixed["bo"].pk}-resolution" value="owes">' in content
    assert f'<input type="hidden" name="r{mixed["ann"].pk}-check_in" value="on">' in content
    assert f'name="r{mixed["di"].pk}-check_in"' not in content  # left out: a no-show
    assert not DeskAction.objects.exists()

    confirmed = desk_client.post(settle_url(session), {**data, "confirm": "1"})
    assert confirmed.status_code == 302
    assert DeskAction.objects.filter(batch_id=data["idempotency_key"]).count() == 6


def test_back_from_the_summary_keeps_the_choices(desk_client, session, mixed):
    response = desk_client.post(settle_url(session), {**choices_of(mixed, bo="owes", ann="card"), "back": "1"})

    assert response.status_code == 200
    content = response.content.decode()
    assert (checked(content, mixed["bo"]), checked(content, mixed["ann"])) == ("owes", "card")
    assert ">Commit all<" in content and 'name="confirm"' not in content
    assert not DeskAction.objects.exists()


def test_the_summary_refuses_what_the_commit_would_refuse(desk_client, session, mixed):
    bo_again = factories.BookingFactory(session=session, contact=mixed["ann"].contact)  # Ann's second place
    BenefitBalance.objects.update(remaining_credits=Decimal("1"))
    data = {**choices_of(mixed), f"r{bo_again.pk}-resolution": "plan", f"r{bo_again.pk}-check_in": "on"}

    response = desk_client.post(settle_url(session), data)

    assert response.status_code == 409
    content = response.content.decode()
    assert "Nothing was saved — fix 1 row" in content and 'name="confirm"' not in content
    assert not DeskAction.objects.exists()


def test_rows_show_what_the_desk_chose_before(desk_client, session, mixed):
    desk.pay_later(user=factories.UserFactory(), booking=mixed["ann"], idempotency_key=key())

    content = desk_client.get(settle_url(session)).content.decode()

    assert checked(content, mixed["ann"]) == "owes"  # not the plan it could pay with
    row = content[content.index(f'id="settle-{mixed["ann"].pk}"') :]
    assert row.index("Marked to pay later") < row.index("</tr>")


def test_after_a_settle_the_roster_and_the_settle_page_offer_one_undo(desk_client, session, mixed):
    data = choices_of(mixed)
    desk_client.post(settle_url(session), {**data, "confirm": "1"})
    undo = reverse("desk_batch_undo", args=[session.ref, data["idempotency_key"]])

    roster = desk_client.get(reverse("roster", args=[session.ref])).content.decode()
    settle_page = desk_client.get(settle_url(session)).content.decode()

    assert roster.count(f'action="{undo}"') == 1
    assert "Undo settle" in roster and "£24.00 cash from 2 people" in roster
    assert "Undo payment" not in roster and "Undo charge to plan" not in roster  # no undo per row
    assert settle_page.count(f'action="{undo}"') == 1


def test_a_manager_may_reverse_a_settle_wix_has_the_desk_may_not(client, desk_user, manager_user, session, mixed):
    client.force_login(desk_user)
    data = choices_of(mixed)
    client.post(settle_url(session), {**data, "confirm": "1"})
    DeskAction.objects.update(status=DeskAction.Status.SYNCED)
    reverse_url = reverse("desk_batch_reverse", args=[session.ref, data["idempotency_key"]])

    assert reverse_url not in client.get(settle_url(session)).content.decode()
    client.force_login(manager_user)
    content = client.get(settle_url(session)).content.decode()
    assert f'href="{reverse_url}"' in content and "Reverse this settle" in content
    assert "desk.undo_batch" not in content and "Undo settle" not in content
