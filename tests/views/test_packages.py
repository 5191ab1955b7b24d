"""The "Book a package" screen and a package's page: services in order (edited with buttons), a
start time Wix offers, the customer, one payment; refusals as 409/422 with nothing made; cancel."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.urls import reverse

from bookings_app.models import Booking, Contact, DeskAction, Package
from bookings_app.services import desk
from bookings_app.views import package_form
from tests import factories
from tests.services.package_world import Spa, at, build_spa, key, shifted
from tests.wix_sandbox.builders import call

pytestmark = pytest.mark.django_db

NEW = reverse("package_new")
HTMX = {"HX-Request": "true"}


@pytest.fixture
def spa(db: None) -> Spa:
    world = build_spa()
    yield world
    world.wix.close()


def page(spa: Spa, **extra: str) -> str:
    query = "&".join(f"s={s.pk}" for s in spa.services)
    query += f"&day={spa.day.isoformat()}"
    return f"{NEW}?{query}" + "".join(f"&{k}={quote(v)}" for k, v in extra.items())


def book_post(spa: Spa, chain: dict, **fields: str) -> dict[str, str | list[str]]:
    return {
        "s": [str(s.pk) for s in spa.services],
        "day": spa.day.isoformat(),
        "chain": package_form.chain_sign(chain),
        "idempotency_key": key(),
        "pay": "CASH",
        **fields,
    }


# --- who may ----------------------------------------------------------------------------------------


def test_the_package_screens_need_a_desk_login(client, no_role_user, spa: Spa, desk_user) -> None:
    package = spa.book(desk_user, spa.customer())
    assert client.get(NEW).status_code == 302
    client.force_login(no_role_user)
    assert client.get(NEW).status_code == 403
    assert client.get(reverse("package", args=[package.pk])).status_code == 403
    assert client.post(reverse("package_cancel", args=[package.pk])).status_code == 403


# --- choosing the services ----------------------------------------------------------------------


def test_the_screen_starts_with_the_appointment_services(desk_client, spa: Spa) -> None:
    content = desk_client.get(NEW).content.decode()

    assert "Book a package" in content
    for name in ("+ Sports Massage", "+ Express Facial", "+ Classic Manicure"):
        assert name in content
    assert "60 min · £55.00" in content


def test_services_are_added_moved_and_removed_with_buttons(desk_client, spa: Spa) -> None:
    massage, facial, manicure = spa.services

    def edit(current: list, **op: int) -> list[int]:
        response = desk_client.get(NEW, {"s": [s.pk for s in current], **op})
        assert response.status_code == 302
        return [int(v) for v in parse_qs(urlsplit(response["Location"]).query).get("s", [])]

    assert edit([], add=massage.pk) == [massage.pk]
    assert edit([massage], add=facial.pk) == [massage.pk, facial.pk]
    assert edit([massage, facial, manicure], up=3) == [massage.pk, manicure.pk, facial.pk]
    assert edit([massage, facial, manicure], down=1) == [facial.pk, massage.pk, manicure.pk]
    assert edit([massage, facial, manicure], remove=2) == [massage.pk, manicure.pk]
    assert edit([massage, facial], up=1) == [massage.pk, facial.pk]  # the first stays first


def test_a_ninth_service_is_not_added(desk_client, spa: Spa) -> None:
    eight = [spa.services[0].pk] * 8

    response = desk_client.get(NEW, {"s": eight, "add": spa.services[1].pk}, follow=True)

    assert "A package has at most 8 services." in response.content.decode()
    assert "+ Express Facial" not in response.content.decode()


def test_an_unknown_service_is_a_422_not_a_500(desk_client, spa: Spa) -> None:
    response = desk_client.get(NEW, {"s": ["999999", "nope"]})

    assert response.status_code == 422


def test_one_service_asks_for_another_before_any_time_is_offered(desk_client, spa: Spa) -> None:
    content = desk_client.get(NEW, {"s": [spa.services[0].pk]}).content.decode()

    assert "add at least one more" in content and "Day and start time" not in content


# --- the start time --------------------------------------------------------------------------------


def test_the_start_times_are_where_the_whole_package_fits(desk_client, spa: Spa) -> None:
    content = desk_client.get(page(spa)).content.decode()

    assert "£125.00" in content and "135 min" in content
    assert 'aria-label="Start at 09:00, ends 11:15, The Boathouse Spa"' in content


def test_a_chosen_start_time_shows_the_services_back_to_back(desk_client, spa: Spa) -> None:
    token = package_form.chain_sign(spa.chain())

    content = desk_client.get(page(spa, chain=token)).content.decode()

    assert "09:00–10:00" in content and "10:00–10:45" in content and "10:45–11:15" in content
    assert "Customer and payment" in content and "+ New customer" in content


def test_a_tampered_start_time_is_a_422(desk_client, spa: Spa) -> None:
    response = desk_client.get(page(spa, chain="not-signed"))

    assert response.status_code == 422
    assert "no longer on offer" in response.content.decode()


def test_the_customer_search_answers_its_own_part_of_the_page(desk_client, spa: Spa) -> None:
    spa.customer("Ash", "Search")
    token = package_form.chain_sign(spa.chain())

    response = desk_client.get(page(spa, chain=token, q="Ash"), headers={**HTMX, "HX-Target": "package-customers"})

    content = response.content.decode()
    assert content.lstrip().startswith('<div id="package-customers"')
    assert "Ash Search" in content and "Book package · Cash £125.00" in content


# --- booking -------------------------------------------------------------------------------------


def test_booking_two_packages_in_a_row_for_found_customers(desk_client, spa: Spa) -> None:
    ash, bo = spa.customer("Ash"), spa.customer("Bo")

    first = desk_client.post(NEW, book_post(spa, spa.chain(0), contact=str(ash.pk)))
    second = desk_client.post(NEW, book_post(spa, spa.chain(1), contact=str(bo.pk), pay="LATER"))

    one, two = Package.objects.order_by("pk")
    assert first.status_code == second.status_code == 302
    assert first["Location"] == reverse("package", args=[one.pk])
    assert second["Location"] == reverse("package", args=[two.pk])
    assert (one.contact, one.pay, two.contact, two.pay) == (ash, "CASH", bo, "LATER")
    assert Booking.objects.count() == 6
    followed = desk_client.get(first["Location"]).content.decode()
    assert "package of 3 — paid cash £125.00" in followed.replace("’", "'") or "paid cash £125.00" in followed


def test_a_new_customer_and_their_package_in_one_form(desk_client, spa: Spa) -> None:
    data = book_post(spa, spa.chain(), first_name="Noor", last_name="New", email="noor@example.com", phone="")

    response = desk_client.post(NEW, data)

    assert response.status_code == 302
    package = Package.objects.get()
    assert package.contact == Contact.objects.get(email="noor@example.com")


def test_a_new_customer_without_email_or_phone_is_a_422_and_nothing_is_made(desk_client, spa: Spa) -> None:
    data = book_post(spa, spa.chain(), first_name="Noor", last_name="", email="", phone="")

    response = desk_client.post(NEW, data)

    assert response.status_code == 422
    assert "Give an email or a phone number" in response.content.decode()
    assert not Package.objects.exists() and not Contact.objects.filter(first_name="Noor").exists()


def test_the_same_form_posted_twice_books_once(desk_client, spa: Spa) -> None:
    data = book_post(spa, spa.chain(), contact=str(spa.customer().pk))

    first = desk_client.post(NEW, data)
    spa.push()  # Wix has it now: the times are taken there
    again = desk_client.post(NEW, data)

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Package.objects.count() == 1


def test_a_time_another_desk_just_took_is_a_409_and_nothing_is_made(desk_client, desk_user, spa: Spa) -> None:
    chain = spa.chain()
    spa.book(desk_user, spa.customer("Ash"), chain=chain)

    response = desk_client.post(NEW, book_post(spa, chain, contact=str(spa.customer("Bo").pk)))

    assert response.status_code == 409
    content = response.content.decode()
    assert "just booked" in content and "Start at" in content  # the other start times, to pick again
    assert Package.objects.count() == 1


def test_a_time_taken_in_wix_meanwhile_is_a_409_and_nothing_is_made(desk_client, spa: Spa) -> None:
    chain = spa.chain()
    item = chain["items"][0]
    online = {
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
            for i, start, end in ((2, at(spa, 9), at(spa, 9, 30)), (1, at(spa, 9, 30), at(spa, 10, 15)))
        ]
    }
    assert call(spa.sb, "POST", "/_api/bookings-service/v2/multi_service_bookings", online)[0] == 200

    response = desk_client.post(NEW, book_post(spa, chain, contact=str(spa.customer().pk)))

    assert response.status_code == 409
    assert "just taken in Wix" in response.content.decode()
    assert not Package.objects.exists()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda c: {**c, "items": c["items"][:1]}, "A package has 2 to 8 services"),
        (lambda c: {**c, "items": c["items"] * 3}, "A package has 2 to 8 services"),
        (lambda c: shifted(c, 1, 15), "back to back"),
        (
            lambda c: {**c, "items": [c["items"][0], {**c["items"][1], "location_id": "other"}, c["items"][2]]},
            "same location",
        ),
    ],
    ids=["fewer than 2", "more than 8", "a gap", "two locations"],
)
def test_a_package_that_breaks_the_rules_is_a_422_and_nothing_is_made(desk_client, spa: Spa, change, words) -> None:
    chain = change(spa.chain())
    data = book_post(spa, chain, contact=str(spa.customer().pk))
    data["s"] = [str(i["service"]) for i in chain["items"]]

    response = desk_client.post(NEW, data)

    assert response.status_code == 422
    assert words in response.content.decode()
    assert not Package.objects.exists() and not Booking.objects.exists()


def test_a_plan_that_cant_pay_is_a_409(desk_client, spa: Spa) -> None:
    ash = spa.customer(credits=2)

    response = desk_client.post(
        NEW, book_post(spa, spa.chain(), contact=str(ash.pk), pay=f"PLAN:{spa.balance(ash).pk}")
    )

    assert response.status_code == 409
    assert "the package needs 3" in response.content.decode()
    assert not Package.objects.exists()


def test_only_a_plan_covering_the_whole_package_is_offered(desk_client, spa: Spa) -> None:
    rich, poor = spa.customer("Rich", credits=5), spa.customer("Poor", credits=1)
    token = package_form.chain_sign(spa.chain())

    content = desk_client.get(page(spa, chain=token, q="Spa")).content.decode()

    assert f'value="PLAN:{spa.balance(rich).pk}"' in content
    assert f'value="PLAN:{spa.balance(poor).pk}"' not in content


# --- the package's page, cancelling ---------------------------------------------------------------


def test_the_package_page_shows_its_bookings_and_state(desk_client, desk_user, spa: Spa) -> None:
    package = spa.book(desk_user, spa.customer("Ash"), pay="LATER")

    content = desk_client.get(reverse("package", args=[package.pk])).content.decode()

    assert "Waiting for Wix" in content
    for item in package.items.select_related("booking__session"):
        assert reverse("roster", args=[item.booking.session.ref]) in content
    assert "Cancel package" in content and "Pay later" in content
    assert desk_client.get(reverse("package", args=[package.pk + 999])).status_code == 404
    assert desk_client.get("/packages/99999999999999999999/").status_code == 404


def test_the_front_desk_cancels_todays_unpaid_package(desk_client, desk_user, spa: Spa) -> None:
    package = spa.book(desk_user, spa.customer(), pay="LATER")
    url = reverse("package_cancel", args=[package.pk])

    response = desk_client.post(url, {"idempotency_key": key()}, headers=HTMX)

    assert response.status_code == 200 and response["HX-Redirect"] == reverse("package", args=[package.pk])
    package.refresh_from_db()
    assert package.is_cancelled
    assert "This package is cancelled" in desk_client.get(reverse("package", args=[package.pk])).content.decode()


def test_the_front_desk_may_not_cancel_a_paid_package(desk_client, desk_user, spa: Spa) -> None:
    package = spa.book(desk_user, spa.customer(), pay="CASH")

    shown = desk_client.get(reverse("package", args=[package.pk])).content.decode()
    response = desk_client.post(reverse("package_cancel", args=[package.pk]), {"idempotency_key": key()})

    assert "Only a manager can cancel this package" in shown and "Cancel package</button>" not in shown
    assert response.status_code == 403
    assert not Package.objects.get(pk=package.pk).is_cancelled


def test_a_manager_cancels_a_paid_package_and_a_second_cancel_is_refused(
    manager_client, manager_user, spa: Spa
) -> None:
    package = spa.book(manager_user, spa.customer(), pay="CASH")
    url = reverse("package_cancel", args=[package.pk])

    first = manager_client.post(url, {"idempotency_key": key()})
    second = manager_client.post(url, {"idempotency_key": key()})
    bad = manager_client.post(url, {"idempotency_key": "!"})

    assert first.status_code == 302
    assert second.status_code == 409 and "cancelled already" in second.content.decode()
    assert bad.status_code == 422
    assert DeskAction.objects.filter(kind="PACKAGE_CANCEL").count() == 1


def test_a_package_wix_refused_is_sent_again(desk_client, desk_user, spa: Spa) -> None:
    package = spa.book(desk_user, spa.customer())
    package.action.mark_needs_attention(code="SLOT_NOT_AVAILABLE", message="Taken in Wix meanwhile.")

    shown = desk_client.get(reverse("package", args=[package.pk])).content.decode()
    response = desk_client.post(reverse("package_retry", args=[package.pk]))
    again = desk_client.post(reverse("package_retry", args=[package.pk]))

    assert "Taken in Wix meanwhile." in shown and "Send to Wix again" in shown
    assert response.status_code == 302 and again.status_code == 409
    assert DeskAction.objects.get(pk=package.action.pk).status == "QUEUED"


# --- Today and the week grid link to it; Today marks a package's sessions -------------------------------


def test_today_links_to_book_a_package_and_marks_its_sessions(desk_client, desk_user, spa: Spa) -> None:
    package = spa.book(desk_user, spa.customer())
    plain = factories.SessionFactory()

    content = desk_client.get(reverse("today"), {"date": spa.day.isoformat()}).content.decode()

    assert f'href="{NEW}?day={spa.day.isoformat()}"' in content and "+ Book a package" in content
    assert content.count('class="badge kind-package"') == package.items.count()
    assert plain.pk  # a session of no package carries no marker


def test_the_week_grid_links_to_a_package_starting_with_its_service(desk_client, spa: Spa) -> None:
    massage = spa.services[0]

    content = desk_client.get(reverse("desk_appointment_week"), {"service": massage.pk}).content.decode()

    assert f'href="{NEW}?s={massage.pk}"' in content


def test_the_packages_booking_cannot_be_cancelled_alone_on_its_change_page(
    manager_client, manager_user, spa: Spa
) -> None:
    package = spa.book(manager_user, spa.customer())
    booking = package.items.get(position=1).booking
    url = reverse("booking_cancel", args=[booking.session.ref, booking.pk])

    response = manager_client.post(url, {"idempotency_key": key()})

    assert response.status_code == 409
    assert "part of a package" in response.content.decode()
    assert desk.cancel_refusal(user=manager_user, booking=booking)
