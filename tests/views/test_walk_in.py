"""Walk-ins on a roster: the customer search as you type, booking a known customer or a new one
with the payment chosen in the same tap, a full class, a course — htmx fragments, 422, 409."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest

from bookings_app.models import (
    AuditEntry,
    Booking,
    Contact,
    DeskAction,
    Service,
)
from tests import factories
from tests.views.desk_helpers import (
    HTMX,
    NOW,
    key,
    person,
    plan_for,
    reload,
    roster,
    row_of,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]


def test_the_roster_has_the_walk_in_panel_with_as_you_type_search(desk_client, session):
    content = roster(desk_client, session)

    assert '<details id="walk-in-panel"' in content and "+ Add walk-in" in content
    assert f'hx-get="{url("desk_walk_in", session)}" hx-trigger="input changed delay:150ms, search"' in content
    assert 'hx-target="#walk-in-results"' in content
    assert f'action="{url("desk_walk_in_new", session)}"' in content


def test_customer_search_shows_member_plans_credits_and_what_they_owe(desk_client, session):
    old = factories.SessionFactory(start=NOW - timedelta(days=3), service=session.service)
    owing = person(old, "Ann", "Archer", payment_status="NOT_PAID")
    plan_for(owing, credits="4", name="10-swim pass")
    person(old, "Annie", "Other", payment_status="PAID")

    response = desk_client.get(url("desk_walk_in", session), {"q": "ann"}, headers=HTMX)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="walk-in-results"') and "<html" not in content
    assert "Ann Archer" in content and "Annie Other" in content
    assert ">Member<" in content and "10-swim pass · 4 left" in content and "Owes £12.00" in content
    assert 'Add · Cash&nbsp;<span data-unit-price="12.00" data-currency="GBP">£12.00</span>' in content
    assert 'value="PLAN:' in content


def test_customer_search_works_without_javascript(desk_client, session):
    person(factories.SessionFactory(), "Ann", "Archer")

    response = desk_client.get(url("desk_walk_in", session), {"q": "archer"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" in content and "Ann Archer" in content and 'method="post"' in content


def lookup_url(content: str) -> str:
    """The search's second half, as its first answer starts it (``hx-trigger="load"``)."""
    found = re.search(r'<div class="wix-lookup" hx-get="([^"]+)" hx-trigger="load"', content)
    assert found, content
    return found.group(1).replace("&amp;", "&")


def test_nobody_found_points_to_the_new_customer_form(desk_client, session):
    content = desk_client.get(url("desk_walk_in", session), {"q": "zzz"}, headers=HTMX).content.decode()

    assert "Nobody on this desk for “zzz” yet." in content and "Looking in Wix too…" in content
    looked = desk_client.get(lookup_url(content), headers=HTMX).content.decode()
    assert "Nobody found for “zzz”. Add them as a new customer below." in looked


def test_the_search_answers_from_the_mirror_at_once_and_asks_wix_in_a_second_request(desk_client, session):
    """As you type, nobody waits on Wix to see who is already on the desk: the first answer
    sends no Wix call; the second request it starts finds who only Wix knows (signed up online
    since the last sync), bookable from there."""
    from bookings_app import wix
    from tests.wix_sandbox.builders import make_contact

    person(factories.SessionFactory(), "Ann", "Archer")
    sb = wix.get_sandbox()
    make_contact(sb, "Annabel", "Webb", email="annabel.webb@example.com")
    sb.call_log.clear()

    first = desk_client.get(url("desk_walk_in", session), {"q": "anna"}, headers=HTMX)

    content = first.content.decode()
    assert first.status_code == 200 and "Annabel" not in content
    assert sb.call_log == []  # nothing asked of Wix yet
    assert lookup_url(content) == f"{url('desk_walk_in', session)}?q=anna&wix=1"

    second = desk_client.get(lookup_url(content), headers=HTMX)

    looked = second.content.decode()
    assert second.status_code == 200 and "Also in Wix (new to this desk):" in looked
    assert "Annabel Webb" in looked and "Ann Archer" not in looked  # only who the first answer lacked
    contact = Contact.objects.get(first_name="Annabel", last_name="Webb")  # now in the mirror
    assert f'name="contact" value="{contact.pk}"' in looked and 'class="hit-book"' in looked

    booked = desk_client.post(
        url("desk_walk_in", session), {"contact": contact.pk, "pay": "CASH", "idempotency_key": key()}, headers=HTMX
    )
    assert booked.status_code == 200
    assert Booking.objects.filter(session=session, contact=contact).count() == 1


@pytest.mark.parametrize("q", ["an", "archer"])
def test_no_wix_lookup_for_a_short_query_or_a_full_page_of_hits(desk_client, session, q):
    old = factories.SessionFactory()
    for n in range(20):
        person(old, f"Ann{n:02d}", "Archer")

    content = desk_client.get(url("desk_walk_in", session), {"q": q}, headers=HTMX).content.decode()

    assert "wix-lookup" not in content and "Looking in Wix" not in content


def test_when_wix_does_not_answer_the_lookup_says_so_and_the_first_answer_stands(desk_client, session, settings):
    import dataclasses

    from bookings_app import wix

    person(factories.SessionFactory(), "Ann", "Archer")
    content = desk_client.get(url("desk_walk_in", session), {"q": "ann"}, headers=HTMX).content.decode()
    assert "Ann Archer" in content
    settings.WIX = dataclasses.replace(settings.WIX, sandbox_faults="error_5xx_rate=1")
    wix.clear_cached_state()

    looked = desk_client.get(lookup_url(content), headers=HTMX)

    assert looked.status_code == 200
    assert "Wix did not answer: these are the customers already on this desk." in looked.content.decode()


def test_walk_in_paid_cash_appears_paid_on_roster(desk_client, session):
    contact = factories.ContactFactory(first_name="Wanda", last_name="Walker")

    response = desk_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": "CASH", "q": "wanda", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#roster-rows" and response.headers["HX-Reswap"] == "outerHTML"
    assert "rosterChanged" in response.headers["HX-Trigger"]
    assert "walkInAdded" in response.headers["HX-Trigger-After-Swap"]
    booking = Booking.objects.get(contact=contact)
    content = response.content.decode()
    assert "Added Wanda Walker — paid cash." in content
    row = row_of(content, booking)
    assert "is-new" in row and ">Paid<" in row and ">Cash<" in row and "waiting for Wix" in row
    assert booking.session == session and booking.payment_status == "PAID"
    payment = DeskAction.objects.get(kind="PAYMENT")
    assert payment.depends_on.kind == "WALK_IN" and payment.params["amount"] == "12.00"


def test_a_walk_in_onto_a_busy_roster_answers_with_just_its_row_at_the_top(desk_client, session):
    for n in ("Ann", "Bo", "Cy"):
        person(session, n, "Test")
    contact = factories.ContactFactory(first_name="Wanda", last_name="Walker")

    response = desk_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": "CASH", "q": "wanda", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#roster-rows table.roster > thead"
    assert response.headers["HX-Reswap"] == "afterend"
    assert "rosterChanged" in response.headers["HX-Trigger"]
    content = response.content.decode()
    booking = Booking.objects.get(contact=contact)
    assert content.lstrip().startswith(f'<tbody id="roster-row-{booking.pk}"')
    assert content.count("<tbody") == 1  # the others are not sent again
    assert 'id="roster-count" hx-swap-oob="true"' in content and "4 booked" in content
    assert "Added Wanda Walker — paid cash." in content


@pytest.mark.parametrize(
    ("pay", "status", "kinds"),
    [
        ("", "UNDEFINED", ["WALK_IN"]),
        ("LATER", "NOT_PAID", ["WALK_IN", "PAY_LATER"]),
        ("CARD", "PAID", ["WALK_IN", "PAYMENT"]),
    ],
)
def test_walk_in_with_each_pay_choice(desk_client, session, pay, status, kinds):
    contact = factories.ContactFactory()

    desk_client.post(url("desk_walk_in", session), {"contact": contact.pk, "pay": pay, "idempotency_key": key()})

    assert Booking.objects.get(contact=contact).payment_status == status
    assert sorted(DeskAction.objects.exclude(kind="CONTACT_CREATE").values_list("kind", flat=True)) == sorted(kinds)


def test_walk_in_charged_to_their_plan(desk_client, session):
    contact = factories.ContactFactory()
    balance = factories.BenefitBalanceFactory(
        member=factories.MemberFactory(contact=contact), covered_service_ids=[session.service.wix_id]
    )

    desk_client.post(
        url("desk_walk_in", session), {"contact": contact.pk, "pay": f"PLAN:{balance.pk}", "idempotency_key": key()}
    )

    assert Booking.objects.get(contact=contact).selected_payment_option == "MEMBERSHIP"
    assert reload(balance).remaining_credits == Decimal("6")


def test_walk_in_without_javascript_redirects_to_the_new_row(desk_client, session):
    contact = factories.ContactFactory(first_name="Wanda", last_name="Walker")

    response = desk_client.post(
        url("desk_walk_in", session), {"contact": contact.pk, "pay": "CASH", "idempotency_key": key()}
    )

    booking = Booking.objects.get(contact=contact)
    assert response.status_code == 302 and response.url == f"{url('roster', session)}#booking-{booking.pk}"


def test_a_walk_in_sent_twice_books_once(desk_client, session):
    contact = factories.ContactFactory()
    data = {"contact": contact.pk, "pay": "CASH", "idempotency_key": key()}

    desk_client.post(url("desk_walk_in", session), data, headers=HTMX)
    desk_client.post(url("desk_walk_in", session), data, headers=HTMX)

    assert Booking.objects.filter(contact=contact).count() == 1
    assert DeskAction.objects.filter(kind="PAYMENT").count() == 1


def test_walk_in_into_a_full_class_is_409_with_the_message_on_that_customer(desk_client, session):
    session.capacity = 1
    session.save()
    person(session, "Ann", "Archer")
    contact = factories.ContactFactory(first_name="Wanda", last_name="Walker")

    response = desk_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": "CASH", "q": "walker", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 409
    content = response.content.decode()
    assert content.lstrip().startswith('<div id="walk-in-results"')
    assert "This class is full: 1 of 1 places are taken, 0 left." in content
    assert "over capacity" not in content  # a desk user cannot override
    assert not Booking.objects.filter(contact=contact).exists() and not DeskAction.objects.exists()


def test_a_manager_may_book_into_a_full_class(manager_client, session):
    session.capacity = 1
    session.save()
    person(session, "Ann", "Archer")
    contact = factories.ContactFactory(first_name="Wanda", last_name="Walker")

    refused = manager_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": "CASH", "q": "walker", "idempotency_key": key()},
        headers=HTMX,
    )
    assert refused.status_code == 409
    assert "Book anyway, over capacity (manager)" in refused.content.decode()

    booked = manager_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": "CASH", "override_capacity": "on", "idempotency_key": key()},
        headers=HTMX,
    )
    assert booked.status_code == 200
    assert Booking.objects.filter(contact=contact).exists()
    assert AuditEntry.objects.filter(action="booking.override_capacity").exists()


def test_a_desk_user_asking_to_override_capacity_is_refused(desk_client, session):
    contact = factories.ContactFactory()

    response = desk_client.post(
        url("desk_walk_in", session), {"contact": contact.pk, "override_capacity": "on", "idempotency_key": key()}
    )

    assert response.status_code == 403 and not Booking.objects.exists()


def test_walk_in_without_a_customer_is_422(desk_client, session):
    response = desk_client.post(url("desk_walk_in", session), {"pay": "CASH", "idempotency_key": key()}, headers=HTMX)

    assert response.status_code == 422 and "Choose a customer." in response.content.decode()


def test_new_customer_is_created_and_booked_in_one_go(desk_client, session):
    response = desk_client.post(
        url("desk_walk_in_new", session),
        {"first_name": "Nia", "last_name": "New", "phone": "+44 7700 900555", "pay": "CASH", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 200 and response.headers["HX-Retarget"] == "#roster-rows"
    contact = Contact.objects.get(first_name="Nia")
    assert contact.wix_id is None and Booking.objects.get(contact=contact).payment_status == "PAID"
    assert set(DeskAction.objects.values_list("kind", flat=True)) == {"CONTACT_CREATE", "WALK_IN", "PAYMENT"}
    assert "Nia New" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"first_name": "Nia"}, "email", "Give an email or a phone number (or both)."),
        ({"email": "nia@example.com"}, "first_name", "Enter a first name."),
        ({"first_name": "Nia", "email": "not-an-email"}, "email", "Enter an email like name@example.com."),
        ({"first_name": "Nia", "phone": "12"}, "phone", "Enter a phone number with 6 to 15 digits."),
    ],
)
def test_new_customer_form_errors_are_422_next_to_the_field(desk_client, session, data, field, message):
    response = desk_client.post(url("desk_walk_in_new", session), {**data, "idempotency_key": key()}, headers=HTMX)

    assert response.status_code == 422
    content = response.content.decode()
    assert content.lstrip().startswith('<form id="walk-in-new"')
    field_html = content[content.index(f'name="{field}"') :]
    assert field_html.index(message) < field_html.index("</p>")  # in the same field block
    assert not Contact.objects.exists() and not DeskAction.objects.exists()


def test_new_customer_with_a_known_email_is_409_next_to_the_email(desk_client, session):
    factories.ContactFactory(first_name="Ann", last_name="Archer", email="ann@example.com")

    response = desk_client.post(
        url("desk_walk_in_new", session),
        {"first_name": "Annie", "email": "ann@example.com", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 409
    content = response.content.decode()
    assert "already has the email ann@example.com" in content and 'value="Annie"' in content
    assert Contact.objects.count() == 1


def test_new_customer_into_a_full_class_leaves_no_half_made_customer(desk_client, session):
    session.capacity = 0
    session.save()

    response = desk_client.post(
        url("desk_walk_in_new", session),
        {"first_name": "Nia", "phone": "+44 7700 900555", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 409 and "is full" in response.content.decode()
    assert not Contact.objects.exists() and not DeskAction.objects.exists()


def test_enrol_on_a_course_session_books_the_course_schedule(desk_client):
    course = factories.ServiceFactory(type=Service.Type.COURSE, name="Learn to swim", default_capacity=8)
    week1 = factories.SessionFactory(service=course, start=NOW)
    contact = factories.ContactFactory()
    assert "+ Enrol in the course" in roster(desk_client, week1)

    desk_client.post(url("desk_walk_in", week1), {"contact": contact.pk, "pay": "LATER", "idempotency_key": key()})

    booking = Booking.objects.get(contact=contact)
    assert booking.session is None and booking.service == course


# --- every answer carries fresh keys; a key used again for someone else is refused ------------------


def _form_key(content: str, form_id: str) -> str:
    start = content.index(f'<form id="{form_id}"')
    form = content[start : content.index("</form>", start)]
    return re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)


def _new_customer(client, session, first: str, last: str, idempotency_key: str, **extra):
    data = {"first_name": first, "last_name": last, "email": f"{first}@example.com".lower(), "pay": "LATER"}
    return client.post(
        url("desk_walk_in_new", session), {**data, **extra, "idempotency_key": idempotency_key}, headers=HTMX
    )


def test_a_second_new_customer_from_the_same_panel_is_added_not_dropped(desk_client, session):
    """Issue 10: "Beta Two" came with the key the page rendered for "Alpha One" and was answered as
    a repeat of Alpha — no row, no message, no audit entry. The answer to Alpha now carries the
    panel's new-customer form again (out of band) with a fresh key."""
    first_key = _form_key(roster(desk_client, session), "walk-in-new")

    alpha = _new_customer(desk_client, session, "Alpha", "One", first_key)

    assert alpha.status_code == 200
    content = alpha.content.decode()
    fresh = content[content.index('<form id="walk-in-new"') :]
    assert fresh[: fresh.index(">")].count('hx-swap-oob="true"') == 1
    assert 'id="walk-in-results" hx-swap-oob="true"' in content  # the used search hits go too
    next_key = _form_key(content, "walk-in-new")
    assert next_key != first_key

    beta = _new_customer(desk_client, session, "Beta", "Two", next_key)

    assert beta.status_code == 200 and "Added Beta Two" in beta.content.decode()
    assert _form_key(beta.content.decode(), "walk-in-new") not in (first_key, next_key)
    assert set(Booking.objects.filter(session=session).values_list("contact__first_name", flat=True)) == {
        "Alpha",
        "Beta",
    }
    assert AuditEntry.objects.filter(action="booking.walk_in").count() == 2


def test_a_new_customer_sent_with_a_used_key_is_refused_with_a_message_and_changes_nothing(desk_client, session):
    k = key()
    _new_customer(desk_client, session, "Alpha", "One", k)
    before = (Contact.objects.count(), Booking.objects.count(), DeskAction.objects.count(), AuditEntry.objects.count())

    response = _new_customer(desk_client, session, "Beta", "Two", k)

    assert response.status_code == 409
    content = response.content.decode()
    assert content.lstrip().startswith('<form id="walk-in-new"') and 'role="alert"' in content
    assert "This form was already used for adding the customer Alpha One" in content
    assert "reload the page" in content and 'value="Beta"' in content  # what was typed stays
    assert _form_key(content, "walk-in-new") != k
    assert (Contact.objects.count(), Booking.objects.count(), DeskAction.objects.count()) == before[:3]
    assert AuditEntry.objects.count() == before[3]
    assert not Contact.objects.filter(first_name="Beta").exists()


def test_the_same_new_customer_sent_twice_is_booked_once_and_answered_with_the_roster(desk_client, session):
    k = key()
    _new_customer(desk_client, session, "Alpha", "One", k)

    again = _new_customer(desk_client, session, "Alpha", "One", k)

    assert again.status_code == 200 and again.headers["HX-Retarget"] == "#roster-rows"
    assert Contact.objects.filter(first_name="Alpha").count() == 1
    assert Booking.objects.count() == 1 and DeskAction.objects.count() == 3


def test_a_found_customer_sent_with_another_customers_key_is_409_on_that_customer(desk_client, session):
    ann = person(factories.SessionFactory(), "Ann", "Archer").contact
    annie = person(factories.SessionFactory(), "Annie", "Archer").contact
    k = key()
    desk_client.post(
        url("desk_walk_in", session), {"contact": ann.pk, "pay": "CASH", "idempotency_key": k}, headers=HTMX
    )

    response = desk_client.post(
        url("desk_walk_in", session),
        {"contact": annie.pk, "pay": "CASH", "q": "archer", "idempotency_key": k},
        headers=HTMX,
    )

    assert response.status_code == 409
    content = response.content.decode()
    assert "This form was already used for booking Ann Archer in" in content
    assert not Booking.objects.filter(session=session, contact=annie).exists()
    assert DeskAction.objects.count() == 2  # Ann's walk-in and payment


def test_after_a_found_customer_walk_in_the_results_go_and_the_new_customer_form_is_fresh(desk_client, session):
    for n in ("Ann", "Bo"):
        person(session, n, "Test")
    contact = factories.ContactFactory(first_name="Wanda", last_name="Walker")

    response = desk_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": "CASH", "q": "wanda", "idempotency_key": key()},
        headers=HTMX,
    )

    content = response.content.decode()
    assert response.headers["HX-Reswap"] == "afterend"  # just the new row, and out of band:
    assert 'id="walk-in-results" hx-swap-oob="true"' in content and "Wanda Walker" in content
    results = content[content.index('id="walk-in-results"') :]
    assert 'class="hit"' not in results
    assert _form_key(content, "walk-in-new")


# --- a group: ×N participants on one booking ------------------------------------------------------


def test_the_class_walk_in_forms_ask_how_many_people_one_by_default(desk_client, session):
    person(factories.SessionFactory(), "Ann", "Archer")

    panel = roster(desk_client, session)
    hits = desk_client.get(url("desk_walk_in", session), {"q": "archer"}, headers=HTMX).content.decode()

    new_form = panel[panel.index('<form id="walk-in-new"') :]
    new_form = new_form[: new_form.index("</form>")]
    assert re.search(r'<input type="number"[^>]* name="participants" value="1" min="1" max="50"', new_form)
    assert 'inputmode="numeric"' in new_form and ">People<" in new_form
    assert re.search(r'<input type="number"[^>]* name="participants" value="1"', hits)


def test_a_course_enrolment_does_not_ask_for_a_group(desk_client):
    course = factories.ServiceFactory(type=Service.Type.COURSE, name="Learn to swim", default_capacity=8)
    week1 = factories.SessionFactory(service=course, start=NOW)

    assert 'name="participants"' not in roster(desk_client, week1)


def test_a_group_walk_in_books_every_participant_and_takes_the_price_of_each(desk_client, session):
    contact = factories.ContactFactory(first_name="Wanda", last_name="Walker")

    response = desk_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": "CASH", "participants": "3", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Added Wanda Walker (3 people) — paid cash." in response.content.decode()
    booking = Booking.objects.get(contact=contact)
    assert booking.total_participants == 3 and booking.payment_status == "PAID"
    assert DeskAction.objects.get(kind="WALK_IN").params["participants"] == 3
    assert DeskAction.objects.get(kind="PAYMENT").params["amount"] == "36.00"
    assert AuditEntry.objects.get(action="booking.walk_in").summary.endswith("(3 people)")


def test_a_new_customer_group_paying_later_owes_the_price_of_each(desk_client, session):
    response = _new_customer(desk_client, session, "Nia", "New", key(), participants="2")

    assert response.status_code == 200
    booking = Booking.objects.get(contact__first_name="Nia")
    assert booking.total_participants == 2 and booking.payment_status == "NOT_PAID"
    row = row_of(roster(desk_client, session), booking)
    assert "£24.00" in row


def test_a_group_charged_to_a_plan_takes_a_credit_each(desk_client, session):
    contact = factories.ContactFactory()
    balance = factories.BenefitBalanceFactory(
        member=factories.MemberFactory(contact=contact), covered_service_ids=[session.service.wix_id]
    )

    desk_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": f"PLAN:{balance.pk}", "participants": "2", "idempotency_key": key()},
    )

    assert Booking.objects.get(contact=contact).total_participants == 2
    assert reload(balance).remaining_credits == Decimal("5")


@pytest.mark.parametrize(
    ("participants", "message"),
    [("0", "At least one person."), ("999", "At most 50 people at once."), ("abc", "Enter how many people, like 2.")],
)
def test_a_bad_group_size_is_422_with_a_message_and_changes_nothing(desk_client, session, participants, message):
    ann = person(factories.SessionFactory(), "Ann", "Archer").contact
    before = (Booking.objects.count(), Contact.objects.count())

    found = desk_client.post(
        url("desk_walk_in", session),
        {"contact": ann.pk, "pay": "CASH", "q": "archer", "participants": participants, "idempotency_key": key()},
        headers=HTMX,
    )
    new = _new_customer(desk_client, session, "Nia", "New", key(), participants=participants)

    assert found.status_code == new.status_code == 422
    found_hit = found.content.decode()
    assert message in found_hit and f'value="{participants}"' in found_hit  # on Ann, as typed
    content = new.content.decode()
    field = content[content.index('name="participants"') :]
    assert field.index(message) < field.index("</p>") and 'aria-invalid="true"' in content
    assert (Booking.objects.count(), Contact.objects.count()) == before
    assert not DeskAction.objects.exists() and not AuditEntry.objects.exists()


def test_a_group_bigger_than_the_places_left_is_409_and_changes_nothing(desk_client, session):
    session.capacity = 3
    session.save()
    person(session, "Ann", "Archer")
    person(session, "Bo", "Baker")
    contact = factories.ContactFactory(first_name="Wanda", last_name="Walker")

    response = desk_client.post(
        url("desk_walk_in", session),
        {"contact": contact.pk, "pay": "CASH", "q": "walker", "participants": "2", "idempotency_key": key()},
        headers=HTMX,
    )

    assert response.status_code == 409
    assert "No room for 2 people: 2 of 3 places are taken, 1 left." in response.content.decode()
    assert not Booking.objects.filter(contact=contact).exists() and not DeskAction.objects.exists()


def test_with_the_wix_budget_used_up_the_search_answers_from_the_mirror_at_once_and_says_so(
    desk_client, session, settings, tmp_path
):
    """The minute's 200 Wix calls are spent (by the worker, other desks): the as-you-type search
    does not wait a minute for a slot — it answers from the mirror with a note, sending nothing."""
    import dataclasses
    import time

    from bookings_app import wix

    settings.BASE_DIR = tmp_path
    settings.WIX = dataclasses.replace(settings.WIX, sandbox_faults="latency_ms=0", rate_limit_per_minute=20)
    wix.clear_cached_state()
    window = tmp_path / "var" / wix.RATE_LIMIT_FILE
    window.parent.mkdir(parents=True, exist_ok=True)
    now = time.time()
    window.write_text("".join(f"{now - 0.5 + i / 1000!r}\n" for i in range(20)))
    person(session, "Ann", "Archer")

    first = desk_client.get(url("desk_walk_in", session), {"q": "ann"}, headers=HTMX).content.decode()
    assert "Ann Archer" in first
    response = desk_client.get(lookup_url(first), headers=HTMX)  # the search's Wix half

    assert response.status_code == 200
    content = response.content.decode()
    assert "Wix is busy right now (this minute&#x27;s calls are used up)" in content
    assert wix.get_sandbox().call_log == []  # nothing was sent
    assert len(window.read_text().splitlines()) == 20
