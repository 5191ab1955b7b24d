"""Running a course (issue 11 item 4, first half), end to end against the sandbox: a term made with
the builder and pushed, two people booked on the course (a booking of the course's schedule: no
session), both on every session's roster, check-in per session, and the course's one payment shown
on every session's row — paid once, not per session."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from bookings_app import roster_rows, selectors
from bookings_app.models import Attendance, Booking, DeskAction, Session
from bookings_app.services import desk
from tests.services.conftest import key
from tests.services.courses.edit_helpers import booked_online
from tests.services.courses.helpers import CourseWorld
from tests.services.desk.helpers import assert_all_synced

pytestmark = pytest.mark.django_db


def run_course(cw: CourseWorld, desk_user) -> tuple[list[Session], Booking, Booking]:
    """A two-week Tue/Thu term built and pushed; Ann booked online, Ben enrolled at the desk."""
    cw.commit(cw.term(weeks=2))
    cw.world.push()
    sessions = list(Session.objects.filter(service=cw.service()).order_by("start"))
    assert len(sessions) == 4
    ann = booked_online(cw, "Ann")
    ben = cw.world.customer("Ben")
    cw.world.mirror(ben)
    enrolled = desk.walk_in_create(
        user=desk_user, contact=cw.world.contact(ben), session=sessions[0], idempotency_key=key()
    )
    cw.world.push()
    assert_all_synced()
    cw.world.mirror()
    return sessions, cw.world.booking(ann), Booking.objects.get(pk=enrolled.pk)


def names(session: Session) -> list[str]:
    read = selectors.roster_read(session=selectors.session_get(ref=session.ref))
    return [b.contact.first_name for b in read.bookings]


def rows(session: Session) -> dict[str, roster_rows.RosterRow]:
    session = selectors.session_get(ref=session.ref)
    found = roster_rows.desk_state_attach(rows=roster_rows.row_list(session=session), session=session)
    return {r.contact.first_name: r for r in found}


def test_everyone_booked_on_the_course_is_on_every_sessions_roster(cw: CourseWorld, desk_user) -> None:
    sessions, ann, ben = run_course(cw, desk_user)

    assert ann.session is None and ben.session is None  # booked on the course, not on a session
    assert cw.world.wix_booking(ben)["bookedEntity"]["schedule"]["scheduleId"] == cw.course["schedule"]["id"]
    for session in sessions:
        assert sorted(names(session)) == ["Ann", "Ben"]


def test_checking_in_at_the_first_session_leaves_the_second_not_checked_in(cw: CourseWorld, desk_user) -> None:
    sessions, ann, ben = run_course(cw, desk_user)
    first, second = sessions[0], sessions[1]

    desk.attendance_mark(user=desk_user, booking=ann, session=first, status="ATTENDED", idempotency_key=key())
    cw.world.push()
    assert_all_synced()

    assert rows(first)["Ann"].attendance == Attendance.Status.ATTENDED
    assert rows(second)["Ann"].attendance == Attendance.Status.NOT_SET
    assert rows(first)["Ben"].attendance == Attendance.Status.NOT_SET
    in_wix = [a for a in cw.sb.state.all("attendances") if a["bookingId"] == ann.wix_id]
    assert [(a["eventId"], a["status"]) for a in in_wix] == [(first.wix_id, "ATTENDED")]
    # A sync reads it back the same way: attendance belongs to the session, not the booking.
    cw.world.mirror()
    assert rows(first)["Ann"].attendance == Attendance.Status.ATTENDED
    assert rows(second)["Ann"].attendance == Attendance.Status.NOT_SET
    # A no-show is per session too.
    desk.attendance_mark(user=desk_user, booking=ben, session=second, status="NOT_ATTENDED", idempotency_key=key())
    cw.world.push()
    assert rows(second)["Ben"].attendance == Attendance.Status.NOT_ATTENDED
    assert rows(first)["Ben"].attendance == Attendance.Status.NOT_SET
    # Checked in at the second session too: two attendance rows, one per session.
    desk.attendance_mark(user=desk_user, booking=ann, session=second, status="ATTENDED", idempotency_key=key())
    cw.world.push()
    assert Attendance.objects.filter(booking=ann).count() == 2
    assert {a["eventId"] for a in cw.sb.state.all("attendances") if a["bookingId"] == ann.wix_id} == {
        first.wix_id,
        second.wix_id,
    }


def test_a_course_booking_without_a_session_must_say_which_session(cw: CourseWorld, desk_user) -> None:
    _, ann, _ = run_course(cw, desk_user)

    with pytest.raises(desk.BookingError) as excinfo:
        desk.attendance_mark(user=desk_user, booking=ann, status="ATTENDED", idempotency_key=key())

    assert excinfo.value.code == "session_required"
    assert not Attendance.objects.filter(booking=ann).exists()


def test_the_course_is_paid_once_and_every_sessions_row_shows_it(cw: CourseWorld, desk_user) -> None:
    sessions, ann, _ = run_course(cw, desk_user)
    assert {rows(s)["Ann"].amount_due for s in sessions} == {Decimal("96.00")}  # the course's price, once

    desk.payment_record(user=desk_user, booking=ann, method="CASH", amount=Decimal("96"), idempotency_key=key())
    for session in sessions:  # at once, before Wix has it
        row = rows(session)["Ann"]
        assert row.amount_due is None and row.desk.method_labels == ["Cash"]
    cw.world.push()
    assert_all_synced()
    cw.world.mirror()

    for session in sessions:
        row = rows(session)["Ann"]
        assert row.amount_due is None and row.is_settled and row.payment_label == "Paid"
    # Paid once: one payment in Wix, and the desk refuses a second one at another session.
    order = cw.world.wix_order(ann)
    assert order["paymentStatus"] == "PAID"
    assert len(cw.sb.state.get("order_transactions", order["id"])["payments"]) == 1
    with pytest.raises(desk.BookingError) as excinfo:
        desk.payment_record(user=desk_user, booking=ann, method="CASH", amount=Decimal("96"), idempotency_key=key())
    assert excinfo.value.code == "already_paid"
    assert DeskAction.objects.filter(kind=DeskAction.Kind.PAYMENT).count() == 1
    # Settling another session's roster does not ask for the course's money again.
    suggested = {r.booking.contact.first_name: r.resolution for r in desk.settle_suggestions(session=sessions[2])}
    assert suggested["Ann"] == "paid" and suggested["Ben"] != "paid"


def test_every_sessions_roster_page_lists_both_with_their_own_check_in(cw: CourseWorld, desk_user, client) -> None:
    sessions, ann, _ = run_course(cw, desk_user)
    desk.attendance_mark(user=desk_user, booking=ann, session=sessions[0], status="ATTENDED", idempotency_key=key())
    client.force_login(desk_user)

    pages = [client.get(reverse("roster", args=[s.ref])).content.decode() for s in sessions[:2]]

    for page in pages:
        assert "Ann" in page and "Ben" in page
    first, second = (roster_row_html(p, ann) for p in pages)
    assert ">Checked in<" in first and ">Checked in<" not in second


def roster_row_html(page: str, booking: Booking) -> str:
    start = page.index(f'id="roster-row-{booking.pk}"')
    return page[start : page.index("</tbody>", start)]
