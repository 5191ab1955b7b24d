"""The owes list screens: the list (ranges, search, pages), settling from a row, a person or the
ticked bookings (with a summary to confirm), its undo, write-offs and their reversal, the
printable reminder list and the export — managers only, bad input answered with a message."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.template import engines
from django.urls import NoReverseMatch, reverse

from bookings_app import converters
from bookings_app.models import AuditEntry, Booking, DeskAction, WriteOff
from bookings_app.views.common import url_filler
from bookings_app.views.owes import rendered_in_batches
from tests import factories
from tests.views.desk_helpers import NOW, key

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("desk_clock")]

Status = DeskAction.Status


@pytest.fixture
def owing() -> dict[str, Booking]:
    """This week: Ann owes for Tuesday and Thursday, Bob for Monday; Cy paid."""
    service = factories.ServiceFactory(price=Decimal("12.00"), name="Open water")
    monday, tuesday, thursday = (
        factories.SessionFactory(service=service, start=NOW - timedelta(days=d), title="Open water") for d in (5, 4, 2)
    )
    ann = factories.ContactFactory(first_name="Ann", last_name="Archer", email="ann@example.com", phone="+44 7700 1")
    bob = factories.ContactFactory(first_name="Bob", last_name="Baker", email="bob@example.com")
    return {
        "ann_tue": factories.BookingFactory(session=tuesday, contact=ann),
        "ann_thu": factories.BookingFactory(session=thursday, contact=ann),
        "bob": factories.BookingFactory(session=monday, contact=bob),
        "cy": factories.BookingFactory(session=monday, payment_status="PAID"),
    }


def _page(client, **params) -> str:
    response = client.get(reverse("owes"), params)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_managers_see_who_owes_by_person_oldest_first(manager_client, owing) -> None:
    page = _page(manager_client, range="this_week")

    assert page.index("Bob Baker") < page.index("Ann Archer")
    assert "2 people owe £36.00" in page and "for 3 bookings" in page
    assert f'id="owed-{owing["ann_tue"].pk}"' in page and f'id="owed-{owing["cy"].pk}"' not in page
    assert page.count('name="booking"') == 3
    # booking status, payment status and attendance side by side, never merged
    row = page[page.index(f'id="owed-{owing["bob"].pk}"') :]
    assert "Confirmed</span>" in row[:1500] and "Not paid</span>" in row[:1500] and "Not set</span>" in row[:1500]


def test_the_front_desk_may_not_open_the_owes_list(desk_client, owing) -> None:
    assert desk_client.get(reverse("owes")).status_code == 403
    assert desk_client.post(reverse("owes_settle")).status_code == 403


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"range": "fortnight"}, "Choose a range from the list."),
        ({"range": "custom", "start": "2026-11-20"}, "Give both days of a custom range."),
        ({"range": "custom", "start": "2026-11-20", "end": "2026-11-01"}, "The range ends before it starts."),
        ({"range": "custom", "start": "yesterday", "end": "2026-11-01"}, "Enter a date as YYYY-MM-DD."),
    ],
)
def test_a_range_it_cannot_read_is_422_with_a_message_and_this_month_shown(manager_client, owing, params, message):
    response = manager_client.get(reverse("owes"), params)
    assert response.status_code == 422
    assert message in response.content.decode() and "Ann Archer" in response.content.decode()


def test_a_custom_range_and_a_search(manager_client, owing) -> None:
    page = _page(manager_client, range="custom", start="2026-11-16", end="2026-11-16", q="bob")
    assert "Bob Baker" in page and "Ann Archer" not in page
    assert "Nobody" in _page(manager_client, range="last_month")


def test_a_rows_cash_button_settles_that_booking_at_once_with_one_undo(manager_client, owing) -> None:
    response = manager_client.post(
        reverse("owes_settle"),
        {"idempotency_key": key(), "row": f"cash:{owing['bob'].pk}", "range": "this_week", "booking": []},
    )

    assert response.status_code == 302
    [action] = DeskAction.objects.all()
    assert (action.kind, action.booking_id, action.params["method"], action.params["amount"]) == (
        "PAYMENT",
        owing["bob"].pk,
        "CASH",
        "12.00",
    )
    assert response.url.startswith(reverse("owes") + "?range=this_week&batch=")
    page = manager_client.get(response.url).content.decode()
    assert "Settled 1 booking: £12.00 cash." in page
    assert "Undo settle" in page and "Bob Baker" not in page

    undone = manager_client.post(reverse("owes_batch_undo", args=[action.batch_id]), {"range": "this_week"})
    assert undone.status_code == 302
    assert DeskAction.objects.get().status == Status.UNDONE
    assert "Bob Baker" in _page(manager_client, range="this_week")
    again = manager_client.post(reverse("owes_batch_undo", args=[action.batch_id]), {"range": "this_week"})
    assert again.status_code == 302  # undone already: nothing more to do
    assert manager_client.post(reverse("owes_batch_undo", args=["nope"])).status_code == 404


def test_a_persons_button_settles_all_of_theirs(manager_client, owing) -> None:
    ids = f"{owing['ann_tue'].pk},{owing['ann_thu'].pk}"
    response = manager_client.post(reverse("owes_settle"), {"idempotency_key": key(), "row": f"card:{ids}"})
    assert response.status_code == 302
    assert sorted(DeskAction.objects.values_list("booking_id", "params__method")) == sorted(
        [(owing["ann_tue"].pk, "CARD"), (owing["ann_thu"].pk, "CARD")]
    )
    assert len(set(DeskAction.objects.values_list("batch_id", flat=True))) == 1


def test_the_ticked_bookings_are_settled_after_a_summary_to_confirm(manager_client, owing) -> None:
    k = key()
    ticked = {
        "idempotency_key": k,
        "method": "check",
        "booking": [owing["bob"].pk, owing["ann_tue"].pk],
        "range": "this_week",
    }

    summary = manager_client.post(reverse("owes_settle"), ticked)
    assert summary.status_code == 200
    body = summary.content.decode()
    assert "Record £24.00 cheque from 2 people." in body and not DeskAction.objects.exists()
    back = manager_client.post(reverse("owes_settle"), {**ticked, "back": "1"})
    assert back.status_code == 302 and not DeskAction.objects.exists()

    done = manager_client.post(reverse("owes_settle"), {**ticked, "confirm": "1"})
    assert done.status_code == 302
    assert sorted(DeskAction.objects.values_list("booking_id", flat=True)) == sorted(
        [owing["bob"].pk, owing["ann_tue"].pk]
    )
    assert manager_client.post(reverse("owes_settle"), {**ticked, "confirm": "1"}).status_code == 302
    assert DeskAction.objects.count() == 2  # sent twice, settled once


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"method": "cash", "booking": ["x"]}, 422, "Choose bookings from the list."),
        ({"method": "cash", "booking": ["-3"]}, 422, "Choose bookings from the list."),
        ({"method": "cash"}, 409, "Choose at least one booking to settle."),
        ({"method": "bitcoin", "booking": ["1"]}, 422, "Choose cash, card, cheque or their plan."),
        ({"row": "cash:12,abc"}, 422, "Choose bookings from the list."),
    ],
)
def test_bad_settle_input_changes_nothing_and_says_why(manager_client, owing, data, status, message) -> None:
    response = manager_client.post(reverse("owes_settle"), {"idempotency_key": key(), **data})
    assert response.status_code == status
    assert message in response.content.decode()
    assert not DeskAction.objects.exists()


def test_a_form_without_its_token_is_refused(manager_client, owing) -> None:
    response = manager_client.post(reverse("owes_settle"), {"row": f"cash:{owing['bob'].pk}"})
    assert response.status_code == 422 and "out of date" in response.content.decode()
    assert not DeskAction.objects.exists()


def test_a_paid_booking_among_the_ticked_refuses_them_all_and_marks_its_row(manager_client, owing) -> None:
    owing["bob"].payment_status = "PAID"  # paid elsewhere since the page was drawn
    owing["bob"].save()
    response = manager_client.post(
        reverse("owes_settle"),
        {"idempotency_key": key(), "method": "cash", "booking": [owing["bob"].pk, owing["ann_tue"].pk]},
    )
    assert response.status_code == 409
    assert "Nothing was saved" in response.content.decode()
    assert not DeskAction.objects.exists()


def test_a_write_off_needs_a_reason_and_a_manager_and_leaves_the_list(manager_client, owing, client, desk_user):
    url = reverse("owes_write_off")
    form = manager_client.get(url, {"booking": [owing["bob"].pk], "range": "this_week"})
    assert form.status_code == 200 and "Write off £12.00" in form.content.decode()
    assert manager_client.get(url, {"booking": ["nope"]}).status_code == 422

    no_reason = manager_client.post(url, {"idempotency_key": key(), "booking": [owing["bob"].pk], "reason": " "})
    assert no_reason.status_code == 422 and "Say why" in no_reason.content.decode()
    assert not WriteOff.objects.exists()

    done = manager_client.post(
        url, {"idempotency_key": key(), "booking": [owing["bob"].pk], "reason": "Moved away", "range": "this_week"}
    )
    assert done.status_code == 302
    assert WriteOff.objects.get().reason == "Moved away"
    assert "Bob Baker" not in _page(manager_client, range="this_week")
    assert AuditEntry.objects.filter(action="payment.write_off").count() == 1

    client.force_login(desk_user)
    assert (
        client.post(url, {"idempotency_key": key(), "booking": [owing["ann_tue"].pk], "reason": "x"}).status_code == 403
    )


def test_written_off_list_and_taking_one_back(manager_client, owing, manager_user) -> None:
    write_off = factories.WriteOffFactory(booking=owing["bob"], created_at=NOW - timedelta(hours=1))
    page = manager_client.get(reverse("owes_written_off"), {"range": "this_week"})
    assert page.status_code == 200 and "Goodwill" in page.content.decode()

    url = reverse("owes_write_off_reverse", args=[write_off.pk])
    assert manager_client.post(url, {"range": "this_week"}).status_code == 302
    write_off.refresh_from_db()
    assert write_off.reversed_by == manager_user
    again = manager_client.post(url)
    assert again.status_code == 409 and "already taken back" in again.content.decode()
    assert manager_client.post(reverse("owes_write_off_reverse", args=[999_999])).status_code == 404


def test_the_reminder_list_prints_everyone_with_contact_and_sessions(manager_client, owing) -> None:
    response = manager_client.get(reverse("owes_print"), {"range": "this_week"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "ann@example.com" in body and "+44 7700 1" in body and "£24.00" in body
    assert body.count('<tbody class="reminder">') == 2


def test_the_export_has_the_screens_rows_and_neutralises_formulas(manager_client, owing) -> None:
    owing["bob"].contact.first_name = '=HYPERLINK("http://x")'
    owing["bob"].contact.save()

    response = manager_client.get(reverse("owes_export"), {"range": "this_week", "format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Name", "Email", "Phone", "Person owes"]
    assert [(r[0], r[9]) for r in rows[1:]] == [
        ('\'=HYPERLINK("http://x") Baker', "12.00"),
        ("Ann Archer", "12.00"),
        ("Ann Archer", "12.00"),
    ]
    xlsx = manager_client.get(reverse("owes_export"), {"range": "this_week", "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith('.xlsx"')
    bad = manager_client.get(reverse("owes_export"), {"format": "pdf"})
    assert bad.status_code == 400 and "CSV or XLSX" in bad.content.decode()


def test_write_off_from_the_ticked_bookings_asks_for_the_reason_first(manager_client, owing) -> None:
    ticked = {"idempotency_key": key(), "booking": [owing["bob"].pk, owing["ann_tue"].pk], "range": "this_week"}

    asked = manager_client.post(reverse("owes_write_off"), ticked)
    body = asked.content.decode()
    assert asked.status_code == 200 and "Write off £24.00" in body and "Why is it written off?" in body
    assert not WriteOff.objects.exists()
    nothing = manager_client.post(reverse("owes_write_off"), {"idempotency_key": key(), "range": "this_week"})
    assert nothing.status_code == 422 and "Choose at least one booking to write off." in nothing.content.decode()
    paid = manager_client.post(
        reverse("owes_write_off"),
        {"idempotency_key": key(), "booking": [owing["cy"].pk], "reason": "Goodwill"},
    )
    assert paid.status_code == 409 and "has nothing left to pay" in paid.content.decode()
    assert not WriteOff.objects.exists()


@pytest.mark.parametrize(
    "ref",
    ["71dc1d3b-bc16-4d0c-84f3-c68c6cc3d657", "12", "a#b?c%d", "it's&<x>", "~:@!$", "x" * 200, "x" * 201, "a/b", "é"],
)
def test_the_rows_roster_links_are_what_reverse_gives(ref):
    """The list completes one reversed roster URL per row (``views.common.url_filler``): the
    same URL as ``reverse`` for any ref, and the same refusal for one no URL takes."""
    try:
        expected = reverse("roster", args=[ref])
    except NoReverseMatch:
        with pytest.raises(NoReverseMatch):
            url_filler("roster")(ref)
    else:
        assert url_filler("roster")(ref) == expected


@pytest.mark.parametrize("pk", [1, 12, 987654321, 2**63 - 1, "7"])
def test_the_rows_card_links_are_what_reverse_gives(pk):
    """The same for an id converter's URL (a customer's card, the drift page's fixes)."""
    assert url_filler("customer_card", converters.IdConverter)(pk) == reverse("customer_card", args=[pk])


def test_a_long_page_rendered_in_batches_is_what_render_gives():
    """``views.owes.rendered_in_batches`` joins Jinja2's pieces 500 at a time: the same text."""
    template = engines["jinja2"].env.from_string("{% for x in xs %}<li>{{ x }}</li>{{ '' }}{% endfor %}end")
    xs = [f"<{i}> & '{i}'" for i in range(1_234)]
    assert rendered_in_batches(template, xs=xs) == template.render(xs=xs)
    assert rendered_in_batches(template, xs=[]) == "end"
