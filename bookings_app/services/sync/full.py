"""The full sync: read the whole window again, every page written as read."""

from __future__ import annotations

from bookings_app.models import Booking
from bookings_app.services import mirror
from bookings_app.services.mirror.run import paged_cursor, paged_offset, write
from bookings_app.services.sync.reads import SESSION_TYPES, extended_pages, people_and_plans, sessions_fetch
from bookings_app.services.sync.state import Kind, SyncRun
from bookings_app.services.sync.window import in_window_q, overlapping
from bookings_app.wix import extended_bookings
from bookings_app.wix import services as wix_services
from bookings_app.wix import staff as wix_staff


def full(run: SyncRun) -> None:
    window = run.window
    run.phase_begin(Kind.SERVICES)
    for page in paged_offset(run, wix_services.query_services, "services", {}):
        write(run, lambda page=page: mirror.services.services_write(run, page))
    run.phase_end(Kind.SERVICES, since=run.since_after())

    run.phase_begin(Kind.STAFF)
    for page in paged_cursor(run, wix_staff.query_staff_members, "staffMembers", {}):
        write(run, lambda page=page: mirror.staff.staff_write(run, page))
    run.phase_end(Kind.STAFF, since=run.since_after())

    run.phase_begin(Kind.SESSIONS)
    sessions_fetch(run, {"type": {"$in": SESSION_TYPES}}, window.start, window.end)
    run.phase_end(Kind.SESSIONS, since=run.since_after(), to=window.end)

    booking_filter = overlapping(window.start, window.end)
    total = run.call(extended_bookings.count_extended_bookings, filter=booking_filter).get("count")
    run.phase_begin(Kind.BOOKINGS, total=int(total) if total is not None else None)
    done = 0
    for page in extended_pages(run, booking_filter, sort="createdDate"):
        mirror.bookings.extended_apply(run, page, refresh_contacts=True)
        done += len(page)
        run.phase_progress(Kind.BOOKINGS, done)
    run.phase_end(Kind.BOOKINGS, since=run.since_after(), to=window.end)
    run.phase_end(Kind.CONTACTS, since=run.since_after())
    run.phase_end(Kind.ORDERS, since=run.since_after())

    contact_ids = set(
        Booking.objects.filter(in_window_q(window), contact__wix_id__isnull=False).values_list(
            "contact__wix_id", flat=True
        )
    )
    people_and_plans(run, contact_ids, refresh_members=True)
    run.phase_end(Kind.BALANCES, since=run.since_after())
