"""Sell a plan at the desk (``views/plan_sales.py``): search, pick a member, pick a plan, tap how
they paid — from a session, used for their visit at once; 422 for a form that is wrong, 409 for
a sale the rules refuse, nothing written either way; undo and resolve of a sale."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from bookings_app import wix
from bookings_app.models import BenefitBalance, Booking, Contact, DeskAction, Member
from bookings_app.services import plans
from tests import factories
from tests.views.desk_helpers import HTMX, key, person, reload, url
from tests.wix_sandbox.builders import make_contact, make_member
from tests.wix_sandbox.plan_builders import make_plan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]

Kind = DeskAction.Kind
Status = DeskAction.Status
SELL = reverse("desk_sell_plan")


@pytest.fixture
def swim_pass(session) -> dict:
    """A 10-visit pass in Wix (the in-memory sandbox) covering the session's service."""
    return make_plan(wix.get_sandbox(), "10-Swim Pass", 10, [session.service.wix_id], "100")


def member_on(session, first: str = "Ada", last: str = "Lovelace", **booking) -> Booking:
    """Someone booked on the session (unpaid, unless ``booking`` says otherwise), who is a site member."""
    visit = person(session, first, last, **{"payment_status": "NOT_PAID", **booking})
    factories.MemberFactory(contact=visit.contact)
    return visit


def sell_form(visit: Booking, sold: dict, **changes) -> dict:
    return {
        "idempotency_key": key(),
        "contact": visit.contact.pk,
        "plan": sold["id"],
        "method": "CASH",
        "use_for_visit": "on",
        **changes,
    }


def nothing_sold() -> None:
    assert not DeskAction.objects.filter(kind__in=(Kind.PLAN_SALE, Kind.PLAN_CHARGE)).exists()
    assert not BenefitBalance.objects.exists()


def test_the_session_header_links_to_selling_a_plan(desk_client, session):
    content = desk_client.get(url("roster", session)).content.decode()

    assert f'href="{url("desk_sell_plan_session", session)}"' in content


def test_the_page_has_an_as_you_type_customer_search(desk_client, session):
    response = desk_client.get(url("desk_sell_plan_session", session))

    content = response.content.decode()
    assert response.status_code == 200
    assert "<h2>Sell a plan</h2>" in content and session.title in content
    assert 'hx-trigger="input changed delay:150ms, search"' in content and 'hx-target="#sell-results"' in content


def test_search_offers_members_a_plan_and_tells_a_contact_plainly_why_not(desk_client, session):
    member_on(session, "Ada", "Swimmer")
    person(session, "Adam", "Swimmer")  # a contact, not a member

    response = desk_client.get(
        url("desk_sell_plan_session", session), {"q": "swimmer"}, headers={**HTMX, "HX-Target": "sell-results"}
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="sell-results"') and "<html" not in content
    assert "Sell a plan · use it today" in content
    assert content.count("Not a member of the website: Wix sells plans to members only") == 1


def test_picking_a_member_shows_the_plans_with_credits_and_their_visit(desk_client, session, swim_pass):
    visit = member_on(session)

    response = desk_client.get(
        url("desk_sell_plan_session", session),
        {"contact": visit.contact.pk},
        headers={**HTMX, "HX-Target": "sell-results"},
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert "10-Swim Pass</strong> · £100.00" in content
    assert "credits set by Wix when it starts" in content  # no pass of it mirrored yet
    assert 'name="use_for_visit" value="on" checked' in content and "(£12.00 due)" in content
    assert "Sell · Cash" in content


def test_selling_with_the_visit_answers_at_once_and_lists_the_sale_with_undo(desk_client, session, swim_pass):
    visit = member_on(session)

    response = desk_client.post(url("desk_sell_plan_session", session), sell_form(visit, swim_pass), headers=HTMX)

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="sell-body"')
    assert "Sold 10-Swim Pass to Ada Lovelace — took £100.00 cash." in content
    assert "paid with it" in content and "waiting for Wix" in content and "Undo sale" in content
    sale = DeskAction.objects.get(kind=Kind.PLAN_SALE)
    charge = DeskAction.objects.get(kind=Kind.PLAN_CHARGE)
    assert charge.depends_on_id == sale.pk and charge.booking_id == visit.pk
    assert reload(visit).payment_status == Booking.PaymentStatus.PAID


def test_selling_without_javascript_redirects_back_with_a_message(desk_client, swim_pass, session):
    visit = member_on(session)

    response = desk_client.post(SELL, sell_form(visit, swim_pass, use_for_visit=""), follow=True)

    assert response.redirect_chain[-1][0] == SELL
    assert "Sold 10-Swim Pass to Ada Lovelace" in response.content.decode()
    assert not DeskAction.objects.filter(kind=Kind.PLAN_CHARGE).exists()


def test_the_same_form_sent_twice_sells_once(desk_client, session, swim_pass):
    visit = member_on(session)
    form = sell_form(visit, swim_pass)

    desk_client.post(url("desk_sell_plan_session", session), form, headers=HTMX)
    again = desk_client.post(url("desk_sell_plan_session", session), form, headers=HTMX)

    assert again.status_code == 200
    assert DeskAction.objects.filter(kind=Kind.PLAN_SALE).count() == 1


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"plan": ""}, "Choose a plan."),
        ({"plan": "6a0e3b56-0000-4000-8000-000000000000"}, "That plan isn&#x27;t on sale any more"),
        ({"method": ""}, "Choose cash, card or cheque."),
        ({"method": "IOU"}, "Select a valid choice"),
        ({"contact": "999999"}, "That customer no longer exists."),
        ({"idempotency_key": ""}, "This form is out of date"),
    ],
)
def test_a_wrong_form_is_422_and_sells_nothing(desk_client, session, swim_pass, changes, error):
    visit = member_on(session)

    response = desk_client.post(
        url("desk_sell_plan_session", session), sell_form(visit, swim_pass, **changes), headers=HTMX
    )

    assert response.status_code == 422
    assert response["HX-Retarget"] == ("#sell-results" if "contact" in changes else "#sell-panel")
    assert error in response.content.decode()
    nothing_sold()


def test_using_the_plan_for_a_visit_they_do_not_have_is_422(desk_client, session, swim_pass):
    visit = member_on(session)
    other = factories.SessionFactory(service=session.service)

    response = desk_client.post(url("desk_sell_plan_session", other), sell_form(visit, swim_pass), headers=HTMX)

    assert response.status_code == 422
    assert "has no place on this session" in response.content.decode()
    nothing_sold()


def test_a_contact_who_is_not_a_member_is_refused_409_and_told_why(desk_client, session, swim_pass):
    visit = person(session, "Jo", "Contact", payment_status="NOT_PAID")

    response = desk_client.post(url("desk_sell_plan_session", session), sell_form(visit, swim_pass), headers=HTMX)

    assert response.status_code == 409
    assert "not a member of the website, and Wix sells plans to members only" in response.content.decode()
    nothing_sold()


def test_a_visit_already_paid_is_refused_409(desk_client, session, swim_pass):
    visit = member_on(session, payment_status="PAID")

    response = desk_client.post(url("desk_sell_plan_session", session), sell_form(visit, swim_pass), headers=HTMX)

    assert response.status_code == 409
    assert "nothing left to pay" in response.content.decode()
    nothing_sold()


def test_undo_within_the_window_drops_the_sale_and_the_visit(desk_client, session, swim_pass):
    visit = member_on(session)
    desk_client.post(url("desk_sell_plan_session", session), sell_form(visit, swim_pass), headers=HTMX)
    sale = DeskAction.objects.get(kind=Kind.PLAN_SALE)

    response = desk_client.post(reverse("desk_plan_sale_undo", args=[sale.pk]), headers=HTMX)

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="plan-sales"')
    assert "Undone: the sale of 10-Swim Pass to Ada Lovelace." in response.content.decode()
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.UNDONE}
    assert reload(visit).payment_status == Booking.PaymentStatus.NOT_PAID


def test_undo_once_wix_has_it_is_refused_409(desk_client, session, swim_pass):
    visit = member_on(session)
    desk_client.post(url("desk_sell_plan_session", session), sell_form(visit, swim_pass), headers=HTMX)
    sale = DeskAction.objects.get(kind=Kind.PLAN_SALE)
    DeskAction.objects.filter(pk=sale.pk).update(status=Status.SYNCED)

    response = desk_client.post(reverse("desk_plan_sale_undo", args=[sale.pk]), headers=HTMX)

    assert response.status_code == 409
    assert "Too late to undo" in response.content.decode()


def test_a_refused_sale_shows_its_message_and_can_be_removed(desk_client, session, swim_pass):
    visit = member_on(session)
    desk_client.post(url("desk_sell_plan_session", session), sell_form(visit, swim_pass), headers=HTMX)
    sale = DeskAction.objects.get(kind=Kind.PLAN_SALE)
    sale.mark_needs_attention(code="PLAN_ARCHIVED", message="10-Swim Pass is archived in Wix and can't be sold.")

    page = desk_client.get(SELL).content.decode()
    bad = desk_client.post(reverse("desk_plan_sale_resolve", args=[sale.pk]), {"choice": "cash_instead"}, headers=HTMX)
    removed = desk_client.post(
        reverse("desk_plan_sale_resolve", args=[sale.pk]),
        {"choice": "remove", "idempotency_key": key()},
        headers=HTMX,
    )

    assert "10-Swim Pass is archived in Wix" in page and ">Retry<" in page
    assert bad.status_code == 422
    assert removed.status_code == 200
    assert set(DeskAction.objects.values_list("status", flat=True)) == {Status.REMOVED}
    assert reload(visit).payment_status == Booking.PaymentStatus.NOT_PAID


def test_undo_and_resolve_of_something_that_is_not_a_sale_are_404(desk_client, session):
    other = factories.DeskActionFactory(kind=Kind.PAYMENT)

    assert desk_client.post(reverse("desk_plan_sale_undo", args=[other.pk])).status_code == 404
    assert desk_client.post(reverse("desk_plan_sale_resolve", args=[other.pk]), {"choice": "retry"}).status_code == 404
    assert desk_client.get(SELL, {"contact": "999999"}).status_code == 404


def test_without_wix_the_plans_already_sold_on_the_desk_are_offered(desk_client, session, monkeypatch):
    visit = member_on(session)
    sold = factories.PlanOrderFactory(plan_id="plan-x", plan_name="Summer Pass", raw={"planPrice": "45"})
    factories.BenefitBalanceFactory(
        member=sold.member,
        plan_order=sold,
        total_credits=Decimal("5"),
        raw={"pool": {"programDefinition": {"externalId": "plan-x"}}},
    )

    def down(*args, **kwargs):
        raise wix.WixUnavailable("Wix is down")

    monkeypatch.setattr(plans.wix_plans, "query_plans", down)

    response = desk_client.get(SELL, {"contact": visit.contact.pk}, headers={**HTMX, "HX-Target": "sell-results"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "Summer Pass</strong> · 45.00" in content and "5 credits" in content
    assert "Wix did not answer: these are the plans already sold on this desk." in content


def test_login_and_the_front_desk_role_are_required(client, no_role_user, session):
    assert client.get(SELL).status_code == 302
    client.force_login(no_role_user)
    assert client.get(SELL).status_code == 403
    assert client.get(url("desk_sell_plan_session", session)).status_code == 403


def test_a_member_the_mirror_does_not_know_yet_is_asked_of_wix(desk_client, session, swim_pass):
    """The contact is mirrored but their membership is not (they joined since): Wix is asked once."""
    sb = wix.get_sandbox()
    contact = make_contact(sb, "Nia", "Newmember", email="nia@example.com")
    member = make_member(sb, contact)
    visit = person(session, "Nia", "Newmember", payment_status="NOT_PAID")
    Contact.objects.filter(pk=visit.contact.pk).update(wix_id=contact["id"])

    response = desk_client.get(
        url("desk_sell_plan_session", session),
        {"contact": visit.contact.pk},
        headers={**HTMX, "HX-Target": "sell-results"},
    )

    content = response.content.decode()
    assert "10-Swim Pass</strong>" in content and "not a member" not in content
    assert Member.objects.get(contact=visit.contact).wix_id == member["id"]


def test_a_contact_wix_has_no_member_for_is_told_plainly(desk_client, session, swim_pass):
    visit = person(session, "Jo", "Contact", payment_status="NOT_PAID")

    response = desk_client.get(
        url("desk_sell_plan_session", session),
        {"contact": visit.contact.pk},
        headers={**HTMX, "HX-Target": "sell-results"},
    )

    content = response.content.decode()
    assert "is not a member of the website, and Wix sells plans to members only" in content
    assert "Sell · Cash" not in content
