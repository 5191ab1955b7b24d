"""Multi-service packages at the front desk: 2–8 appointments back to back at one location for
one customer (massage → facial → manicure), booked and paid in one tap.

* :func:`package_chains` — the start times Wix offers for the services in order on a day
  (List Multi-Service Availability Time Slots), less what the desk booked meanwhile;
* :func:`package_chain_check` — is this exact chain still free in Wix? (asked again when booked);
* :func:`package_book` — local first, like a walk-in: the customer (new or known), one booking per
  service on its own appointment session (at once on Today and the rosters, "waiting for Wix"),
  the :class:`Package`, and one ``PACKAGE`` desk action the worker takes to Wix
  (``services.push.packages``: Create Multi-Service Booking, one cart with every booking as a
  line, one order, one payment for the total — or the plan charged for every line);
* cancelling it, or sending it again after Wix refused it: ``package_changes``.

Raises ``BookingError`` with the codes ``package_size`` (fewer than 2 or more than 8 services),
``package_gap`` (a gap or an overlap), ``package_locations`` (two locations), ``package_service``
(not an appointment service), ``package_invalid`` (times that don't read), ``slot_taken``,
``method_invalid``, ``plan_not_eligible``, ``no_credits``, ``contact_invalid``,
``wix_unreachable``, ``key_reused``, ``duplicate_request``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bookings_app import money, selectors
from bookings_app.models import (
    BenefitBalance,
    Booking,
    Contact,
    DeskAction,
    Package,
    PackageItem,
    Service,
    Session,
    StaffMember,
)
from bookings_app.services import customers, ledger, package_slots
from bookings_app.services.audit import audit_record
from bookings_app.services.errors import BookingError, wix_unreachable
from bookings_app.wix import WixClient, WixError
from bookings_app.wix.dates import wix_local_parse

Kind = DeskAction.Kind
Status = DeskAction.Status
PS = Booking.PaymentStatus
Pay = Package.Pay

PAY_METHODS = (Pay.CASH, Pay.CARD, Pay.CHECK)
PAID_BY = {Pay.CASH: "paid cash", Pay.CARD: "paid by card", Pay.CHECK: "paid by cheque", Pay.PLAN: "charged to plan"}
MAX_LOCATIONS = 5  # locations asked about for one day's proposals


# --- a chain, read and checked ---------------------------------------------------------------------


@dataclass
class ChainItem:
    position: int
    service: Service
    start: datetime
    end: datetime
    resource_id: str
    staff_name: str
    schedule_id: str
    location_id: str

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class ChainRead:
    """A chain (``services.package_slots``) as the desk shows and books it."""

    chain: dict[str, Any]
    items: list[ChainItem]
    location: dict[str, Any]
    timezone: str

    @property
    def start(self) -> datetime:
        return self.items[0].start

    @property
    def end(self) -> datetime:
        return self.items[-1].end

    @property
    def total(self) -> Decimal:
        return sum((item.service.price or Decimal("0") for item in self.items), Decimal("0"))

    @property
    def currency(self) -> str:
        return next((item.service.currency for item in self.items if item.service.currency), "")

    @property
    def services(self) -> list[Service]:
        return [item.service for item in self.items]


def services_check(services: list[Service]) -> None:
    """2 to 8 appointment services. Raises ``package_size`` / ``package_service``."""
    if not Package.MIN_SERVICES <= len(services) <= Package.MAX_SERVICES:
        raise BookingError(
            f"A package has {Package.MIN_SERVICES} to {Package.MAX_SERVICES} services; "
            f"{len(services)} {'is' if len(services) == 1 else 'are'} chosen.",
            code="package_size",
        )
    for service in services:
        if service.type != Service.Type.APPOINTMENT or service.hidden or not service.wix_id:
            raise BookingError(
                f"{service.name} can't be in a package: a package is made of appointment services.",
                code="package_service",
            )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        raise BookingError(f"Unknown time zone {name!r}.", code="package_invalid") from None


def package_chain_read(chain: Any) -> ChainRead:
    """Read and check a chain: 2–8 appointment services, at one location, each starting when the
    one before ends. Raises ``package_invalid``, ``package_size``, ``package_service``,
    ``package_locations``, ``package_gap``."""
    if not isinstance(chain, dict) or not isinstance(chain.get("items"), list):
        raise BookingError(
            "That package is not one the desk offered: choose the start time again.", code="package_invalid"
        )
    raw_items = chain["items"]
    tz = _zone(str(chain.get("timezone") or ""))
    pks = [item.get("service") if isinstance(item, dict) else None for item in raw_items]
    found = Service.objects.in_bulk([pk for pk in pks if isinstance(pk, int)])
    services = [found.get(pk) for pk in pks]
    if any(s is None for s in services):
        raise BookingError("One of the package's services is no longer on this desk.", code="package_invalid")
    services_check(services)  # type: ignore[arg-type]
    items: list[ChainItem] = []
    for position, (item, service) in enumerate(zip(raw_items, services, strict=True), start=1):
        start, end = wix_local_parse(item.get("start"), tz), wix_local_parse(item.get("end"), tz)
        if start is None or end is None or end <= start or item.get("service_id") != service.wix_id:
            raise BookingError(
                "That package is not one the desk offered: choose the start time again.", code="package_invalid"
            )
        items.append(
            ChainItem(
                position=position,
                service=service,  # type: ignore[arg-type]
                start=start,
                end=end,
                resource_id=str(item.get("resource_id") or ""),
                staff_name=str(item.get("staff_name") or ""),
                schedule_id=str(item.get("schedule_id") or ""),
                location_id=str(item.get("location_id") or ""),
            )
        )
    location = chain.get("location") if isinstance(chain.get("location"), dict) else {}
    places = {item.location_id for item in items} | ({location.get("id")} if location.get("id") else set())
    if len(places) > 1:
        raise BookingError(
            "Every service of a package must be at the same location; these are at two.", code="package_locations"
        )
    for before, after in zip(items, items[1:], strict=False):
        if before.end != after.start:
            what = "a gap" if before.end < after.start else "an overlap"
            raise BookingError(
                f"A package runs back to back: {after.service.name} must start at {before.end:%H:%M}, "
                f"when {before.service.name} ends, not at {after.start:%H:%M} ({what}).",
                code="package_gap",
            )
    return ChainRead(chain=chain, items=items, location=location, timezone=str(tz))


# --- what Wix offers ------------------------------------------------------------------------------


def package_chains(*, wix: WixClient, services: list[Service], day: date) -> list[dict[str, Any]]:
    """Start times on ``day`` at which ``services`` fit back to back (in this order) at one of their
    common locations, as chains — less those whose times the desk booked meanwhile. The one desk
    function that asks Wix for them (List Multi-Service Availability Time Slots, one call per
    location). Raises ``package_size``, ``package_service``, ``package_locations`` (no location
    gives them all), ``wix_unreachable``."""
    services_check(services)
    locations = package_slots.common_locations(services)
    if not locations:
        names = ", ".join(s.name for s in services)
        raise BookingError(
            f"{names} are not all given at one location, so they can't be one package.", code="package_locations"
        )
    tz = settings.TIME_ZONE
    chains: list[dict[str, Any]] = []
    for location in locations[:MAX_LOCATIONS]:
        try:
            answer = package_slots.ask(
                wix,
                service_ids=[s.wix_id or "" for s in services],
                location=location,
                timezone=tz,
                from_local=f"{day.isoformat()}T00:00:00",
                to_local=f"{(day + timedelta(days=1)).isoformat()}T00:00:00",
            )
        except WixError as exc:
            raise wix_unreachable(exc, listing="free times") from exc
        chains += package_slots.chains_from(answer, services=services, location=location, timezone=tz)
    chains.sort(key=lambda c: (c["items"][0]["start"], c["location"]["id"]))
    return selectors.package_chains_untaken(chains=chains)


def package_chain_check(*, wix: WixClient, chain: dict[str, Any]) -> bool | None:
    """Whether Wix still offers exactly this chain (its services, times and staff): True / False,
    None when Wix can't be asked (the worker asks again before it books)."""
    try:
        return package_slots.chain_offered(package_slots.chain_slots(wix, chain=chain), chain)
    except WixError:
        return None


def plans_covering(balances: list[BenefitBalance], services: list[Service]) -> list[BenefitBalance]:
    """The plans that can pay for the whole package: active, covering every service, with a credit
    for each (or unlimited). Empty in booking-only payment mode (see :func:`_plan_problem`)."""
    if _payment_mode() != "ecom":
        return []
    return [b for b in balances if _plan_problem(b, services, b.member) is None]


def _payment_mode() -> str:
    return getattr(settings.WIX, "payment_mode", "ecom")


def _plan_problem(balance: BenefitBalance, services: list[Service], member: Any) -> tuple[str, str] | None:
    name = balance.name or "This plan"
    if _payment_mode() != "ecom":
        # Booking-only mode has no order to charge a plan on, and a package's credits would be
        # redeemed one service at a time outside Wix's own plan payment: not offered.
        return "plan_not_eligible", "A package is paid with a plan only in the eCommerce payment mode."
    for service in services:
        if not money.balance_covers(balance, service):
            covered = balance.covered_service_ids or []
            if covered and service.wix_id not in covered:
                return "plan_not_eligible", f"{name} doesn't cover {service.name}."
            return "plan_not_eligible", f"{name} can't pay for {service.name} (not active, or not in Wix yet)."
    needed = len(services)
    if not balance.unlimited and (balance.remaining_credits or Decimal("0")) < needed:
        left = balance.remaining_credits or Decimal("0")
        return "no_credits", f"{name} has {left:g} credit{'s' if left != 1 else ''} left; the package needs {needed}."
    return None


# --- booking it -----------------------------------------------------------------------------------


def package_book(
    *,
    user: Any,
    chain: dict[str, Any],
    pay: str,
    idempotency_key: str,
    contact: Contact | None = None,
    new_customer: customers.NewCustomer | None = None,
    balance: BenefitBalance | None = None,
) -> Package:
    """Book ``chain`` for ``contact`` (or a ``new_customer``, made first), paid as ``pay``: CASH,
    CARD or CHECK (the total), PLAN (one credit of ``balance`` per service), LATER; "" only when
    there is nothing to pay. All or nothing; a re-sent form is answered with the package it made.

    Idempotency keys: the customer ``<key>-contact``, the package (and its action) ``<key>``.
    Raises the codes listed in the module's docstring.
    """
    ledger.require_key(idempotency_key)
    read = package_chain_read(chain)
    pay = (pay or "").upper()
    if pay not in Pay.values:
        raise BookingError("Choose how they pay.", code="method_invalid")
    if read.total > 0 and pay == Pay.NONE:
        raise BookingError("Choose how they pay: cash, card, cheque, their plan, or later.", code="method_invalid")
    if pay == Pay.PLAN and balance is None:
        raise BookingError("Choose one of their plans.", code="plan_not_eligible")
    with transaction.atomic():
        contact = customers.customer_chosen(
            user=user, contact=contact, new_customer=new_customer, idempotency_key=idempotency_key
        )
        done = ledger.existing(idempotency_key, Kind.PACKAGE, contact=contact, params={"chain": chain, "pay": pay})
        if done is not None:
            return Package.objects.get(action=done)
        contact = Contact.objects.get(pk=contact.pk)
        _lock_and_check_free(read)
        if pay == Pay.PLAN:
            assert balance is not None
            balance = BenefitBalance.objects.select_for_update(of=("self",)).select_related("member").get(pk=balance.pk)
            if balance.member.contact_id != contact.pk:
                raise BookingError(f"{balance.name or 'This plan'} belongs to someone else.", code="plan_not_eligible")
            problem = _plan_problem(balance, read.services, balance.member)
            if problem is not None:
                raise BookingError(problem[1], code=problem[0])
        return _write(user=user, read=read, contact=contact, pay=pay, balance=balance, key=idempotency_key)


def _lock_and_check_free(read: ChainRead) -> None:
    """Two desks booking the same time: lock every service and staff row first (as a walk-in does),
    then look for an active appointment of the same staff member (or, staff unknown, the same
    service) overlapping any of the package's times. Raises ``slot_taken``."""
    list(Service.objects.select_for_update().filter(pk__in={s.pk for s in read.services}).order_by("pk"))
    staff = {
        s.resource_id: s
        for s in StaffMember.objects.select_for_update()
        .filter(resource_id__in=[i.resource_id for i in read.items if i.resource_id])
        .order_by("pk")
    }
    clash = Q()
    for item in read.items:
        member = staff.get(item.resource_id)
        where = Q(session__staff=member) if member is not None else Q(session__service=item.service)
        clash |= where & Q(session__start__lt=item.end, session__end__gt=item.start)
    found = (
        Booking.objects.filter(
            clash, status__in=Booking.ACTIVE_STATUSES, session__service__type=Service.Type.APPOINTMENT
        )
        .select_related("session", "session__staff")
        .order_by("session__start")
        .first()
    )
    if found is not None:
        who = found.session.staff.name if found.session.staff else found.session.title or "That time"
        local = timezone.localtime(found.session.start)
        raise BookingError(f"{who} was just booked at {local:%H:%M} — pick another start time.", code="slot_taken")


def _write(
    *, user: Any, read: ChainRead, contact: Contact, pay: str, balance: BenefitBalance | None, key: str
) -> Package:
    """The sessions, bookings, package and its action (one), and the audit entry."""
    paid = pay in (*PAY_METHODS, Pay.PLAN)
    status = PS.PAID if paid else (PS.NOT_PAID if pay == Pay.LATER else PS.UNDEFINED)
    option = {Pay.PLAN: Booking.PaymentOption.MEMBERSHIP, Pay.NONE: Booking.PaymentOption.UNDEFINED}.get(
        pay, Booking.PaymentOption.OFFLINE
    )
    staff = {s.resource_id: s for s in StaffMember.objects.filter(resource_id__in=[i.resource_id for i in read.items])}
    location = read.location
    params: dict[str, Any] = {"chain": read.chain, "pay": pay, "amount": str(read.total)}
    credits_before = None
    if pay == Pay.PLAN and balance is not None:
        params |= {
            "balance_id": balance.pk,
            "pool_id": balance.wix_id,
            "member_id": balance.member.wix_id,
            "plan_name": balance.name,
        }
        credits_before = balance.remaining_credits
        if not balance.unlimited:
            balance.remaining_credits = (balance.remaining_credits or Decimal("0")) - len(read.items)
            balance.save(update_fields=["remaining_credits"])
    action = ledger.new_action(
        user=user,
        kind=Kind.PACKAGE,
        key=key,
        contact=contact,
        depends_on=ledger.contact_dependency(user=user, contact=contact),
        params=params,
        before={"credits": ledger.str_or_none(credits_before)},
    )
    package = Package.objects.create(
        idempotency_key=key,
        created_by=ledger.person(user),
        contact=contact,
        location_id=str(location.get("id") or ""),
        location_name=str(location.get("name") or "")[:400],
        location_type=str(location.get("type") or "BUSINESS")[:16],
        timezone=read.timezone,
        start=read.start,
        end=read.end,
        total=read.total,
        currency=read.currency,
        pay=pay,
        balance=balance if pay == Pay.PLAN else None,
        action=action,
    )
    for item in read.items:
        session = Session.objects.create(
            service=item.service,
            title=item.service.name,
            start=item.start,
            end=item.end,
            timezone=read.timezone,
            capacity=1,
            staff=staff.get(item.resource_id),
            location_name=package.location_name,
            schedule_id=item.schedule_id or item.service.schedule_id,
            raw={"slot": _slot_of(item, read)},
        )
        booking = Booking.objects.create(
            session=session,
            service=item.service,
            contact=contact,
            status=Booking.Status.CONFIRMED,
            payment_status=status,
            selected_payment_option=option,
            total_participants=1,
            pending_sync=True,
        )
        PackageItem.objects.create(
            package=package,
            position=item.position,
            booking=booking,
            service=item.service,
            start=item.start,
            end=item.end,
            resource_id=item.resource_id,
            staff_name=item.staff_name,
            schedule_id=item.schedule_id,
            price=item.service.price or Decimal("0"),
        )
    how = PAID_BY.get(pay) or ("pays later" if pay == Pay.LATER else "nothing to pay")
    audit_record(
        user=user,
        action="package.book",
        obj_type="package",
        obj_id=package.pk,
        summary=f"Package for {contact}: {package_summary(read)} — {how} "
        f"{money.format_money(read.total, read.currency)}"[:500],
        after={"pay": pay, "total": str(read.total), "bookings": len(read.items), "action": action.pk},
    )
    return package


def _slot_of(item: ChainItem, read: ChainRead) -> dict[str, Any]:
    """The slot as a walk-in's session keeps it (``raw.slot``), so an appointment screen reads it alike."""
    local = item.start.astimezone(ZoneInfo(read.timezone))
    end = item.end.astimezone(ZoneInfo(read.timezone))
    return {
        "start": local.strftime("%Y-%m-%dT%H:%M:%S"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%S"),
        "resource_id": item.resource_id,
        "staff_name": item.staff_name,
        "location_id": item.location_id,
        "location_name": read.location.get("name") or "",
        "location_type": read.location.get("type") or "BUSINESS",
        "timezone": read.timezone,
        "schedule_id": item.schedule_id,
    }


def package_summary(read: ChainRead) -> str:
    """ "Sports Massage 10:00, Express Facial 11:00, Classic Manicure 11:45"."""
    return ", ".join(f"{i.service.name} {timezone.localtime(i.start):%H:%M}" for i in read.items)
