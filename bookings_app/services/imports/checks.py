"""Each row of a participants' file checked against the mirror: who it is, which session, whether
there is room, how it is paid, the check-in — and what is already there. The dry run runs it over
the whole file (``dry_run``), the commit again over each batch just before it is written
(``release``), so a row is only written if it still holds then.

Rules, in the order a row meets them:

- its cells read (``cells.row_read``); a row repeating an earlier row of the file is refused;
- a row some earlier import already committed (the same content, ``cells.row_key``) is "already
  done" — or refused while that one waits for a decision about what Wix refused;
- the customer: by email, then phone, then exact name (``lookups``); several candidates is an error
  naming them; nobody is a new customer only when the admin allows it (and the row has a first name
  and an email or phone) — and the next row with the same email or phone is that same new customer;
- the session: by its Wix id, or the service (a CLASS: its session that day at that time; a
  COURSE: an enrolment, and with a date the course's session of the check-in); cancelled or
  unknown sessions and appointments are errors;
- room: a new booking must fit in the session (or course), counting the file's own earlier rows;
- money: cash, card or cheque up to what is due (the whole price when no amount is written); a plan
  of theirs covering the service with credit left, counting the file's own earlier rows; "online"
  only for a booking already paid; "unpaid" marks it owed;
- the check-in: of a session that has started (or starts within half an hour).

What is there already is not made again: a booking of that customer in that session, money when
nothing is due, a check-in already recorded. A row with nothing left to do is "already done".
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from bookings_app import money
from bookings_app.models import (
    BenefitBalance,
    Booking,
    Contact,
    ImportRow,
    ParticipantImport,
    Service,
    Session,
    normalise_phone,
)
from bookings_app.models import normalise_text as norm
from bookings_app.services.imports import lookups as lk
from bookings_app.services.imports.cells import METHODS, ONLINE, PLAN, RowInput, cells_of, row_key, row_read

State = ImportRow.State
CHECK_IN_EARLY = timedelta(minutes=30)
LISTED = 8  # names listed in a message
ZERO = Decimal("0")


@dataclass
class Checked:
    """One row checked: refused (INVALID, ``message`` about the field ``about``), SKIP, or PLANNED (``plan``)."""

    number: int
    key: str
    state: str
    message: str = ""
    about: str = ""  # the field the message is about
    plan: dict[str, Any] = field(default_factory=dict)
    contact_id: int | None = None
    booking_id: int | None = None


class Refused(Exception):
    def __init__(self, message: str, field_name: str = "") -> None:
        super().__init__(message)
        self.message, self.about = message, field_name


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def _money(amount: Decimal | None, service: Service) -> str:
    return money.format_money(amount or ZERO, service.currency)


def calls_estimate(plan: dict[str, Any], mode: str) -> float:
    """The Wix calls a planned row should cost, with the bulk calls shared: the fewest the payment
    mode allows (as ``bench/settle_roster.fewest_calls`` counts them)."""
    calls = 1.0 if plan.get("new_contact") else 0.0
    new = plan.get("booking") is None
    if new:
        calls += 1 / 40  # Bulk Create Booking
    pay = plan.get("pay") or {}
    if mode == "ecom":
        order = 2 if new else 0  # Create Cart + Place Order (a booking made before has its order)
        if pay.get("method"):
            calls += order + 1  # Add Payments
        elif pay.get("plan"):
            calls += order + 2 + 1 / 100  # Get Order, Charge Memberships, its status for 100 orders a call
        elif pay.get("later"):
            calls += order
    elif pay:
        calls += (1 if pay.get("plan") else 0) + 1 / 300  # Redeem Benefit; Bulk Confirm Or Decline
    if plan.get("attend"):
        calls += 1 / 8  # Bulk Set Attendance
    return calls


class Checker:
    """Checks rows of one import, chunk by chunk, counting what earlier rows took (room, credits,
    new customers). One checker for the dry run of a whole file; a fresh one for each batch the
    commit releases (the earlier batches are in the mirror by then)."""

    def __init__(self, *, imported: ParticipantImport, mode: str, now: datetime | None = None) -> None:
        self.imported = imported
        self.mapping = imported.mapping
        self.mode = mode
        self.now = now or timezone.now()
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.services: dict[str, list[Service]] = defaultdict(list)
        for service in Service.objects.all():
            self.services[norm(service.name)].append(service)
        self.seen: dict[str, int] = {}  # row key → the first row with it
        self.taken: dict[str, int] = defaultdict(int)  # place → places the file's earlier rows take
        self.credits: dict[int, int] = defaultdict(int)  # balance → credits the file's earlier rows use
        self.booked: dict[tuple[str, str], int] = {}  # (who, place) → the row booking them
        self.new_people: dict[str, tuple[int, dict[str, str]]] = {}  # email / phone → (row, new customer)

    # --- a chunk -----------------------------------------------------------------------------------

    def check(self, rows: list[tuple[int, list[str]]]) -> list[Checked]:
        inputs = [row_read(number, cells_of(values, self.mapping)) for number, values in rows]
        named = {s.pk: s for r in inputs for s in self.services.get(norm(r.service), [])}
        found = lk.lookups_load(rows=inputs, services=named, tz=self.tz)
        earlier = self._earlier([row_key(r) for r in inputs])
        return [self._row(r, found, earlier) for r in inputs]

    def _earlier(self, keys: list[str]) -> dict[str, ImportRow]:
        """Rows of other, committed imports with these keys (the latest of each)."""
        out: dict[str, ImportRow] = {}
        for row in (
            ImportRow.objects.filter(key__in=set(keys), state__in=(State.WAITING, State.DONE, State.FAILED))
            .exclude(participant_import=self.imported)
            .select_related("participant_import")
            .order_by("pk")
        ):
            out[row.key] = row
        return out

    def _row(self, row: RowInput, found: lk.Lookups, earlier: dict[str, ImportRow]) -> Checked:
        key = row_key(row)
        if row.errors:
            return Checked(row.number, key, State.INVALID, " ".join(m for _, m in row.errors), row.errors[0][0])
        first = self.seen.setdefault(key, row.number)
        if first != row.number:
            return Checked(row.number, key, State.INVALID, f"it repeats row {first}: delete one of the two.")
        done = earlier.get(key)
        if done is not None:
            return self._imported_before(row, key, done)
        try:
            return self._plan(row, key, found)
        except Refused as refused:
            return Checked(row.number, key, State.INVALID, refused.message, refused.about)

    def _imported_before(self, row: RowInput, key: str, done: ImportRow) -> Checked:
        where = f"{done.participant_import.file_name}, row {done.number}"
        if done.state == State.FAILED:
            return Checked(
                row.number,
                key,
                State.INVALID,
                f"this very row ({where}) was refused by Wix: {done.message} Retry or remove it on that import first.",
            )
        note = "already imported" if done.state == State.DONE else "already on its way to Wix"
        plan = {**(done.plan or {}), "notes": [f"{note} ({where})"]}
        return Checked(row.number, key, State.SKIP, plan=plan, contact_id=done.contact_id, booking_id=done.booking_id)

    # --- one row -----------------------------------------------------------------------------------

    def _plan(self, row: RowInput, key: str, found: lk.Lookups) -> Checked:
        contact, new_person, same_as = self._customer(row, found)
        service, session, attend_session = self._place(row, found)
        place = lk.session_key(session.pk) if session is not None else lk.course_key(service.pk)
        who = str(contact.pk) if contact else f"new:{same_as or row.number}"
        other = self.booked.get((who, place))
        if other is not None:
            raise Refused(f"row {other} books {row.who} into this {self._what(service)} already.")
        booking = self._booking(contact, place, found) if contact else None
        notes: list[str] = []
        if booking is not None:
            notes.append("already booked")
        else:
            self._room(service, session, place, found)
        pay = self._payment(row, contact, service, booking, found, notes)
        attend = self._attendance(row, service, attend_session, booking, found, notes)
        plan: dict[str, Any] = {
            "who": row.who if contact is None else str(contact),
            "where": self._where(service, session, attend_session),
            "contact": contact.pk if contact else None,
            "new_contact": new_person,
            "same_as_row": same_as,
            "service": service.pk,
            "session": session.pk if session else None,
            "booking": booking.pk if booking else None,
            "pay": pay,
            "attend": attend,
            "notes": notes,
        }
        if contact is not None and booking is not None and not pay and not attend:
            return Checked(row.number, key, State.SKIP, plan=plan, contact_id=contact.pk, booking_id=booking.pk)
        plan["calls"] = calls_estimate(plan, self.mode)
        # Taken by this row, for the rows after it.
        self.booked[(who, place)] = row.number
        if booking is None:
            self.taken[place] += 1
        if pay and pay.get("plan"):
            self.credits[pay["plan"]] += 1
        if new_person:
            for ref in (new_person["email"].casefold(), normalise_phone(new_person["phone"])):
                if ref:
                    self.new_people.setdefault(ref, (row.number, new_person))
        return Checked(
            row.number,
            key,
            State.PLANNED,
            plan=plan,
            contact_id=contact.pk if contact else None,
            booking_id=booking.pk if booking else None,
        )

    def _customer(self, row: RowInput, found: lk.Lookups) -> tuple[Contact | None, dict[str, str] | None, int | None]:
        """(the contact, or the new customer to make, and the earlier row making them)."""
        how, candidates = found.contact_candidates(row)
        column = {"email": "email", "phone": "phone"}.get(how, "name")
        if len(candidates) > 1:
            names = [f"{c} ({c.email or c.phone or 'no email'})" for c in candidates]
            by = {"email": f"the email {row.email}", "phone": f"the phone {row.phone}"}.get(how, "this name")
            raise Refused(
                f"{len(candidates)} customers have {by}: {_listing(names)}. Add the email (or phone) that tells "
                "them apart.",
                column,
            )
        if candidates:
            return candidates[0], None, None
        for ref in (row.email.casefold(), normalise_phone(row.phone)):
            if ref and ref in self.new_people:
                number, person = self.new_people[ref]
                return None, person, number
        if not row.first_name or not (row.email or row.phone):
            what = row.email or row.phone or row.full_name or "this row"
            raise Refused(
                f"no customer matches {what}; a new customer needs a first name and an email or phone.",
                "name" if not row.first_name else "email",
            )
        if not self.imported.allow_new_contacts:
            raise Refused(
                f"{row.who} is not a customer yet (no match by email, phone or name). Tick “Add people who "
                "aren't customers yet” to add them, or fix the email.",
                "email" if row.email else "phone" if row.phone else "name",
            )
        person = {"first_name": row.first_name, "last_name": row.last_name, "email": row.email, "phone": row.phone}
        return None, person, None

    def _place(self, row: RowInput, found: lk.Lookups) -> tuple[Service, Session | None, Session | None]:
        """(the service, the session booked — None for a course —, the session of the check-in)."""
        if row.session_id:
            session = found.sessions_by_wix_id.get(row.session_id)
            if session is None:
                raise Refused(f"Front Desk knows no session with the Wix id “{row.session_id[:60]}”.", "session_id")
            if row.service and norm(row.service) != norm(session.service.name):
                raise Refused(f"that session is {session.service.name}, not {row.service}.", "service")
            self._live(session)
            if session.service.type == Service.Type.COURSE:
                return session.service, None, session
            return session.service, session, session
        service = self._service(row.service)
        if service.type == Service.Type.APPOINTMENT:
            raise Refused(f"{service.name} is an appointment: book appointments at the desk.", "service")
        if service.type == Service.Type.COURSE and row.day is None:
            return service, None, None  # an enrolment
        if row.day is None:
            raise Refused(f"the date is missing: {service.name} runs on many days.", "date")
        sessions = found.sessions_on(service, row.day)
        day = f"{row.day:%a %-d %b %Y}"
        times = [f"{found.local(s.start):%H:%M}" for s in sessions]
        if row.start is not None:
            sessions = [s for s in sessions if found.local(s.start).time().replace(second=0) == row.start]
        if not sessions:
            at = f" at {row.start:%H:%M}" if row.start else ""
            there = f" That day it starts at {', '.join(times)}." if times else self._window_hint(row)
            raise Refused(f"there is no {service.name} session on {day}{at}.{there}", "time" if times else "date")
        if len(sessions) > 1:
            raise Refused(
                f"{service.name} runs {len(sessions)} times on {day} ({', '.join(times)}): give the time.", "time"
            )
        session = sessions[0]
        self._live(session)
        if service.type == Service.Type.COURSE:
            return service, None, session
        return service, session, session

    def _window_hint(self, row: RowInput) -> str:
        today = self.now.astimezone(self.tz).date()
        if row.day and not (today - timedelta(days=7) <= row.day <= today + timedelta(days=60)):
            return (
                " Front Desk holds the sessions from a week ago to two months ahead: older or later ones can't "
                "be imported."
            )
        return ""

    def _service(self, text: str) -> Service:
        if not text:
            raise Refused("the class (or course) is missing.", "service")
        found = self.services.get(norm(text), [])
        if len(found) > 1:
            raise Refused(f"{len(found)} services are called “{text}”: use the Wix session id instead.", "service")
        if found:
            return found[0]
        names = sorted({s.name for group in self.services.values() for s in group if s.type != "APPOINTMENT"})
        close = difflib.get_close_matches(norm(text), list(self.services), n=1, cutoff=0.75)
        message = f"there is no class or course called “{text[:80]}”."
        if close:
            message += f" Did you mean “{self.services[close[0]][0].name}”?"
        if names:
            message += f" They are: {_listing(names)}."
        raise Refused(message, "service")

    def _live(self, session: Session) -> None:
        if session.is_cancelled:
            raise Refused(f"that {session.service.name} session is cancelled.", "date")

    def _booking(self, contact: Contact, place: str, found: lk.Lookups) -> Booking | None:
        booking = found.bookings.get((contact.pk, place))
        if booking is None:
            return None
        if booking.status not in Booking.ACTIVE_STATUSES:
            raise Refused(
                f"{contact} is {booking.get_status_display().lower()} here: sort that out on the roster first.",
                "service",
            )
        refused = found.walk_in_attention.get(booking.pk)
        if refused is not None:
            raise Refused(
                f"{contact}'s booking here was refused by Wix ({refused.message or refused.error_code}): retry or "
                "remove it on the roster first.",
                "service",
            )
        return booking

    def _room(self, service: Service, session: Session | None, place: str, found: lk.Lookups) -> None:
        capacity = session.capacity if session is not None and session.capacity is not None else None
        if capacity is None:
            capacity = service.default_capacity
        if not capacity:
            return
        held, ours = found.taken.get(place, 0), self.taken[place]
        if held + ours + 1 > capacity:
            what = "The course" if session is None else "The session"
            by_file = f" ({ours} by earlier rows of this file)" if ours else ""
            raise Refused(f"{what} is full: {held + ours} of {capacity} places are taken{by_file}.", "service")

    def _payment(
        self,
        row: RowInput,
        contact: Contact | None,
        service: Service,
        booking: Booking | None,
        found: lk.Lookups,
        notes: list[str],
    ) -> dict[str, Any] | None:
        kind = row.payment
        if not kind and not row.payment_text:
            return None
        due = found.dues.get(booking.pk, ZERO) if booking is not None else (service.price or ZERO)
        if row.payment_text:
            wanted = norm(row.payment_text)
            balances = found.balances.get(contact.pk, []) if contact is not None else []
            if not any(norm(b.name) == wanted for b in balances):
                raise Refused(
                    f"“{row.payment_text[:40]}” is not a way to pay: write cash, card, cheque, plan, online or unpaid.",
                    "payment",
                )
            kind, row.plan = PLAN, row.payment_text
        if due <= 0:
            notes.append("already paid" if booking is not None else "free")
            return None
        if kind in METHODS:
            amount = row.amount if row.amount is not None else due
            if amount > due:
                raise Refused(f"{_money(due, service)} is due; the row says {_money(amount, service)}.", "amount")
            return {"method": kind, "amount": str(amount)}
        if kind == PLAN:
            balance = self._balance(row, contact, service, booking, found)
            return {"plan": balance.pk, "plan_name": balance.name}
        if kind == ONLINE:
            raise Refused(
                f"it says paid online, but {_money(due, service)} is due in Wix: write how they paid, or “unpaid”.",
                "payment",
            )
        if booking is not None and (
            booking.payment_status == Booking.PaymentStatus.NOT_PAID or booking.pk in found.later
        ):
            notes.append("already owing")
            return None
        return {"later": str(due)}

    def _balance(
        self, row: RowInput, contact: Contact | None, service: Service, booking: Booking | None, found: lk.Lookups
    ) -> BenefitBalance:
        if contact is None:
            raise Refused(f"{row.who} is a new customer: they have no plan to pay with.", "payment")
        balances = found.balances.get(contact.pk, [])
        if row.plan:
            wanted = norm(row.plan)
            balances = [b for b in balances if norm(b.name) == wanted or wanted in norm(b.name)]
            if not balances:
                raise Refused(f"{contact} has no active plan called “{row.plan[:60]}”.", "plan")
        target = booking or Booking(contact=contact, service=service, total_participants=1)
        problems = [money.plan_problem(target, b, b.member, already_used=self.credits[b.pk]) for b in balances]
        fitting = [b for b, p in zip(balances, problems, strict=True) if p is None]
        if not fitting:
            if balances:
                raise Refused(next(p for p in problems if p)[1], "payment")
            raise Refused(f"{contact} has no plan that covers {service.name}.", "payment")
        return money.best_balance(target, fitting) or fitting[0]

    def _attendance(
        self,
        row: RowInput,
        service: Service,
        session: Session | None,
        booking: Booking | None,
        found: lk.Lookups,
        notes: list[str],
    ) -> dict[str, Any] | None:
        if not row.attended:
            return None
        if session is None:
            raise Refused(f"say which {service.name} session they came to: give its date and time.", "date")
        if session.start > self.now + CHECK_IN_EARLY:
            raise Refused(
                f"{found.local(session.start):%a %-d %b %H:%M} hasn't happened yet: leave “attended” empty.",
                "attended",
            )
        if booking is not None and found.attendance.get((booking.pk, session.pk)) == row.attended:
            notes.append("already checked in" if row.attended == "ATTENDED" else "already a no-show")
            return None
        return {"status": row.attended, "session": session.pk}

    def _where(self, service: Service, session: Session | None, attend: Session | None) -> str:
        shown = session or attend
        if shown is None:
            return f"{service.name} (the course)"
        return f"{service.name} {shown.start.astimezone(self.tz):%a %-d %b %H:%M}"

    def _what(self, service: Service) -> str:
        return "course" if service.type == Service.Type.COURSE else "session"
