"""The ``--write`` round trip: book, pay and plan-charge a test member into a test service, read
it all back, settle the questions only a real write answers, and undo it (``undo.py``).

Booking 1 is paid in cash: Create Booking (CONFIRMED, OFFLINE) → Cart V2 (create, place order) →
Add Payments → read the order and the booking back. Booking 2 is paid with the member's plan:
Create Booking (MEMBERSHIP) → Cart V2 → Charge Memberships with the plan's pool id (the plan
order id if Wix refuses that) → follow the payment until it leaves PENDING → credits before and
after. Every id goes into ``Made`` the moment Wix gives it, and ``undo_all`` runs in a ``finally``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bookings_app.wix import (
    WixClient,
    WixError,
    WixNotFound,
    WixUnavailable,
    WixValidationError,
    bookings,
    contacts,
    members,
    order_transactions,
    orders,
    services,
    time_slots,
)

from . import cart_order, plan_charge
from .outcome import Answer, Check, CheckReport, Status, describe, judge_error
from .undo import QUIET, Clock, Made, booking_now, undo_all

SECTION = "Test booking (--write)"
SESSION_SEARCH_DAYS = 30


@dataclass(frozen=True)
class WriteTarget:
    service: str  # a service id, or its exact name
    member: str  # a member id, or the member's login email


class StepFailed(Exception):
    """A step failed and said so in the report; the round trip stops (the undo still runs)."""


def run_write(
    wix: WixClient, report: CheckReport, target: WriteTarget, *, time_zone: str, now: datetime, clock: Clock
) -> None:
    made = Made()
    trip = RoundTrip(wix, report, target, made, time_zone=time_zone, now=now, clock=clock)
    try:
        trip.run()
    except StepFailed:
        report.notes.append("The round trip stopped at the failed step; what it had made was undone below.")
    except WixError as err:
        report.add(Check(SECTION, "Round trip", Status.FAILED, f"stopped: {describe(err)}"))
    finally:
        undo_all(wix, report, made, clock)


class RoundTrip:
    def __init__(
        self,
        wix: WixClient,
        report: CheckReport,
        target: WriteTarget,
        made: Made,
        *,
        time_zone: str,
        now: datetime,
        clock: Clock,
    ) -> None:
        self.wix, self.report, self.target, self.made = wix, report, target, made
        self.time_zone, self.now, self.clock = time_zone, now, clock
        self.channel = cart_order.CHANNELS[0]

    # -- the steps -----------------------------------------------------------------------------

    def run(self) -> None:
        service = self.service()
        member, person = self.member()
        entity, where = self.session(service)
        first = self.book(entity, person, "OFFLINE", "Book (pay at the desk)", where)
        order = self.order(first, person, settle=True)
        charge = plan_charge.PlanCharge(self, service, member)
        charge.prepare()
        charge.offline_line(order, first)
        self.pay_cash(first, order)
        self.confirm_or_decline_confirmed(first)
        self.duplicate_contact(person)
        second = self.book(entity, person, "MEMBERSHIP", "Book again (pay with the plan)", where)
        charge.charge(self.order(second, person, settle=False), second)

    def ok(self, name: str, meaning: str) -> None:
        self.report.add(Check(SECTION, name, Status.OK, meaning))

    def fail(self, name: str, problem: str | WixError, todo: str = "") -> StepFailed:
        if isinstance(problem, WixError):
            status, meaning, advice = judge_error(problem, unrouted=None, permission="", area="")
            status = Status.FAILED if status in (Status.UNEXPECTED, Status.ROUTE_MISSING) else status
            self.report.add(Check(SECTION, name, status, describe(problem), todo or advice))
        else:
            self.report.add(Check(SECTION, name, Status.FAILED, problem, todo))
        return StepFailed(name)

    def service(self) -> dict[str, Any]:
        wanted = self.target.service
        found: dict[str, Any] | None = None
        try:
            found = services.get_service(self.wix, service_id=wanted)["service"]
        except (WixNotFound, WixValidationError):
            found = None
        except WixError as err:
            if err.status != 400:
                raise self.fail("Test service", err) from err
        if found is None:
            found = self._service_named(wanted)
        if found is None:
            raise self.fail("Test service", f"no service has the id or the name {wanted!r}.", "Check --service.")
        if found.get("type") not in ("CLASS", "COURSE"):
            raise self.fail(
                "Test service",
                f"{found.get('name')!r} is {found.get('type')}: the check books a class or a course "
                "(an appointment would take a real slot in a staff member's calendar).",
                "Pick a class or course service as --service.",
            )
        self.ok("Test service", f"{found.get('name')} ({found.get('type')}, id {found.get('id')}).")
        return found

    def _service_named(self, name: str) -> dict[str, Any] | None:
        try:
            page = services.query_services(self.wix, query={"filter": {"name": name}, "paging": {"limit": 100}})
        except WixError:
            page = services.query_services(self.wix, query={"paging": {"limit": 100}})
        found = page.get("services") or []
        exact = [s for s in found if s.get("name") == name] or [
            s for s in found if str(s.get("name", "")).casefold() == name.casefold()
        ]
        return exact[0] if exact else None

    def member(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """The member and what a booking and a cart say about them: contact id, names, email."""
        wanted = self.target.member
        try:
            if "@" in wanted:
                page = members.query_members(
                    self.wix, query={"filter": {"loginEmail": wanted}, "paging": {"limit": 10}}, fieldsets=["FULL"]
                )
                found = [
                    m for m in page.get("members") or [] if str(m.get("loginEmail", "")).casefold() == wanted.casefold()
                ]
                member = found[0] if found else None
            else:
                member = members.get_member(self.wix, member_id=wanted, fieldsets=["FULL"])["member"]
        except WixNotFound:
            member = None
        except WixError as err:
            raise self.fail("Test member", err) from err
        if member is None or not member.get("contactId"):
            raise self.fail("Test member", f"no site member has the id or login email {wanted!r}.", "Check --member.")
        contact = contacts.get_contact(self.wix, contact_id=member["contactId"])["contact"]
        name = (contact.get("info") or {}).get("name") or {}
        email = (contact.get("primaryInfo") or {}).get("email") or member.get("loginEmail") or ""
        person = {
            "contactId": member["contactId"],
            "firstName": name.get("first") or "",
            "lastName": name.get("last") or "",
            "email": email,
        }
        self.ok("Test member", f"{person['firstName']} {person['lastName']} <{email}> (member {member['id']}).")
        return member, person

    def session(self, service: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """What the bookings book: the next class session with two free places, or the course."""
        if service.get("type") == "COURSE":
            schedule_id = (service.get("schedule") or {}).get("id")
            if not schedule_id:
                raise self.fail("Next session", "the course has no schedule.", "Check the course in Wix Bookings.")
            self.ok("Next session", f"the course (schedule {schedule_id}).")
            return {"schedule": {"scheduleId": schedule_id, "serviceId": service["id"]}}, "the course"
        local = self.now.strftime("%Y-%m-%dT%H:%M:%S")
        until = (self.now + timedelta(days=SESSION_SEARCH_DAYS)).strftime("%Y-%m-%dT%H:%M:%S")
        try:
            answer = time_slots.list_event_time_slots(
                self.wix,
                from_local_date=local,
                to_local_date=until,
                time_zone=self.time_zone,
                service_ids=[service["id"]],
                include_non_bookable=False,
                min_bookable_capacity=2,
                cursor_paging={"limit": 20},
            )
        except WixError as err:
            raise self.fail("Next session", err) from err
        slot = next(
            (
                s
                for s in answer.get("timeSlots") or []
                if s.get("bookable") and (s.get("eventInfo") or {}).get("eventId")
            ),
            None,
        )
        if slot is None:
            raise self.fail(
                "Next session",
                f"no session in the next {SESSION_SEARCH_DAYS} days has two free places.",
                "Add a session to the test service (or pick another), then run the check again.",
            )
        self.ok("Next session", f"{slot.get('localStartDate')} (event {slot['eventInfo']['eventId']}).")
        entity = {"slot": {"serviceId": service["id"], "eventId": slot["eventInfo"]["eventId"]}}
        return entity, f"the session of {slot.get('localStartDate')}"

    def book(
        self, entity: dict[str, Any], person: dict[str, Any], option: str, name: str, where: str
    ) -> dict[str, Any]:
        booking = {
            "bookedEntity": entity,
            "contactDetails": person,
            "totalParticipants": 1,
            "selectedPaymentOption": option,
            "status": "CONFIRMED",
        }
        try:
            made = bookings.create_booking(
                self.wix, booking=booking, participant_notification=QUIET, send_sms_reminder=False
            )["booking"]
        except WixError as err:
            todo = ""
            if isinstance(err, WixUnavailable) and err.maybe_applied:
                todo = "Wix may have made it all the same: look for the test member's booking and cancel it."
            raise self.fail(name, err, todo) from err
        self.made.bookings.append(made)
        self.ok(name, f"{where}: booking {made['id']}, {made.get('status')}, payment {made.get('paymentStatus')}.")
        return made

    def order(self, booking: dict[str, Any], person: dict[str, Any], *, settle: bool) -> dict[str, Any]:
        """The booking's order through Cart V2 (``cart_order.py``)."""
        return cart_order.booking_order(self, booking, person, settle=settle)

    def pay_cash(self, booking: dict[str, Any], order: dict[str, Any]) -> None:
        amount = ((order.get("priceSummary") or {}).get("total") or {}).get("amount") or "0"
        if Decimal(str(amount)) <= 0:
            self.ok("Cash payment", "the test service is free: no cash taken (use a priced service to test it).")
            return
        payment = {
            "amount": {"amount": str(amount)},
            "regularPaymentDetails": {
                "offlinePayment": True,
                "paymentMethodName": {"userDefinedName": {"predefined": "CASH"}},
            },
            "status": "APPROVED",
        }
        try:
            answer = order_transactions.add_payments(self.wix, order_id=order["id"], payments=[payment])
        except WixError as err:
            raise self.fail("Cash payment", err) from err
        payment_id = (answer.get("paymentsIds") or [""])[0] or self._offline_payment_id(order["id"])
        self.made.cash = (order["id"], payment_id, str(amount))
        paid, waited = self.clock.poll(
            lambda: orders.get_order(self.wix, order_id=order["id"])["order"],
            lambda found: found.get("paymentStatus") == "PAID",
            wait=min(self.clock.wait_seconds, 10),
        )
        status = paid.get("paymentStatus") or ""
        at_once = status == "PAID" and waited < 1
        self.report.answer(
            Answer(
                "Does Add Payments mark the order PAID at once?",
                "yes"
                if at_once
                else (f"after {waited:.0f} s" if status == "PAID" else f"no: {status} after {waited:.0f} s"),
                key="add_payments_paid_at_once",
                value=at_once,
                detail=f"an APPROVED offline payment of {amount} on order {order['id']}",
            )
        )
        self.ok("Cash payment", f"Add Payments {amount}: the order is {status}.")
        if status == "PAID":
            self.follows_order(booking)
        else:
            self.report.unsettled.append(
                f"Does the booking's payment status follow its order? — the order never became PAID ({status})."
            )

    def _offline_payment_id(self, order_id: str) -> str:
        """The cash payment's id when Add Payments did not name it: the order's offline payment."""
        record = order_transactions.list_transactions_for_single_order(self.wix, order_id=order_id)
        payments = (record.get("orderTransactions") or {}).get("payments") or []
        offline = [p for p in payments if (p.get("regularPaymentDetails") or {}).get("offlinePayment")]
        return (offline[-1].get("id") if offline else "") or ""

    def follows_order(self, booking: dict[str, Any]) -> None:
        now, waited = self.clock.poll(
            lambda: booking_now(self.wix, booking["id"]) or {},
            lambda b: b.get("paymentStatus") == "PAID",
            wait=min(self.clock.wait_seconds, 10),
        )
        follows = now.get("paymentStatus") == "PAID"
        self.report.answer(
            Answer(
                "Does the booking's payment status follow its order?",
                "yes: the booking is PAID like its order" + (f" (after {waited:.0f} s)" if waited >= 1 else "")
                if follows
                else f"no: the order is PAID, the booking still {now.get('paymentStatus')} after {waited:.0f} s",
                key="booking_payment_follows_order",
                value=follows,
                detail=f"booking {booking['id']} status {now.get('status')}",
            )
        )
        self.ok("Read the booking back", f"{now.get('status')}, payment {now.get('paymentStatus')}.")

    def confirm_or_decline_confirmed(self, booking: dict[str, Any]) -> None:
        question = "What does Confirm Or Decline do to a booking that is already CONFIRMED?"
        try:
            after = bookings.confirm_or_decline_booking(self.wix, booking_id=booking["id"])["booking"]
        except WixError as err:
            value = f"{err.status} {err.code}"
            self.report.answer(Answer(question, describe(err), key="confirm_or_decline_on_confirmed", value=value))
            return
        status = after.get("status")
        value = "unchanged" if status == "CONFIRMED" else str(status)
        said = "HTTP 200, and it stays CONFIRMED" if value == "unchanged" else f"HTTP 200, and it becomes {status}"
        self.report.answer(Answer(question, said, key="confirm_or_decline_on_confirmed", value=value))

    def duplicate_contact(self, person: dict[str, Any]) -> None:
        if not person.get("email"):
            return
        question = "What does creating a contact with an existing email answer?"
        info = {
            "name": {"first": person["firstName"] or "Wix check", "last": person["lastName"]},
            "emails": {"items": [{"email": person["email"], "tag": "MAIN"}]},
        }
        try:
            made = contacts.create_contact(self.wix, info=info)["contact"]
        except WixError as err:
            key = f"status.{err.code}" if err.code == "DUPLICATE_CONTACT_EXISTS" else "status.duplicate_contact"
            self.report.answer(Answer(question, describe(err), key=key, value=err.status))
            return
        if made.get("id") == person["contactId"]:
            said = "HTTP 200 with the existing contact"
        else:
            self.made.contacts.append(made.get("id") or "(no id)")
            said = "HTTP 200: Wix made a second contact"
        self.report.answer(Answer(question, said, key="status.DUPLICATE_CONTACT_EXISTS", value=200))
