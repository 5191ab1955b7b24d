"""Multi-service packages at the desk (``services.desk.packages``): the start times Wix offers,
the checks a package must pass (2–8 services, one location, back to back, free), and booking one
locally first — its bookings on their appointment sessions at once, one PACKAGE action."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bookings_app.models import AuditEntry, Booking, Contact, DeskAction, Package, Service, Session
from bookings_app.services import desk
from bookings_app.services.errors import BookingError
from tests.services.package_world import Spa, at, build_spa, key, shifted
from tests.wix_sandbox.builders import call, make_location, make_service

pytestmark = pytest.mark.django_db

Status = DeskAction.Status


@pytest.fixture
def spa(db: None) -> Spa:
    world = build_spa()
    yield world
    world.wix.close()


def nothing_booked() -> None:
    assert Package.objects.count() == 0
    assert Booking.objects.count() == 0
    assert DeskAction.objects.filter(kind=DeskAction.Kind.PACKAGE).count() == 0


# --- what Wix offers ------------------------------------------------------------------------------


def test_the_first_start_time_lays_the_three_services_back_to_back(spa: Spa) -> None:
    chain = spa.chain()

    assert [(i["start"], i["end"]) for i in chain["items"]] == [
        (at(spa, 9), at(spa, 10)),
        (at(spa, 10), at(spa, 10, 45)),
        (at(spa, 10, 45), at(spa, 11, 15)),
    ]
    assert [i["service"] for i in chain["items"]] == [s.pk for s in spa.services]
    assert chain["location"]["id"] == spa.spa["id"]
    assert {i["staff_name"] for i in chain["items"]} <= {"Maya Thompson", "Ravi Patel"}


def test_start_times_follow_the_order_the_services_were_chosen_in(spa: Spa) -> None:
    massage, facial, manicure = spa.services

    chain = spa.chains([manicure, massage])[0]

    assert [(i["service"], i["start"], i["end"]) for i in chain["items"]] == [
        (manicure.pk, at(spa, 9), at(spa, 9, 30)),
        (massage.pk, at(spa, 9, 30), at(spa, 10, 30)),
    ]


def test_a_start_time_the_desk_booked_meanwhile_is_not_offered_again(spa: Spa, desk_user) -> None:
    first = spa.chain()
    for _ in range(2):  # both therapists booked from 09:00
        spa.book(desk_user, spa.customer(), chain=spa.chain())

    starts = [c["items"][0]["start"] for c in spa.chains()]

    assert first["items"][0]["start"] not in starts


@pytest.mark.parametrize("count", [1, 9])
def test_proposals_need_two_to_eight_services(spa: Spa, count: int) -> None:
    services = (spa.services * 3)[:count]

    with pytest.raises(BookingError) as excinfo:
        spa.chains(services)

    assert excinfo.value.code == "package_size"


def test_services_given_at_two_places_have_no_proposals(spa: Spa) -> None:
    elsewhere = make_service(spa.sb, type="APPOINTMENT", name="Lake Swim Lesson", location=make_location(spa.sb))
    from bookings_app.services import sync

    sync.sync_full(wix=spa.wix)
    lesson = Service.objects.get(wix_id=elsewhere["id"])

    with pytest.raises(BookingError) as excinfo:
        spa.chains([spa.services[0], lesson])

    assert excinfo.value.code == "package_locations"


def test_a_class_is_never_part_of_a_package(spa: Spa) -> None:
    swim = make_service(spa.sb, type="CLASS", name="Open Water Swim", location=spa.spa)
    from bookings_app.services import sync

    sync.sync_full(wix=spa.wix)

    with pytest.raises(BookingError) as excinfo:
        spa.chains([spa.services[0], Service.objects.get(wix_id=swim["id"])])

    assert excinfo.value.code == "package_service"


def test_the_chain_check_sees_a_time_taken_in_wix(spa: Spa) -> None:
    chain = spa.chain()
    assert desk.package_chain_check(wix=spa.wix, chain=chain) is True
    item = chain["items"][1]
    taken = {
        "bookings": [
            {
                "bookedEntity": {
                    "slot": {
                        "scheduleId": spa.wix_services[i]["schedule"]["id"],
                        "startDate": start,
                        "endDate": end,
                        "resource": {"id": item["resource_id"]},
                        "location": {"id": spa.spa["id"], "locationType": "OWNER_BUSINESS"},
                    }
                },
                "contactDetails": {"firstName": "Online"},
                "totalParticipants": 1,
                "status": "CONFIRMED",
            }
            for i, start, end in ((1, item["start"], item["end"]), (2, item["end"], at(spa, 11, 15)))
        ]
    }
    assert call(spa.sb, "POST", "/_api/bookings-service/v2/multi_service_bookings", taken)[0] == 200

    assert desk.package_chain_check(wix=spa.wix, chain=chain) is False


# --- booking it -------------------------------------------------------------------------------------


def test_a_package_paid_in_cash_is_on_its_appointment_sessions_at_once(spa: Spa, desk_user) -> None:
    ash = spa.customer("Ash")
    chain = spa.chain()

    package = spa.book(desk_user, ash, chain=chain)

    items = list(package.items.select_related("booking__session", "service"))
    assert [i.service.name for i in items] == ["Sports Massage", "Express Facial", "Classic Manicure"]
    assert package.total == Decimal("125.00") and package.pay == "CASH"
    for item, wanted in zip(items, chain["items"], strict=True):
        booking = item.booking
        assert (booking.status, booking.payment_status, booking.pending_sync) == ("CONFIRMED", "PAID", True)
        assert booking.selected_payment_option == "OFFLINE" and booking.contact == ash
        assert booking.session.service == item.service and booking.session.staff.resource_id == wanted["resource_id"]
        assert booking.session.start == item.start and booking.session.end == item.end
    assert items[0].booking.session.end == items[1].booking.session.start
    action = package.action
    assert (action.kind, action.status, action.booking) == ("PACKAGE", Status.QUEUED, None)
    assert action.params["amount"] == "125.00" and action.params["chain"] == chain
    entry = AuditEntry.objects.get(action="package.book")
    assert "Sports Massage" in entry.summary and "£125.00" in entry.summary


def test_booking_the_same_form_twice_books_one_package(spa: Spa, desk_user) -> None:
    ash, chain, form = spa.customer(), spa.chain(), key()

    first = desk.package_book(user=desk_user, contact=ash, chain=chain, pay="CASH", idempotency_key=form)
    again = desk.package_book(user=desk_user, contact=ash, chain=chain, pay="CASH", idempotency_key=form)

    assert first == again
    assert Package.objects.count() == 1 and Booking.objects.count() == 3


def test_a_form_used_for_another_package_is_refused(spa: Spa, desk_user) -> None:
    ash, form = spa.customer(), key()
    desk.package_book(user=desk_user, contact=ash, chain=spa.chain(0), pay="CASH", idempotency_key=form)

    with pytest.raises(BookingError) as excinfo:
        desk.package_book(user=desk_user, contact=ash, chain=spa.chain(1), pay="CASH", idempotency_key=form)

    assert excinfo.value.code == "key_reused"
    assert Package.objects.count() == 1


def test_a_new_customer_is_created_first_and_the_package_waits_for_them(spa: Spa, desk_user) -> None:
    new = desk.NewCustomer(first_name="Noor", last_name="New", email="noor@example.com", phone="")

    package = desk.package_book(user=desk_user, new_customer=new, chain=spa.chain(), pay="LATER", idempotency_key=key())

    contact = Contact.objects.get(email="noor@example.com")
    assert package.contact == contact
    assert package.action.depends_on.kind == "CONTACT_CREATE"
    assert set(Booking.objects.values_list("payment_status", flat=True)) == {"NOT_PAID"}


def test_a_time_another_desk_just_took_is_refused_and_nothing_is_made(spa: Spa, desk_user) -> None:
    chain = spa.chain()
    spa.book(desk_user, spa.customer("Ash"), chain=chain)
    before = (Package.objects.count(), Booking.objects.count(), Session.objects.count())

    with pytest.raises(BookingError) as excinfo:
        spa.book(desk_user, spa.customer("Bo"), chain=chain)

    assert excinfo.value.code == "slot_taken"
    assert "just booked" in excinfo.value.message
    assert (Package.objects.count(), Booking.objects.count(), Session.objects.count()) == before


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda c: {**c, "items": c["items"][:1]}, "package_size"),
        (lambda c: {**c, "items": (c["items"] * 3)}, "package_size"),
        (lambda c: shifted(c, 1, 15), "package_gap"),
        (lambda c: shifted(c, 2, -10), "package_gap"),
        (
            lambda c: {**c, "items": [c["items"][0], {**c["items"][1], "location_id": "elsewhere"}, c["items"][2]]},
            "package_locations",
        ),
        (lambda c: {**c, "items": [{**c["items"][0], "start": "soon"}, *c["items"][1:]]}, "package_invalid"),
        (lambda c: "not a chain", "package_invalid"),
    ],
    ids=["one service", "nine services", "a gap", "an overlap", "two locations", "a bad time", "garbage"],
)
def test_a_package_that_is_not_back_to_back_at_one_place_is_refused(spa: Spa, desk_user, change, code) -> None:
    ash = spa.customer()
    bad = change(spa.chain())

    with pytest.raises(BookingError) as excinfo:
        spa.book(desk_user, ash, chain=bad)

    assert excinfo.value.code == code
    nothing_booked()


def test_a_package_with_a_class_in_it_is_refused(spa: Spa, desk_user) -> None:
    swim = make_service(spa.sb, type="CLASS", name="Open Water Swim", location=spa.spa)
    from bookings_app.services import sync

    sync.sync_full(wix=spa.wix)
    chain = spa.chain()
    chain["items"][2] = {
        **chain["items"][2],
        "service": Service.objects.get(wix_id=swim["id"]).pk,
        "service_id": swim["id"],
    }

    with pytest.raises(BookingError) as excinfo:
        spa.book(desk_user, spa.customer(), chain=chain)

    assert excinfo.value.code == "package_service"
    nothing_booked()


def test_a_package_with_money_due_needs_a_way_to_pay(spa: Spa, desk_user) -> None:
    with pytest.raises(BookingError) as excinfo:
        spa.book(desk_user, spa.customer(), pay="")

    assert excinfo.value.code == "method_invalid"
    nothing_booked()


# --- paid with a plan ---------------------------------------------------------------------------


def test_a_plan_covering_every_service_pays_with_one_credit_each(spa: Spa, desk_user) -> None:
    ash = spa.customer(credits=5)
    balance = spa.balance(ash)
    assert desk.plans_covering([balance], spa.services) == [balance]

    package = spa.book(desk_user, ash, pay="PLAN", balance=balance)

    balance.refresh_from_db()
    assert balance.remaining_credits == Decimal("2")
    assert set(Booking.objects.values_list("payment_status", "selected_payment_option")) == {("PAID", "MEMBERSHIP")}
    assert package.action.params["pool_id"] == balance.wix_id
    assert desk.plans_covering([balance], spa.services) == []  # 2 left: not enough for another


def test_a_plan_with_too_few_credits_for_the_package_is_refused(spa: Spa, desk_user) -> None:
    ash = spa.customer(credits=2)
    balance = spa.balance(ash)

    with pytest.raises(BookingError) as excinfo:
        spa.book(desk_user, ash, pay="PLAN", balance=balance)

    assert excinfo.value.code == "no_credits"
    assert "the package needs 3" in excinfo.value.message
    assert desk.plans_covering([balance], spa.services) == []
    nothing_booked()


def test_someone_elses_plan_is_refused(spa: Spa, desk_user) -> None:
    owner = spa.customer("Owner", credits=5)

    with pytest.raises(BookingError) as excinfo:
        spa.book(desk_user, spa.customer("Bo"), pay="PLAN", balance=spa.balance(owner))

    assert excinfo.value.code == "plan_not_eligible"
    assert Package.objects.count() == 0


def test_in_booking_only_mode_a_package_is_not_paid_with_a_plan(spa: Spa, desk_user, booking_only) -> None:
    ash = spa.customer(credits=5)

    with pytest.raises(BookingError) as excinfo:
        spa.book(desk_user, ash, pay="PLAN", balance=spa.balance(ash))

    assert excinfo.value.code == "plan_not_eligible"
    assert desk.plans_covering([spa.balance(ash)], spa.services) == []


# --- cancelling: who may, and what it does at the desk ------------------------------------------


def test_the_front_desk_may_cancel_todays_unpaid_package(spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer(), pay="LATER")

    assert desk.package_cancel_refusal(user=desk_user, package=package) is None
    action = desk.package_cancel(user=desk_user, package=package, idempotency_key=key())

    package.refresh_from_db()
    assert package.is_cancelled and package.cancel_action == action
    assert set(Booking.objects.values_list("status", flat=True)) == {"CANCELED"}
    assert set(Session.objects.values_list("status", flat=True)) == {"CANCELLED"}
    assert AuditEntry.objects.filter(action="package.cancel", object_id=str(package.pk)).exists()


def test_the_front_desk_may_not_cancel_a_paid_package_a_manager_may(spa: Spa, desk_user, manager_user) -> None:
    package = spa.book(desk_user, spa.customer(), pay="CASH")

    with pytest.raises(BookingError) as excinfo:
        desk.package_cancel(user=desk_user, package=package, idempotency_key=key())

    assert excinfo.value.code == "forbidden" and "has been paid" in excinfo.value.message
    assert not Package.objects.get(pk=package.pk).is_cancelled
    desk.package_cancel(user=manager_user, package=package, idempotency_key=key())
    assert Package.objects.get(pk=package.pk).is_cancelled


def test_the_front_desk_may_not_cancel_a_package_booked_another_day(spa: Spa, desk_user, time_machine) -> None:
    package = spa.book(desk_user, spa.customer(), pay="LATER")
    Package.objects.filter(pk=package.pk).update(created_at=package.created_at - timedelta(days=2))
    package.refresh_from_db()

    refusal = desk.package_cancel_refusal(user=desk_user, package=package)

    assert refusal is not None and "booked on" in refusal


def test_cancelling_twice_with_the_same_form_is_one_cancel_and_again_is_refused(spa: Spa, manager_user) -> None:
    package = spa.book(manager_user, spa.customer(), pay="CASH")
    form = key()

    first = desk.package_cancel(user=manager_user, package=package, idempotency_key=form)
    again = desk.package_cancel(user=manager_user, package=package, idempotency_key=form)
    with pytest.raises(BookingError) as excinfo:
        desk.package_cancel(user=manager_user, package=package, idempotency_key=key())

    assert first == again
    assert excinfo.value.code == "booking_cancelled"
    assert DeskAction.objects.filter(kind=DeskAction.Kind.PACKAGE_CANCEL).count() == 1


def test_one_booking_of_a_package_is_not_cancelled_or_moved_alone(spa: Spa, manager_user) -> None:
    package = spa.book(manager_user, spa.customer(), pay="CASH")
    booking = package.items.get(position=1).booking

    with pytest.raises(BookingError) as cancelled:
        desk.booking_cancel(user=manager_user, booking=booking, idempotency_key=key())
    with pytest.raises(BookingError) as moved:
        desk.booking_reschedule(user=manager_user, booking=booking, slot={"start": at(spa, 14)}, idempotency_key=key())

    assert cancelled.value.code == moved.value.code == "in_package"
    assert "part of a package" in desk.cancel_refusal(user=manager_user, booking=booking)
    assert Booking.objects.get(pk=booking.pk).status == "CONFIRMED"


def test_a_package_wix_refused_is_sent_again_on_retry(spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer(), pay="CASH")
    action = package.action
    action.mark_needs_attention(code="SLOT_NOT_AVAILABLE", message="taken")

    desk.package_retry(user=desk_user, package=package)

    action.refresh_from_db()
    assert action.status == Status.QUEUED and action.error_code == ""
    with pytest.raises(BookingError) as excinfo:
        desk.package_retry(user=desk_user, package=package)
    assert excinfo.value.code == "not_needing_attention"
