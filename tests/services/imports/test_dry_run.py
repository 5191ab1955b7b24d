"""The dry run (``services/imports/dry_run.py``, ``checks.py``, ``cells.py``): each row matched against
the mirror — customers by email, then phone, then exact name; sessions; room and plan credits counting
the file's own earlier rows; amounts; what is already there — every error with its row and column, and
the diff of what the commit would create. Nothing changes."""

from __future__ import annotations

import pytest

from bookings_app.models import Booking, Contact, DeskAction, ImportRow, ParticipantImport
from bookings_app.services import desk
from bookings_app.services.imports import dry_run
from bookings_app.services.imports.sheet import ImportRefused
from tests.services.conftest import key
from tests.services.imports.helpers import ImportWorld, checked, csv_bytes, uploaded

pytestmark = pytest.mark.django_db


def rows_of(imported: ParticipantImport) -> list[ImportRow]:
    return list(imported.rows.order_by("number"))


def verdicts(imported: ParticipantImport) -> list[tuple[str, str]]:
    return [(r.state, f"{r.column}: {r.message}" if r.column else r.message) for r in rows_of(imported)]


def test_customers_are_found_by_email_then_phone_then_exact_name(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    amy, bo, cy = w.customer("Amy"), w.customer("Bo"), w.customer("Cy", "Stone")
    w.mirror(amy, bo, cy)
    Contact.objects.filter(wix_id=bo["contact"]["id"]).update(phone="07700 900111", search_phone="07700900111")
    rows = [
        iw.row(amy, first="Someone", last="Else"),  # the email decides, whatever the name says
        iw.row(first="Bo", last="Swimmer", email="", phone="+07700-900111"),  # phone: digits compared
        iw.row(first="cy", last="STONE", email=""),  # exact name, any capitals
    ]

    imported = checked(desk_user, csv_bytes(rows))

    found = [r.contact_id for r in rows_of(imported)]
    assert found == [w.contact(amy).pk, w.contact(bo).pk, w.contact(cy).pk]
    assert [r.state for r in rows_of(imported)] == [ImportRow.State.PLANNED] * 3


def test_two_customers_a_row_could_be_is_an_error_naming_both(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    one, two = w.customer("Sam", "Lee"), w.customer("Sam", "Lee")
    w.mirror(one, two)

    imported = checked(desk_user, csv_bytes([iw.row(first="Sam", last="Lee", email="")]))

    ((state, message),) = verdicts(imported)
    assert state == ImportRow.State.INVALID
    assert message.startswith("A “First name”: 2 customers have this name: Sam Lee (sam.lee.")
    assert "Add the email (or phone) that tells them apart." in message


def test_someone_unknown_is_an_error_unless_new_customers_are_allowed(iw: ImportWorld, desk_user) -> None:
    iw.w.mirror()
    rows = [
        iw.row(first="Nia", last="New", email="nia@example.net", paid="cash"),
        iw.row(first="Nia", last="New", email="NIA@example.net", event=iw.w.event),
    ]  # the same person again

    refused = checked(desk_user, csv_bytes(rows))
    allowed = checked(desk_user, csv_bytes(rows), allow_new=True)

    assert verdicts(refused)[0] == (
        "INVALID",
        "C “Email”: Nia New is not a customer yet (no match by email, phone or name). Tick “Add people who aren't "
        "customers yet” to add them, or fix the email.",
    )
    first, second = rows_of(allowed)
    assert first.plan["new_contact"]["email"] == "nia@example.net" and second.plan["same_as_row"] == 2
    assert allowed.diff["contacts"] == 1 and allowed.diff["bookings"] == 2


def test_unknown_classes_days_and_times_say_what_there_is(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    amy = w.customer("Amy")
    w.mirror(amy)
    wrong_time = iw.row(amy)
    wrong_time[6] = "19:30"
    rows = [iw.row(amy, service="Open Water Swimm"), wrong_time, iw.row(amy, event=None)]

    imported = checked(desk_user, csv_bytes(rows))

    misspelt, at_another_time, no_date = verdicts(imported)
    assert misspelt[1].startswith(
        "E “Class”: There is no class or course called “Open Water Swimm”. Did you mean “Open Water Swim”?"
    )
    assert at_another_time[1].startswith("G “Time”: There is no Open Water Swim session on ")
    assert at_another_time[1].endswith("at 19:30. That day it starts at 07:00.")
    assert no_date[1] == "F “Date”: The date is missing: Open Water Swim runs on many days."


@pytest.mark.parametrize("written", ["{:%d/%m/%Y}", "{:%Y-%m-%d}", "{:%d %b %Y}", "{:%-d/%-m/%y}", "{:%d.%m.%Y}"])
def test_dates_in_several_formats_find_the_same_session(iw: ImportWorld, desk_user, written: str) -> None:
    from datetime import datetime

    w = iw.w
    amy = w.customer("Amy")
    w.mirror(amy)
    row = iw.row(amy)
    row[5] = written.format(datetime.fromisoformat(iw.yesterday["start"]["localDate"]))

    imported = checked(desk_user, csv_bytes([row]))

    assert rows_of(imported)[0].plan["session"] == w.session(iw.yesterday).pk


def test_a_full_session_counts_the_files_own_earlier_rows(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    people = [w.customer(f"P{i}") for i in range(4)]
    w.mirror(*people)
    session = w.session(iw.yesterday)
    session.capacity = 3
    session.save(update_fields=["capacity"])
    desk.walk_in_create(user=desk_user, contact=w.contact(people[0]), session=session, idempotency_key=key())

    imported = checked(desk_user, csv_bytes([iw.row(p) for p in people[1:]]))

    assert [s for s, _ in verdicts(imported)] == ["PLANNED", "PLANNED", "INVALID"]
    assert verdicts(imported)[2][1] == (
        "E “Class”: The session is full: 3 of 3 places are taken (2 by earlier rows of this file)."
    )


def test_a_plan_pays_while_it_has_credits_counting_the_files_own_earlier_rows(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    bo = w.customer("Bo", credits=1)
    w.mirror(bo)
    rows = [iw.row(bo, paid="plan"), iw.row(bo, paid="10 Swim Pass", event=w.event)]  # the plan's own name

    imported = checked(desk_user, csv_bytes(rows))

    first, second = rows_of(imported)
    assert first.plan["pay"] == {"plan": w.balance(bo).pk, "plan_name": "10 Swim Pass"}
    assert (second.state, second.message) == ("INVALID", "No credits left on 10 Swim Pass.")
    assert imported.diff["plan_charges"] == 1


def test_amounts_must_be_amounts_and_at_most_what_is_due(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    amy, bo, cy, di = (w.customer(n) for n in ("Amy", "Bo", "Cy", "Di"))
    w.mirror(amy, bo, cy, di)
    rows = [
        iw.row(amy, paid="cash", amount="20"),
        iw.row(bo, paid="card", amount="twelve"),
        iw.row(cy, paid="cheque", amount="£7.50"),  # part of the price: fine
        iw.row(di, paid="bitcoin"),
    ]

    imported = checked(desk_user, csv_bytes(rows))

    too_much, not_amount, part, bitcoin = verdicts(imported)
    assert too_much == ("INVALID", "I “Amount”: £12.00 is due; the row says £20.00.")
    assert not_amount == ("INVALID", "I “Amount”: “twelve” is not an amount. Write it as 12 or 12.50.")
    assert part[0] == "PLANNED" and rows_of(imported)[2].plan["pay"] == {"method": "CHECK", "amount": "7.50"}
    assert bitcoin[1] == ("H “Paid”: “bitcoin” is not a way to pay: write cash, card, cheque, plan, online or unpaid.")


def test_repeated_rows_formulas_long_cells_and_wrong_words_are_errors_of_their_column(
    iw: ImportWorld, desk_user
) -> None:
    w = iw.w
    amy = w.customer("Amy")
    w.mirror(amy)
    rows = [
        iw.row(amy, paid="cash", attended="yes"),
        iw.row(amy, paid="cash", attended="yes"),
        iw.row(first='=HYPERLINK("http://x")', last="Y", email="x@example.net"),
        iw.row(amy, first="A" * 5000),
        iw.row(amy, attended="maybe"),
        iw.row(amy, email="amy@", paid="cash"),
    ]

    messages = [m for _, m in verdicts(checked(desk_user, csv_bytes(rows)))]

    assert messages[1] == "It repeats row 2: delete one of the two."
    assert messages[2] == 'A “First name”: “=HYPERLINK("http://x")” looks like a spreadsheet formula, not a name.'
    assert messages[3] == "A “First name”: This cell is 1,000 characters long; at most 200 are read here."
    assert messages[4] == "K “Attended”: “maybe” is not yes or no."
    assert messages[5] == "C “Email”: “amy@” is not an email address."


def test_what_is_there_already_is_not_made_again_and_a_row_with_nothing_left_is_already_done(
    iw: ImportWorld, desk_user
) -> None:
    w = iw.w
    amy, bo = w.customer("Amy"), w.customer("Bo")
    w.mirror(amy, bo)
    session = w.session(iw.yesterday)
    booking = desk.walk_in_create(user=desk_user, contact=w.contact(amy), session=session, idempotency_key=key())
    desk.payment_record(
        user=desk_user, booking=booking, method="CASH", amount=booking.service.price, idempotency_key=key()
    )
    desk.attendance_mark(user=desk_user, booking=booking, status="ATTENDED", idempotency_key=key())
    bo_booking = desk.walk_in_create(user=desk_user, contact=w.contact(bo), session=session, idempotency_key=key())

    imported = checked(
        desk_user, csv_bytes([iw.row(amy, paid="cash", attended="yes"), iw.row(bo, paid="cash", attended="yes")])
    )

    amy_row, bo_row = rows_of(imported)
    assert amy_row.state == "SKIP" and amy_row.plan["notes"] == ["already booked", "already paid", "already checked in"]
    assert (
        bo_row.state == "PLANNED"
        and bo_row.plan["booking"] == bo_booking.pk
        and bo_row.plan["notes"] == ["already booked"]
    )
    assert imported.diff["bookings"] == 0 and imported.diff["skip"] == 1


def test_other_refusals_appointments_enrolment_check_ins_and_online(iw: ImportWorld, desk_user) -> None:
    from tests.services.conftest import add_appointments

    w = iw.w
    add_appointments(w)
    amy = w.customer("Amy")
    w.mirror(amy)
    rows = [
        iw.row(amy, service="Sports Massage"),
        iw.row(amy, service="Learn to Swim", event=None, paid="unpaid"),  # an enrolment: fine
        iw.row(amy, event=w.event, attended="yes"),  # tomorrow
        iw.row(amy, paid="online"),
    ]

    (massage, enrolment, tomorrow, online) = verdicts(checked(desk_user, csv_bytes(rows)))

    assert massage[1] == "E “Class”: Sports Massage is an appointment: book appointments at the desk."
    assert enrolment[0] == "PLANNED"
    assert tomorrow[1].startswith("K “Attended”: ") and tomorrow[1].endswith(
        "hasn't happened yet: leave “attended” empty."
    )
    assert online[1] == "H “Paid”: It says paid online, but £12.00 is due in Wix: write how they paid, or “unpaid”."


def test_the_diff_counts_what_the_commit_would_make_and_nothing_changes(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    people = [w.customer(f"P{i}") for i in range(6)]
    bo = w.customer("Bo", credits=5)
    w.mirror(*people, bo)
    rows = [
        iw.row(people[0], paid="cash", attended="yes"),
        iw.row(people[1], paid="card", amount="10", attended="yes"),
        iw.row(people[2], paid="cheque", attended="no"),
        iw.row(people[3], paid="unpaid", attended="yes"),
        iw.row(people[4]),
        iw.row(bo, paid="plan", attended="yes"),
        iw.row(first="Nu", last="Person", email="nu@example.net", paid="cash"),
        iw.row(people[5], email="bad-email"),
    ]
    before = (Contact.objects.count(), Booking.objects.count(), w.calls())

    imported = checked(desk_user, csv_bytes(rows), allow_new=True)

    diff = imported.diff
    assert (diff["planned"], diff["invalid"], diff["skip"]) == (7, 1, 0)
    assert (diff["contacts"], diff["bookings"], diff["payments"], diff["plan_charges"], diff["owes"]) == (1, 7, 4, 1, 1)
    assert diff["by_method"] == {"CASH": 2, "CARD": 1, "CHECK": 1}
    assert diff["amounts"] == {"CASH": "24.00", "CARD": "10", "CHECK": "12.00", "LATER": "12.00"}
    assert (diff["check_ins"], diff["no_shows"]) == (4, 1)
    # ecom: cart + order + Add Payments for 3 payments; cart + order to owe; cart, order, Get Order and Charge
    # Memberships for the plan; Create Contact; the bulk calls shared: 7/40 bookings, 5/8 check-ins, 1/100 …
    assert diff["calls"] == 3 * 3 + 2 + 4 + (1 + 3) + 1
    assert imported.status == "CHECKED" and len(imported.plan_digest) == 32
    assert (Contact.objects.count(), Booking.objects.count(), w.calls()) == before
    assert not DeskAction.objects.exists()


def test_a_mapping_that_cannot_import_anyone_is_refused(iw: ImportWorld, desk_user) -> None:
    imported = uploaded(desk_user, csv_bytes([["a", "b"]], headers=["Notes", "More notes"]))
    with pytest.raises(ImportRefused) as excinfo:
        dry_run.import_check(user=desk_user, imported=imported, mapping={"amount": 0}, allow_new_contacts=False)
    problems = [str(p) for p in excinfo.value.problems]
    assert problems == [
        "Choose the column with the participant's name, email or phone.",
        "Choose the column that says which class or course (or the Wix session id): without it no one can be booked.",
        "An amount needs a column saying how it was paid (cash, card, cheque…): choose “Paid”.",
    ]
    assert ParticipantImport.objects.get().status == "UPLOADED"
