"""The roster as a list: the order of its rows (``?sort=``: by surname, by arrival, or what needs
doing first), the letters it can jump to, and the count line above it. The rows themselves are
``bookings_app.roster_rows``'s; this module orders and counts them, it draws nothing.

The order is the server's, so it holds without JavaScript, and the page's refresh (which sends
the search form along, ``sort`` included) keeps it. A refresh that only sends the rows that
changed leaves them where they are: the list re-sorts when it is drawn whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest

from bookings_app import selectors
from bookings_app.models import Attendance, Booking, DeskAction, Session, normalise_text

if TYPE_CHECKING:
    from bookings_app.roster_rows import RosterRow

# ``?sort=`` → the words on the roster's sort control; the first is the default.
SORTS = {
    "surname": "Surname A–Z",
    "arrival": "Arrival",
    "status": "To do first",
}
DEFAULT_SORT = "surname"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
OTHER_LETTER = "#"  # a surname that starts with no letter A–Z (or no surname)
_PLAIN_LETTERS = frozenset(LETTERS)
_GONE = (Booking.Status.CANCELED, Booking.Status.DECLINED)


def sort_parse(value: str | None) -> str:
    """A ``sort`` value as given, or the default when it is missing or not one of :data:`SORTS`
    (a bad value is no error: the roster simply comes in its usual order)."""
    return value if value in SORTS else DEFAULT_SORT


def sort_from(request: HttpRequest) -> str:
    """The order ``request`` asks for: the roster's ``?sort=``, or the ``sort`` its POSTs carry
    along (check in all and a batch's undo send the search form with them)."""
    return sort_parse(request.GET.get("sort") or request.POST.get("sort"))


def name_letter(last_name: str) -> str:
    """The letter a surname is found under: its first letter as the roster sorts it ("de Vries"
    under D, "Ó'Brien" under O), or ``#``."""
    initial = last_name[:1].upper()
    if initial not in _PLAIN_LETTERS:  # an accent, a space, an apostrophe first: as sorted
        initial = normalise_text(last_name)[:1].upper()
    return initial if initial and initial in LETTERS else OTHER_LETTER


def todo_rank(row: RosterRow) -> int:
    """Where a row goes when the roster shows what needs doing first: what Wix refused, then
    people who owe and are not in yet, who owe and are in (or did not come), who are paid and
    not in yet, who are done; cancelled bookings last."""
    if row.booking.status in _GONE:
        return 5
    if row.desk is not None and row.desk.attention:
        return 0
    owes = row.amount_due is not None
    not_yet = row.attendance == Attendance.Status.NOT_SET
    if owes:
        return 1 if not_yet else 2
    return 3 if not_yet else 4


def rows_sorted(*, rows: list[RosterRow], sort: str, session: Session) -> list[RosterRow]:
    """``rows`` (by surname, as read) in the order ``sort`` asks for; ties keep the surname order.
    "arrival": the checked in first, in the order they were checked in, then everyone else in the
    order they booked — one query more; "status": :func:`todo_rank` (their desk state attached)."""
    if sort == "arrival" and rows:
        arrivals = selectors.roster_arrivals(session=session, booking_ids=[r.booking.pk for r in rows])
        return sorted(
            rows,
            key=lambda r: (0, arrivals[r.booking.pk]) if r.booking.pk in arrivals else (1, r.booking.pk),
        )
    if sort == "status":
        return sorted(rows, key=todo_rank)
    return rows


def letters_mark(rows: list[RosterRow]) -> list[tuple[str, bool]]:
    """The letters to jump to, A–Z (and ``#`` when a surname starts with none), each with whether
    a row is found under it; the first row under each letter, in the rows' order, is marked as
    its ``anchor`` (where the letter's link leads without JavaScript)."""
    seen: set[str] = set()
    for row in rows:
        letter = row.letter
        row.anchor = letter not in seen
        seen.add(letter)
    strip = [(letter, letter in seen) for letter in LETTERS]
    if OTHER_LETTER in seen:
        strip.append((OTHER_LETTER, True))
    return strip


@dataclass(frozen=True)
class RosterCount:
    """The roster's count line, in the terms of the "Booked" figure on Today and in the header:
    people taking a place (confirmed or pending bookings), the bookings they are on, and the rows
    shown that take no place."""

    booked: int  # people, as "Booked"
    bookings: int
    waiting_list: int = 0
    not_confirmed: int = 0
    cancelled: int = 0

    def __str__(self) -> str:
        head = f"{self.booked} booked"
        if self.bookings != self.booked:
            head += f" on {self.bookings} booking{'' if self.bookings == 1 else 's'}"
        rest = [
            f"{n} {words}"
            for n, words in (
                (self.waiting_list, "on the waiting list"),
                (self.not_confirmed, "not confirmed"),
                (self.cancelled, "cancelled"),
            )
            if n
        ]
        return " · ".join([head, *rest])


_MONEY_MOVING = frozenset((*DeskAction.MONEY_KINDS, *DeskAction.REVERSAL_KINDS))


def on_plan_now(row: RosterRow) -> bool:
    """Whether ``row`` counts as paid with a plan, as Today counts it (``selectors.queries.desk_plan_q``):
    a plan charge of the desk's on its way; else, with no other money change of the desk's on its
    way, what the mirror says. Needs the row's desk state (``desk_state_attach``)."""
    live = row.desk.live_kinds if row.desk else set()
    if DeskAction.Kind.PLAN_CHARGE in live:
        return True
    return row.charged_to_plan and not (live & _MONEY_MOVING)


def numbers_from_rows(session: Session, rows: list[RosterRow]) -> Session:
    """Give ``session`` the roster numbers ``selectors.session_get`` would (``booked``,
    ``paid_count``, ``plan_count``, ``written_off_count``, ``unpaid_count``, ``checked_in``,
    ``pending_count``) from
    ``rows``, which must be its whole roster (no search; cancelled rows may be among them) with
    their desk state: the roster loads them anyway, and the seven subqueries of the session's
    own numbers cost a fifth of the roster's time. ``tests/test_roster_list.py`` holds the two to
    the same answers. ``pending_count`` counts the rows given: without cancelled rows, a
    cancellation still on its way to Wix is not among them (the roster only asks it whether a
    batch — check-ins and payments, never cancellations — may still be waiting)."""
    booked = paid = plan = written_off = checked_in = pending = 0
    for row in rows:
        booking = row.booking
        pending += booking.pending_sync
        if booking.status in _GONE:
            continue
        if row.attendance == Attendance.Status.ATTENDED:
            checked_in += row.attendees
        if booking.status not in Booking.ACTIVE_STATUSES:
            continue
        booked += booking.total_participants
        if on_plan_now(row):
            plan += booking.total_participants
        elif booking.payment_status in Booking.SETTLED_PAYMENT_STATUSES:
            paid += booking.total_participants
        elif row.written_off:
            written_off += booking.total_participants
    session.booked, session.paid_count, session.plan_count = booked, paid, plan
    session.written_off_count = written_off
    session.unpaid_count = booked - paid - plan - written_off
    session.checked_in, session.pending_count = checked_in, pending
    return session


def roster_count(rows: list[RosterRow]) -> RosterCount:
    """What ``rows`` (a whole roster, not a search's) count, for the line above them."""
    statuses = [row.booking.status for row in rows]
    return RosterCount(
        booked=sum(row.booking.total_participants for row in rows if row.booking.status in Booking.ACTIVE_STATUSES),
        bookings=sum(status in Booking.ACTIVE_STATUSES for status in statuses),
        waiting_list=statuses.count(Booking.Status.WAITING_LIST),
        not_confirmed=statuses.count(Booking.Status.CREATED),
        cancelled=sum(status in _GONE for status in statuses),
    )
