"""Bookings: extended bookings (``{booking, attendance?, order?}``) -> ``Booking`` rows and
everything they name; a desk-made booking given its Wix identity, and Wix's answers about it.

A booking with a desk change not yet pushed (``pending_sync``) is left alone: the desk-action
worker owns it until Wix has the change.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bookings_app.models import Booking, Contact, Order, OrderLineItem, Service, Session
from bookings_app.services.mirror.attendance import attendance_fetch, attendance_write
from bookings_app.services.mirror.contacts import contact_from_details, contacts_fetch, contacts_write
from bookings_app.services.mirror.orders import order_summaries_write, orders_fetch, orders_write, transactions_fetch
from bookings_app.services.mirror.run import MirrorRun
from bookings_app.services.mirror.services import services_fetch_missing, services_write
from bookings_app.services.mirror.sessions import (
    appointment_session_id,
    appointment_sessions_write,
    event_service_hints,
    events_fetch,
    events_write,
)
from bookings_app.services.mirror.upsert import Row, Upserted, changes_audit, unchanged_dropped, upsert
from bookings_app.services.mirror.values import (
    Json,
    booked_service_id,
    booked_slot,
    booking_contact_id,
    booking_participants,
    integer,
    money,
    text,
)
from bookings_app.wix import WixClient
from bookings_app.wix.dates import wix_timestamp_parse

logger = logging.getLogger("bookings_app.mirror")


def extended_apply(run: MirrorRun, items: list[Json], *, refresh_contacts: bool) -> int:
    """Mirror one page of extended bookings (``{booking, attendance?, order?}``) and everything
    they name: contacts, sessions, orders, line items, payments. Returns how many bookings were new
    or changed. All Wix calls first, then one transaction.

    The reader's ``order`` is a summary (id, number, status, paymentStatus, totals): the full
    orders come from Search Orders by id, one call per page. Search never returns INITIALIZED
    orders (online checkouts not paid yet); those are mirrored from the summary.
    """
    if not run.full:
        items = _unchanged_extended_dropped(items)
    if not items:
        return 0
    bookings = [i["booking"] for i in items]
    contact_ids = {booking_contact_id(b) for b in bookings} - {""}
    run.touched_contacts |= contact_ids

    contacts = contacts_fetch(run, contact_ids, refresh=refresh_contacts)
    services = services_fetch_missing(run, {booked_service_id(b) for b in bookings})
    event_ids = {booked_slot(b).get("eventId") for b in bookings if booked_slot(b).get("eventId")}
    held_events = set(Session.objects.filter(wix_id__in=event_ids).values_list("wix_id", flat=True))
    events = events_fetch(run, event_ids - held_events)
    summaries = {i["order"]["id"]: (i["order"], i["booking"]) for i in items if (i.get("order") or {}).get("id")}
    orders = orders_fetch(run, list(summaries))
    transactions = transactions_fetch(run, list(summaries))
    course_ids = [b["id"] for b in bookings if (b.get("bookedEntity") or {}).get("schedule")]
    course_attendance = attendance_fetch(run, {"bookingId": {"$in": course_ids}}) if course_ids else []

    with transaction.atomic():
        if contacts:
            contacts_write(run, contacts)
        if services:
            services_write(run, services)
        if events:
            events_write(run, events, service_hint=event_service_hints(bookings))
        written = bookings_write(run, items)
        attendance_write(run, items, written, course_attendance)
        if orders:
            orders_write(run, orders, transactions)
        initialized = [summaries[i] for i in summaries if i not in {o["id"] for o in orders}]
        if initialized:
            order_summaries_write(run, initialized, transactions)
    return len(written.created) + len(written.changed)


def _unchanged_extended_dropped(items: list[Json]) -> list[Json]:
    """Extended bookings without those whose booking we hold at that version and whose order
    summary says what our order row says (the summary carries no version of its own)."""
    fresh_bookings = {b["id"] for b in unchanged_dropped(Booking, [i["booking"] for i in items])}
    held_orders = {
        o.wix_id: o for o in Order.objects.filter(wix_id__in=[(i.get("order") or {}).get("id") for i in items])
    }

    def order_moved(summary: Json | None) -> bool:
        if not summary or not summary.get("id"):
            return False
        held = held_orders.get(summary["id"])
        return held is None or (held.status, held.payment_status, held.balance) != (
            summary.get("status") or "",
            summary.get("paymentStatus") or "",
            money((summary.get("balance") or {}).get("amount")) or Decimal("0"),
        )

    return [i for i in items if i["booking"]["id"] in fresh_bookings or order_moved(i.get("order"))]


def bookings_write(run: MirrorRun, items: list[Json]) -> Upserted:
    bookings = [i["booking"] for i in items]
    services = {s.wix_id: s for s in Service.objects.filter(wix_id__in={booked_service_id(b) for b in bookings})}
    contacts = dict(
        Contact.objects.filter(wix_id__in={booking_contact_id(b) for b in bookings}).values_list("wix_id", "pk")
    )
    held = list(
        Booking.objects.filter(wix_id__in=[b["id"] for b in bookings]).values_list(
            "wix_id", "contact_id", "pending_sync"
        )
    )
    held_contact = {wix_id: contact_id for wix_id, contact_id, _ in held}
    pending = {wix_id for wix_id, _, is_pending in held if is_pending}
    # An appointment's session is its booking's time: left alone, as the booking is, while a desk
    # change of it (a reschedule to another time) is on its way.
    appointments = [
        b for b in bookings if booked_slot(b) and not booked_slot(b).get("eventId") and b["id"] not in pending
    ]
    sessions = appointment_sessions_write(run, appointments, services) if appointments else {}
    event_ids = {booked_slot(b).get("eventId") for b in bookings} - {None}
    sessions.update(dict(Session.objects.filter(wix_id__in=event_ids).values_list("wix_id", "pk")))

    rows = []
    for booking in bookings:
        service = services.get(booked_service_id(booking))
        if service is None:
            logger.warning(
                "wix sync: booking %s names unknown service %s; skipped", booking["id"], booked_service_id(booking)
            )
            continue
        contact_pk = contacts.get(booking_contact_id(booking)) or held_contact.get(booking["id"])
        if contact_pk is None:
            contact_pk = contact_from_details(booking).pk
        slot = booked_slot(booking)
        session_key = slot.get("eventId") or (appointment_session_id(booking["id"]) if slot else None)
        rows.append(
            Row(
                booking["id"],
                booking.get("revision"),
                wix_timestamp_parse(booking.get("updatedDate")),
                {
                    "session_id": sessions.get(session_key) if session_key else None,
                    "service_id": service.pk,
                    "contact_id": contact_pk,
                    "status": text(booking.get("status") or Booking.Status.CREATED, 16),
                    "payment_status": text(booking.get("paymentStatus") or Booking.PaymentStatus.UNDEFINED, 16),
                    "selected_payment_option": text(
                        booking.get("selectedPaymentOption") or Booking.PaymentOption.UNDEFINED, 24
                    ),
                    "total_participants": booking_participants(booking),
                    "wix_created_at": wix_timestamp_parse(booking.get("createdDate")),
                    "raw": booking,
                },
            )
        )
    result = upsert(run, Booking, rows, keep=lambda b: b.pending_sync)
    changes_audit(run, result, "booking", ("status", "payment_status"))
    return result


def mirror_bookings(*, wix: WixClient, bookings: list[Json], actor: str = "webhook") -> int:
    """Write bookings (as Wix sends them in webhooks) with whatever they name that we lack
    (contact, service, session). Returns how many were new or changed. Raises ``WixError``."""
    run = MirrorRun(wix=wix, actor=actor)
    return extended_apply(run, [{"booking": b} for b in bookings], refresh_contacts=False)


# --- bookings as the desk's calls answer them ------------------------------------------------------


def booking_adopt(*, booking: Booking, found: Json) -> None:
    """The booking Wix made for a desk walk-in (``found``): the desk's row takes its id, version
    and payload. A row the sync made of it meanwhile gives way (ours carries the desk's state);
    an appointment's session takes the id the sync would give it. Call inside a transaction."""
    twin = Booking.objects.filter(wix_id=found["id"]).exclude(pk=booking.pk).first()
    if twin is not None:
        # The sync mirrored the booking before we learnt its id: ours carries the desk's state.
        OrderLineItem.objects.filter(booking=twin).update(booking=booking)
        twin.delete()
    booking.wix_id = found["id"]
    booking.revision = integer(found.get("revision"))
    booking.wix_updated_at = wix_timestamp_parse(found.get("updatedDate"))
    booking.wix_created_at = wix_timestamp_parse(found.get("createdDate"))
    booking.raw = found
    booking.synced_at = timezone.now()
    booking.save()
    session = booking.session
    if session is not None and session.wix_id is None and session.service.type == Service.Type.APPOINTMENT:
        session.wix_id = appointment_session_id(found["id"])
        Session.objects.filter(wix_id=session.wix_id).exclude(pk=session.pk).delete()
        session.save(update_fields=["wix_id"])


def booking_absorb(*, booking: Booking, found: Json, statuses: bool) -> None:
    """Wix's answer about a booking (confirm, cancel, read back): keep its revision and payload;
    take its statuses too when ``statuses`` (the desk has no other change of it on the way)."""
    booking.revision = integer(found.get("revision")) or booking.revision
    booking.wix_updated_at = wix_timestamp_parse(found.get("updatedDate")) or booking.wix_updated_at
    booking.raw = found
    fields = ["revision", "wix_updated_at", "raw"]
    if statuses:
        if found.get("status"):
            booking.status = found["status"]
            fields.append("status")
        if found.get("paymentStatus") and found["paymentStatus"] != "UNDEFINED":
            booking.payment_status = found["paymentStatus"]
            fields.append("payment_status")
    booking.save(update_fields=fields)
