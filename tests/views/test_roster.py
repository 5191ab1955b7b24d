import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bookings_app import roster_rows
from bookings_app.models import Attendance, Booking, DeskAction, Payment, Service
from tests import factories

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)


@pytest.fixture
def session():
    return factories.SessionFactory(
        start=START, title="Dawn swim", service__price=Decimal("12.00"), service__currency="GBP"
    )


def person(session, first: str, last: str, **booking) -> Booking:
    contact = factories.ContactFactory(
        first_name=first, last_name=last, email=f"{first}.{last}@example.com".lower(), phone=booking.pop("phone", "")
    )
    return factories.BookingFactory(session=session, contact=contact, **booking)


def paid_with(booking: Booking, method: str, *, balance: str = "0", line_item: bool = True) -> None:
    item = factories.OrderLineItemFactory(
        booking=booking, order__balance=Decimal(balance), order__currency="GBP", order__contact=booking.contact
    )
    factories.PaymentFactory(order=item.order, method=method, line_item_id=item.line_item_id if line_item else "")


def url(session, **query) -> str:
    return reverse("roster", args=[session.ref])


def row_html(content: str, booking: Booking) -> str:
    start = content.index(f'id="booking-{booking.pk}"')
    return content[start : content.index("</tr>", start)]


def whole_row(content: str, booking: Booking) -> str:
    """The row's <tbody>: its line and, when there is one, its second line."""
    start = content.index(f'id="roster-row-{booking.pk}"')
    return content[start : content.index("</tbody>", start)]


def test_roster_shows_every_participant_with_status_payment_due_and_attendance(desk_client, session):
    cash = person(session, "Ann", "Archer", payment_status="PAID", phone="+44 7700 900111")
    paid_with(cash, Payment.Method.CASH)
    factories.AttendanceFactory(booking=cash, session=session)
    plan = person(session, "Bo", "Baker", payment_status="PAID", selected_payment_option="MEMBERSHIP")
    paid_with(plan, Payment.Method.PLAN)
    owes = person(session, "Cy", "Cole")
    factories.OrderLineItemFactory(booking=owes, order__balance=Decimal("12.00"), order__currency="GBP")
    no_order = person(session, "Di", "Dunn", total_participants=2)
    factories.AttendanceFactory(booking=no_order, session=session, status=Attendance.Status.NOT_ATTENDED)
    pending = person(session, "Ed", "Eve", status="CREATED", pending_sync=True)

    response = desk_client.get(url(session))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Dawn swim" in content and "5 booked on 4 bookings · 1 not confirmed" in content
    names = ["Ann Archer", "Bo Baker", "Cy Cole", "Di Dunn", "Ed Eve"]
    assert [content.index(n) for n in names] == sorted(content.index(n) for n in names)

    ann = row_html(content, cash)
    assert "Confirmed" in ann and ">Paid<" in ann and ">Cash<" in ann and "Checked in" in ann
    # one line per person: the phone and email are the name link's title (and on the card)
    assert 'title="Ann Archer · +44 7700 900111 · ann.archer@example.com"' in ann
    assert "—" in ann  # nothing due

    bo = row_html(content, plan)
    assert ">Plan<" in bo and "pay-plan" in bo

    cy = row_html(content, owes)
    assert "Not paid" in cy and '<strong class="due">£12.00</strong>' in cy
    assert '<button form="rf-' in cy and 'aria-label="Check in Cy Cole">Check in</button>' in cy  # not in yet

    di = row_html(content, no_order)
    assert '<strong class="due">£24.00</strong>' in di and ">list price<" in di  # no order yet: 2 × the service price
    assert "×2" in di and "No-show" in di

    ed = row_html(content, pending)
    assert "waiting for Wix" in ed and "Created" in ed


def test_roster_header_counts_match_today(desk_client, session):
    paid_with(person(session, "Ann", "Archer", payment_status="PAID"), Payment.Method.CARD)
    person(session, "Bo", "Baker")

    content = desk_client.get(url(session)).content.decode()

    assert "2<small>/20</small>" in content


def test_roster_is_found_by_wix_event_id_or_by_pk(desk_client, session):
    local = factories.SessionFactory(wix_id=None, title="Not in Wix yet")

    assert desk_client.get(reverse("roster", args=[session.wix_id])).status_code == 200
    assert desk_client.get(reverse("roster", args=[session.pk])).status_code == 200
    assert "Not in Wix yet" in desk_client.get(reverse("roster", args=[local.pk])).content.decode()
    assert desk_client.get(reverse("roster", args=["no-such-event"])).status_code == 404


def test_cancelled_bookings_are_hidden_unless_asked_for(desk_client, session):
    person(session, "Ann", "Archer")
    person(session, "Gone", "Away", status="CANCELED")

    assert "Gone Away" not in desk_client.get(url(session)).content.decode()
    shown = desk_client.get(url(session), {"cancelled": "1"}).content.decode()
    assert "Gone Away" in shown and "Cancelled" in shown


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ann", ["Ann Archer", "Joanne Smith"]),
        ("ARCHER ann", ["Ann Archer"]),
        ("zoe", ["Zoë Zeta"]),
        ("smith@", ["Joanne Smith"]),
        ("900 222", ["Bo Baker"]),
        ("07700900222", []),  # national format with a leading zero is not the stored +44 number
        ("nobody", []),
    ],
)
def test_htmx_filter_by_name_email_or_phone_returns_just_the_rows(desk_client, session, query, expected):
    person(session, "Ann", "Archer", phone="+44 7700 900111")
    person(session, "Bo", "Baker", phone="+44 7700 900222")
    person(session, "Joanne", "Smith")
    person(session, "Zoë", "Zeta")

    response = desk_client.get(url(session), {"q": query}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert content.lstrip().startswith('<section id="roster-rows"')
    assert "<html" not in content
    everyone = ["Ann Archer", "Bo Baker", "Joanne Smith", "Zoë Zeta"]
    assert [n for n in everyone if n in content] == expected
    if not expected:
        assert "Nobody on this roster matches" in content


def test_filter_works_without_javascript(desk_client, session):
    person(session, "Ann", "Archer")
    person(session, "Bo", "Baker")

    content = desk_client.get(url(session), {"q": "baker"}).content.decode()

    assert "<html" in content and 'value="baker"' in content
    assert "Bo Baker" in content and "Ann Archer" not in content
    assert "1 matching “baker”" in content


def test_search_box_is_wired_for_instant_filtering(desk_client, session):
    content = desk_client.get(url(session)).content.decode()

    assert 'hx-trigger="input changed delay:150ms, search"' in content
    assert f'hx-get="{url(session)}"' in content and 'hx-target="#roster-rows"' in content
    assert "data-search" in content  # the "/" shortcut focuses it
    assert 'method="get"' in content


def test_course_session_roster_lists_the_course_bookings(desk_client):
    course = factories.ServiceFactory(type=Service.Type.COURSE, name="Learn to swim")
    week1 = factories.SessionFactory(service=course, start=START)
    booking = factories.BookingFactory(session=None, service=course, contact__first_name="Cora")
    factories.AttendanceFactory(booking=booking, session=week1)

    content = desk_client.get(url(week1)).content.decode()

    assert "Cora" in content and "Checked in" in content


def test_a_plan_payment_on_a_shared_order_belongs_to_its_own_line(session):
    ann, bo = person(session, "Ann", "Archer"), person(session, "Bo", "Baker")
    order = factories.OrderFactory(balance=Decimal("0"))
    ann_line = factories.OrderLineItemFactory(order=order, booking=ann)
    factories.OrderLineItemFactory(order=order, booking=bo)
    factories.PaymentFactory(order=order, method=Payment.Method.PLAN, line_item_id=ann_line.line_item_id)

    rows = {r.contact.first_name: r for r in roster_rows.row_list(session=session)}

    assert rows["Ann"].methods == ["PLAN"] and rows["Ann"].charged_to_plan
    assert rows["Bo"].methods == [] and not rows["Bo"].charged_to_plan
    assert rows["Bo"].shared_order


def test_print_view_is_a_sign_in_sheet(desk_client, session):
    paid_with(person(session, "Ann", "Archer", payment_status="PAID", phone="+44 7700 900111"), Payment.Method.CASH)
    person(session, "Bo", "Baker", payment_status="PAID", selected_payment_option="MEMBERSHIP")
    person(session, "Cy", "Cole", phone="+44 7700 900333")
    person(session, "Gone", "Away", status="CANCELED")

    response = desk_client.get(reverse("roster_print", args=[session.ref]))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'class="print-sheet"' in content and 'class="sign-in"' in content
    assert ">Signature<" in content and ">Paid?<" in content
    assert "Ann Archer" in content and "+44 7700 900111" in content and ">Paid<" in content
    assert ">Plan<" in content
    assert "Owes £12.00" in content
    assert "Gone Away" not in content
    assert "Saturday 21 November 2026, 07:00–08:00" in content
    assert "data-print" in content


def test_roster_links_to_the_print_view_and_back_to_its_day(desk_client, session):
    content = desk_client.get(url(session)).content.decode()

    assert f'href="{reverse("roster_print", args=[session.ref])}"' in content
    assert f'href="{reverse("today")}?date=2026-11-21"' in content


def _roster_queries(client, user, session, *, path: str = "roster", htmx: bool = False) -> int:
    client.force_login(user)
    headers = {"HX-Request": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(path, args=[session.ref]), headers=headers)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def _fill(session, n: int) -> None:
    for i in range(n):
        booking = factories.BookingFactory(session=session, payment_status="PAID" if i % 3 else "NOT_PAID")
        if i % 3 == 1:
            paid_with(booking, Payment.Method.CASH)
        elif i % 3 == 2:
            paid_with(booking, Payment.Method.PLAN)
        if i % 2:
            factories.AttendanceFactory(booking=booking, session=session)


@pytest.mark.parametrize(("path", "htmx"), [("roster", False), ("roster", True), ("roster_print", False)])
def test_roster_queries_do_not_grow_with_participants(client, desk_user, path, htmx):
    small, big = factories.SessionFactory(start=START), factories.SessionFactory(start=START)
    _fill(small, 10)
    _fill(big, 100)

    ten = _roster_queries(client, desk_user, small, path=path, htmx=htmx)
    hundred = _roster_queries(client, desk_user, big, path=path, htmx=htmx)

    assert ten == hundred
    # session, user, permissions (2), the session row, 5 for the rows, the sync status, the desk
    # backlog (the header's; kept a few seconds outside tests); the roster itself adds 2 for the
    # desk actions (the rows' desk actions, the people's plan balances), the sign-in sheet 1 for
    # the emergency contacts and alerts (customer card)
    assert hundred <= (13 if path == "roster_print" else 14)


def test_roster_selector_costs_five_queries(django_assert_num_queries):
    session = factories.SessionFactory(start=START)
    _fill(session, 30)

    # bookings, their contacts, attendance, order lines, payments
    with django_assert_num_queries(5):
        rows = roster_rows.row_list(session=session)
        assert len(rows) == 30
        assert sum(1 for r in rows if r.checked_in) == 15
        assert {m for r in rows for m in r.methods} == {"CASH", "PLAN"}


def test_roster_rows_share_the_sessions_service(django_assert_num_queries):
    session = factories.SessionFactory(start=START, service__price=Decimal("12.00"))
    _fill(session, 5)
    other = factories.ServiceFactory(price=Decimal("7.00"))
    stray = factories.BookingFactory(session=session, service=other, payment_status="NOT_PAID")

    with django_assert_num_queries(6):  # one more, for the booking whose service is not the session's
        rows = {r.booking.pk: r for r in roster_rows.row_list(session=session)}
        assert rows[stray.pk].booking.service == stray.service and rows[stray.pk].amount_due == Decimal("7.00")
        others = [r for pk, r in rows.items() if pk != stray.pk]
        assert len(others) == 5 and all(r.booking.service is session.service for r in others)


def test_a_huge_numeric_reference_is_simply_not_found(desk_client):
    assert desk_client.get(reverse("roster", args=["9" * 30])).status_code == 404


# --- the words and figures on the roster (issue 10, item 3) ----------------------------------------


def test_what_is_left_after_a_part_payment_is_the_balance_not_the_list_price(desk_client, session):
    untouched = person(session, "Ann", "Archer", payment_status="UNDEFINED")
    part = person(session, "Bo", "Baker", payment_status="PARTIALLY_PAID")
    factories.DeskActionFactory(booking=part, status="SYNCED", params={"method": "CASH", "amount": "4.00"})
    waiting = person(session, "Cy", "Cole")
    factories.DeskActionFactory(booking=waiting, params={"method": "CARD", "amount": "5.00"})

    content = desk_client.get(url(session)).content.decode()

    assert ">list price<" in row_html(content, untouched)
    for booking, due in ((part, "£8.00"), (waiting, "£7.00")):
        row = row_html(content, booking)
        assert f'<strong class="due">{due}</strong>' in row and ">balance<" in row and "list price" not in row


def test_a_payment_the_desk_took_is_named_by_the_desk_not_as_wix_s_other(desk_client, session):
    booking = person(session, "Ann", "Archer", payment_status="PAID")
    paid_with(booking, Payment.Method.OTHER)  # Wix kept no name for the desk's offline payment
    factories.DeskActionFactory(booking=booking, status="SYNCED", params={"method": "CASH", "amount": "12.00"})
    gift = person(session, "Bo", "Baker", payment_status="PAID")
    paid_with(gift, Payment.Method.OTHER)  # paid some other way in Wix, nothing at the desk

    content = desk_client.get(url(session)).content.decode()

    ann = row_html(content, booking)
    assert ">Cash<" in ann and ">Other<" not in ann
    assert ">Other<" in row_html(content, gift)


@pytest.mark.parametrize("status", ["UNDEFINED", "NOT_PAID"])
def test_nothing_paid_reads_the_same_whatever_wix_calls_it(desk_client, session, status):
    booking = person(session, "Ann", "Archer", payment_status=status)

    row = row_html(desk_client.get(url(session)).content.decode(), booking)

    assert ">Not paid<" in row and "No payment yet" not in row


def test_the_roster_count_agrees_with_booked_and_says_what_it_counts(desk_client, session):
    person(session, "Ann", "Archer", total_participants=2)
    person(session, "Bo", "Baker")
    person(session, "Cy", "Cole", status="WAITING_LIST")
    person(session, "Di", "Dunn", status="CREATED")
    person(session, "Gone", "Away", status="CANCELED")

    content = desk_client.get(url(session)).content.decode()
    shown = desk_client.get(url(session), {"cancelled": "1"}).content.decode()
    printed = desk_client.get(reverse("roster_print", args=[session.ref])).content.decode()

    header = '<span class="stat-label">Booked</span><span class="stat-value">3<small>/20</small>'
    assert header in content  # 2 + 1 people: the same figure as on Today
    count = "3 booked on 2 bookings · 1 on the waiting list · 1 not confirmed"
    assert count in content
    assert f"{count} · 1 cancelled" in shown
    assert count in printed


def test_a_long_name_is_cut_short_on_its_row_with_the_whole_name_in_its_title(desk_client, session):
    long = "Maximiliana " + "Featherstonehaugh-" * 10 + "Smythe"
    booking = factories.BookingFactory(
        session=session, contact=factories.ContactFactory(first_name=long, last_name="X")
    )

    row = row_html(desk_client.get(url(session)).content.decode(), booking)

    assert f'<a class="name-link" href="{reverse("customer_card", args=[booking.contact.pk])}" title="{long} X' in row
    assert f'<strong class="name">{long} X</strong>' in row


# --- the refresh while rows wait for Wix: only what changed (issue 10, items 1 and 16) ----------------

REFRESH = {"HX-Request": "true", "HX-Trigger": "roster-rows"}
STAMP = re.compile(r'<tbody id="roster-row-(\d+)" data-version="(\d+)" data-digest="([\w-]+)"')


def page_rows(content: str) -> str:
    """What the page's refresh sends of its rows (``X-Roster-Rows``): "pk.digest,…"."""
    return ",".join(f"{pk}.{digest}" for pk, _, digest in STAMP.findall(content))


def versions(content: str) -> dict[int, int]:
    return {int(pk): int(version) for pk, version, _ in STAMP.findall(content)}


def refresh(client, session, rows: str, **query):
    return client.get(url(session), query, headers={**REFRESH, "X-Roster-Rows": rows})


@pytest.fixture
def waiting(session) -> dict[str, Booking]:
    """Three people; Bo's cash waits for Wix."""
    people = {n: person(session, n, f"{n}son") for n in ("Ann", "Cy")}
    people["Bo"] = person(session, "Bo", "Boson", payment_status="PAID", pending_sync=True)
    factories.DeskActionFactory(booking=people["Bo"])
    return people


def _wix_confirms(booking: Booking) -> None:
    DeskAction.objects.filter(booking=booking).update(status=DeskAction.Status.SYNCED)
    DeskAction.refresh_pending(booking.pk)


def test_a_refresh_when_nothing_changed_is_204_and_empty(desk_client, session, waiting):
    rows = page_rows(desk_client.get(url(session)).content.decode())

    response = refresh(desk_client, session, rows)

    assert response.status_code == 204 and response.content == b""


def test_a_refresh_sends_only_the_rows_that_changed_out_of_band_with_the_counts(desk_client, session, waiting):
    full = desk_client.get(url(session)).content.decode()
    _wix_confirms(waiting["Bo"])

    response = refresh(desk_client, session, page_rows(full))

    assert response.status_code == 200 and response.headers["HX-Reswap"] == "none"
    content = response.content.decode()
    assert content.lstrip().startswith(f'<tbody hx-swap-oob="true" id="roster-row-{waiting["Bo"].pk}" data-version=')
    assert content.count("<tbody") == 1
    assert "waiting for Wix" not in content and "Bo Boson" in content
    assert '<p id="roster-count" hx-swap-oob="true"' in content and "3 booked" in content
    assert '<span id="head-count" class="head-count" title="Checked in / booked" hx-swap-oob="true">' in content
    assert 'id="roster-rows"' not in content


def test_a_refresh_sends_the_whole_list_when_someone_came_or_went(desk_client, session, waiting):
    rows = page_rows(desk_client.get(url(session)).content.decode())
    person(session, "Di", "Dunn")

    came = refresh(desk_client, session, rows)
    Booking.objects.filter(pk=waiting["Ann"].pk).update(status="CANCELED")
    went = refresh(desk_client, session, page_rows(came.content.decode()))

    for response in (came, went):
        assert response.status_code == 200 and "HX-Reswap" not in response.headers
        assert response.content.decode().lstrip().startswith('<section id="roster-rows"')
    assert "Di Dunn" in came.content.decode() and "Ann Annson" not in went.content.decode()


def test_a_refresh_keeps_to_the_search(desk_client, session, waiting):
    found = desk_client.get(url(session), {"q": "boson"}, headers={"HX-Request": "true"}).content.decode()
    assert page_rows(found).count(".") == 1

    assert refresh(desk_client, session, page_rows(found), q="boson").status_code == 204
    _wix_confirms(waiting["Bo"])
    assert "waiting for Wix" not in refresh(desk_client, session, page_rows(found), q="boson").content.decode()


@pytest.mark.parametrize(
    "rows", ["garbage", "1.", ".abc", "x.abcdefgh", "1.abcdefgh,1.abcdefgh", "1" * 30 + ".abcdefgh", "1.ab cd"]
)
def test_a_refresh_with_rows_it_cannot_read_gets_the_whole_list(desk_client, session, waiting, rows):
    response = refresh(desk_client, session, rows)

    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section id="roster-rows"')


def test_a_page_load_ignores_the_rows_header(desk_client, session, waiting):
    rows = page_rows(desk_client.get(url(session)).content.decode())

    response = desk_client.get(url(session), headers={"X-Roster-Rows": rows})

    assert response.status_code == 200 and "<html" in response.content.decode()
    assert "X-Roster-Rows" in response.headers["Vary"]


def test_a_row_answer_is_newer_than_a_refresh_read_before_it(desk_client, session, waiting):
    """The page keeps a row answer over an older refresh's row (static/js/app.js compares the
    rows' versions): a tap's answer is always read after the tap, so it is newer than any
    refresh read before it."""
    ann = waiting["Ann"]
    before = versions(desk_client.get(url(session), headers={"HX-Request": "true"}).content.decode())

    answer = desk_client.post(
        reverse("desk_pay", args=[session.ref, ann.pk]),
        {"method": "CASH", "idempotency_key": "k" * 20},
        headers={"HX-Request": "true"},
    )
    after = versions(refresh(desk_client, session, "").content.decode())

    assert before[ann.pk] < versions(answer.content.decode())[ann.pk] < after[ann.pk]


def test_the_refresh_costs_no_more_queries_than_the_whole_list_whatever_the_size(client, desk_user):
    counts = []
    for size in (10, 100):
        session = factories.SessionFactory(start=START)
        _fill(session, size)
        client.force_login(desk_user)
        rows = page_rows(client.get(url(session)).content.decode())
        with CaptureQueriesContext(connection) as ctx:
            assert refresh(client, session, rows).status_code == 204
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] <= _roster_queries(client, desk_user, session, htmx=True)


def test_the_roster_goes_gzipped_to_a_browser_that_takes_it(desk_client, session, waiting):
    import gzip

    plain = desk_client.get(url(session), headers={"HX-Request": "true"})
    packed = desk_client.get(url(session), headers={"HX-Request": "true", "Accept-Encoding": "gzip, deflate, br"})

    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.content) < len(plain.content) / 3
    assert "Bo Boson" in gzip.decompress(packed.content).decode()


def test_each_name_opens_the_customer_card(desk_client, session):
    ann = person(session, "Ann", "Archer")
    bo = person(session, "Bo", "Baker")

    content = desk_client.get(url(session)).content.decode()

    for booking in (ann, bo):
        card = reverse("customer_card", args=[booking.contact.pk])
        assert f'<a class="name-link" href="{card}"' in row_html(content, booking)


# --- the dense roster: order, letters, names on buttons, one line each (issue 10, item 11) ---------


def names_in_order(content: str, names: list[str]) -> list[str]:
    """``names`` in the order the page shows them."""
    return sorted((n for n in names if f">{n}</strong>" in content), key=lambda n: content.index(f">{n}</strong>"))


@pytest.fixture
def mixed(session) -> dict[str, Booking]:
    """Ann paid and in (second to arrive), Bo owes and is not in, Cy owes and is in (first to
    arrive), Di paid and not in, Ed's payment refused by Wix; Gone cancelled."""
    people = {
        "Ann": person(session, "Ann", "Archer", payment_status="PAID"),
        "Bo": person(session, "Bo", "Baker"),
        "Cy": person(session, "Cy", "Cole"),
        "Di": person(session, "Di", "Dunn", payment_status="PAID"),
        "Ed": person(session, "Ed", "Eve"),
        "Gone": person(session, "Gone", "Away", status="CANCELED"),
    }
    factories.AttendanceFactory(booking=people["Cy"], session=session)
    factories.AttendanceFactory(booking=people["Ann"], session=session)
    factories.DeskActionFactory(booking=people["Ed"], status="NEEDS_ATTENTION", message="Wix said no.")
    return people


NAMES = ["Gone Away", "Ann Archer", "Bo Baker", "Cy Cole", "Di Dunn", "Ed Eve"]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("surname", ["Ann Archer", "Gone Away", "Bo Baker", "Cy Cole", "Di Dunn", "Ed Eve"]),
        # who is in, as they came; then everyone else as they booked
        ("arrival", ["Cy Cole", "Ann Archer", "Bo Baker", "Di Dunn", "Ed Eve", "Gone Away"]),
        # refused by Wix; owes, not in; owes, in; paid, not in; done; cancelled
        ("status", ["Ed Eve", "Bo Baker", "Cy Cole", "Di Dunn", "Ann Archer", "Gone Away"]),
    ],
)
def test_the_roster_comes_in_the_order_asked_for(desk_client, session, mixed, sort, expected):
    page = desk_client.get(url(session), {"sort": sort, "cancelled": "1"}).content.decode()
    partial = desk_client.get(url(session), {"sort": sort, "cancelled": "1"}, headers={"HX-Request": "true"})

    assert names_in_order(page, NAMES) == expected
    assert names_in_order(partial.content.decode(), NAMES) == expected
    assert f'<option value="{sort}" selected>' in page  # the control keeps its state
    assert page.count(" selected>") == 1


@pytest.mark.parametrize("sort", ["", "nonsense", "SURNAME", "status ", "x" * 5000, "../status"])
def test_a_sort_it_does_not_know_is_the_usual_order_never_an_error(desk_client, session, mixed, sort):
    for headers in ({}, {"HX-Request": "true"}):
        response = desk_client.get(url(session), {"sort": sort}, headers=headers)

        assert response.status_code == 200
        assert names_in_order(response.content.decode(), NAMES) == NAMES[1:]
    assert '<option value="surname" selected>' in desk_client.get(url(session), {"sort": sort}).content.decode()


def test_a_nul_in_the_query_is_refused_with_a_400_saying_so(desk_client, session, mixed):
    """No field keeps a NUL byte (PostgreSQL refuses one): refused before the view (middleware.NulGuard)."""
    page = desk_client.get(url(session), {"sort": "arrival\x00"})
    fragment = desk_client.get(url(session), {"q": "a\x00b"}, headers={"HX-Request": "true"})

    assert page.status_code == 400 and "a NUL byte" in page.content.decode() and "<html" in page.content.decode()
    assert fragment.status_code == 400 and fragment.content.decode().startswith("This request holds a character")


def test_the_refresh_and_check_in_all_keep_the_order(desk_client, session, mixed):
    by_status = ["Ed Eve", "Bo Baker", "Cy Cole", "Di Dunn", "Ann Archer"]
    person(session, "Al", "Adams")  # someone came: the refresh sends the whole list, still in order

    refreshed = desk_client.get(url(session), {"sort": "status"}, headers={**REFRESH, "X-Roster-Rows": "1.abcdefgh"})
    checked_in = desk_client.post(
        reverse("desk_check_in_all", args=[session.ref]),
        {"idempotency_key": "k" * 20, "q": "", "sort": "status"},
        headers={"HX-Request": "true"},
    )

    assert names_in_order(refreshed.content.decode(), [*by_status, "Al Adams"]) == [
        "Ed Eve",
        "Al Adams",  # owes, not in: Adams before Baker
        "Bo Baker",
        "Cy Cole",
        "Di Dunn",
        "Ann Archer",
    ]
    assert checked_in.status_code == 200
    # all in now: who owes, then who is done (Ed's refused payment first)
    assert names_in_order(checked_in.content.decode(), [*by_status, "Al Adams"])[0] == "Ed Eve"
    assert names_in_order(checked_in.content.decode(), [*by_status, "Al Adams"])[-2:] == ["Ann Archer", "Di Dunn"]


def test_arrival_costs_one_query_more_and_the_others_none(client, desk_user):
    session = factories.SessionFactory(start=START)
    _fill(session, 20)
    client.force_login(desk_user)
    counts = {}
    for sort in ("surname", "status", "arrival"):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url(session), {"sort": sort}).status_code == 200
        counts[sort] = len(ctx.captured_queries)

    assert counts["surname"] == counts["status"] == counts["arrival"] - 1


def test_the_letters_lead_to_the_first_surname_under_each(desk_client, session):
    people = [
        person(session, "Ann", "Archer"),
        person(session, "Al", "Adams"),
        person(session, "Ana", "de Vries"),
        person(session, "Oona", "Ó'Brien"),
        person(session, "Nine", "9th"),
        person(session, "No", ""),
    ]

    content = desk_client.get(url(session)).content.decode()

    strip = content[
        content.index('<nav class="letters"') : content.index("</nav>", content.index('<nav class="letters"'))
    ]
    found = re.findall(r'<a href="#letter-(.)" data-letter="\1"', strip)
    assert found == ["A", "D", "O", "#"]  # the others are shown, not links
    assert '<span aria-hidden="true">B</span>' in strip and strip.count("<span") == 23
    rows = {b.contact.last_name: row_html(content, b) for b in people}
    assert 'id="letter-A"' in rows["Adams"] and 'id="letter-A"' not in rows["Archer"]
    assert 'id="letter-D"' in rows["de Vries"] and 'id="letter-O"' in rows["Ó'Brien"]
    assert content.count('id="letter-#"') == 1
    letters = dict(re.findall(r'<tbody id="roster-row-(\d+)"[^>]*data-letter="(.)"', content))
    assert [letters[str(b.pk)] for b in people] == ["A", "A", "D", "O", "#", "#"]


def test_a_search_shows_only_the_letters_it_found(desk_client, session):
    person(session, "Ann", "Archer")
    person(session, "Bo", "Baker")

    content = desk_client.get(url(session), {"q": "baker"}, headers={"HX-Request": "true"}).content.decode()

    assert re.findall(r'<a href="#letter-(.)"', content) == ["B"]


def _buttons(html: str) -> list[str]:
    return re.findall(r"<(?:button|summary|a)\b[^>]*>", html)


def test_every_control_of_a_row_names_its_person(manager_client, session):
    owes = person(session, "Bo", "Baker", payment_status="UNDEFINED")
    member = factories.MemberFactory(contact=owes.contact)
    for credits in ("3", "7"):
        factories.BenefitBalanceFactory(
            member=member, remaining_credits=Decimal(credits), covered_service_ids=[session.service.wix_id]
        )
    refused = person(session, "Cy", "Cole")
    factories.DeskActionFactory(booking=refused, kind="PLAN_CHARGE", status="NEEDS_ATTENTION", params={})
    undoable = person(session, "Di", "Dunn")
    factories.DeskActionFactory(booking=undoable, run_after=timezone.now() + timedelta(seconds=30))
    paid = person(session, "Ed", "Eve", payment_status="PAID")
    factories.DeskActionFactory(booking=paid, status="SYNCED")
    factories.AttendanceFactory(booking=paid, session=session, status=Attendance.Status.NOT_ATTENDED)

    content = manager_client.get(url(session)).content.decode()

    for booking in (owes, refused, undoable, paid):
        name = booking.contact.full_name
        row = whole_row(content, booking)
        controls = [c for c in _buttons(row) if 'class="name-link"' not in c]  # the name link is the name
        assert len(controls) >= 4
        unnamed = [c for c in controls if 'aria-label="' not in c or name not in c]
        assert unnamed == [], name
        assert f'aria-label="More actions for {name}"' in row
    assert 'aria-label="Check in Bo Baker">Check in</button>' in content
    assert 'aria-label="Plan · 3 left for Bo Baker"' in content and 'aria-label="Plan · 7 left for Bo Baker"' in content
    assert 'aria-label="Take cash instead for Cy Cole"' in content
    assert 'aria-label="Undo payment for Di Dunn"' in content
    assert 'aria-label="Record a refund for Ed Eve…"' in content
    assert 'aria-label="Check in Ed Eve">Check in</button>' in content  # a no-show who came after all
    change = reverse("booking_change", args=[session.ref, owes.pk])
    assert f'href="{change}" aria-label="Reschedule or cancel the booking of Bo Baker…"' in content


def test_a_booking_in_a_package_says_which_of_the_package_it_is_and_links_to_it(desk_client):
    item = factories.PackageItemFactory(position=2, service__name="Facial")
    factories.PackageItemFactory(package=item.package, position=1, service__name="Massage")
    factories.PackageItemFactory(package=item.package, position=3, service__name="Manicure")
    item.booking.session = factories.SessionFactory(service=item.service, start=START)
    item.booking.save()

    row = whole_row(desk_client.get(url(item.booking.session)).content.decode(), item.booking)

    link = reverse("package", args=[item.package.pk])
    name = item.booking.contact.full_name
    assert f'href="{link}" title="Massage → Facial → Manicure"' in row
    assert f'aria-label="Package 2/3 of {name}: Massage, Facial, Manicure">Package 2/3</a>' in row


def test_a_name_with_markup_is_escaped_in_every_accessible_name(desk_client, session):
    booking = factories.BookingFactory(
        session=session, contact=factories.ContactFactory(first_name='<b>"Al"</b>', last_name="O'Neil & Co")
    )

    row = row_html(desk_client.get(url(session)).content.decode(), booking)

    assert "<b>" not in row
    assert 'aria-label="Check in &lt;b&gt;&#34;Al&#34;&lt;/b&gt; O&#39;Neil &amp; Co"' in row


def test_each_row_is_one_line_and_a_second_only_for_what_wix_refused(desk_client, session):
    plain = [person(session, n, "Plain") for n in ("Ann", "Bo")]
    done = person(session, "Cy", "Done", payment_status="PAID")
    factories.AttendanceFactory(booking=done, session=session)
    refused = person(session, "Di", "Refused")
    factories.DeskActionFactory(booking=refused, status="NEEDS_ATTENTION", message="Wix said no.")

    content = desk_client.get(url(session)).content.decode()

    for booking in (*plain, done):
        row = whole_row(content, booking)
        assert row.count("<tr") == 1
    row = whole_row(content, refused)
    assert row.count("<tr") == 2 and '<tr class="extra">' in row
    extra = row[row.index('<tr class="extra">') :]
    # in sight, not in the menu
    assert "Wix said no." in extra and 'value="retry"' in extra and 'value="remove"' in extra


def test_the_roster_opens_with_a_skip_link_to_the_rows(desk_client, session):
    person(session, "Ann", "Archer")

    content = desk_client.get(url(session)).content.decode()

    body = content[content.index("<body") :]
    first_control = re.search(r"<(a|button|input|select|summary)\b[^>]*>", body[body.index(">") :]).group(0)
    assert first_control == '<a class="skip-link" href="#roster-rows">'  # the first thing Tab reaches
    assert '<section id="roster-rows" aria-live="polite" tabindex="-1"' in content
    assert '<a class="skip-link" href="#main">Skip to content</a>' in desk_client.get(reverse("today")).content.decode()


def test_whatever_wix_or_staff_wrote_is_escaped_on_the_row(desk_client, session):
    """The row's line is drawn without autoescape for speed (templates/jinja2/roster/row.html):
    every value that can hold anything — names, Wix's statuses, money, plan and order names — is
    escaped where it is written."""
    evil = "<b>x</b>"
    booking = factories.BookingFactory(
        session=session,
        contact=factories.ContactFactory(first_name=evil, last_name=evil, phone=evil, email="a@example.com"),
        payment_status="<i>",
        status="<u>",
    )
    factories.BenefitBalanceFactory(
        member=factories.MemberFactory(contact=booking.contact),
        name=evil,
        remaining_credits=Decimal("5"),
        covered_service_ids=[session.service.wix_id],
    )
    Booking.objects.filter(pk=booking.pk).update(status="CONFIRMED")  # live again, to be offered the plan
    other = person(session, "Bo", "Baker")
    order = factories.OrderLineItemFactory(
        booking=booking, order__balance=Decimal("3"), order__currency="<s>", order__number=evil
    ).order
    factories.OrderLineItemFactory(booking=other, order=order)  # a shared order: its number is shown

    content = desk_client.get(url(session)).content.decode()

    row = whole_row(content, booking)
    assert "<b>" not in row and "<i>" not in row and "<s>" not in row
    assert "&lt;b&gt;x&lt;/b&gt; &lt;b&gt;x&lt;/b&gt;" in row  # the name
    assert 'title="&lt;b&gt;x&lt;/b&gt;"' in row  # the plan's name
    assert "<S>" not in row and "Cash 3.00 &lt;S&gt;" in row  # the currency
    assert "order &lt;b&gt;x&lt;/b&gt;" in row  # the order number
    assert "&lt;i&gt;" in row  # Wix's payment status, shown as it came
