"""Reads a full sync and an incremental poll both make: the window's sessions, pages of extended
bookings, and the members, plans and credits of the people booked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from bookings_app.models import Member, Session
from bookings_app.services import mirror
from bookings_app.services.mirror.run import batches, paged_cursor, paged_offset, write
from bookings_app.services.mirror.upsert import unchanged_dropped
from bookings_app.services.mirror.values import Json
from bookings_app.services.sync.state import Kind, SyncRun, since_of
from bookings_app.wix import calendar, extended_bookings
from bookings_app.wix import members as wix_members

SESSION_TYPES = ["CLASS", "COURSE"]


def sessions_fetch(run: SyncRun, flt: Json, start: datetime, end: datetime) -> None:
    for page in paged_cursor(
        run,
        calendar.query_events,
        "events",
        flt,
        from_local_date=run.window.local(start),
        to_local_date=run.window.local(end),
        time_zone=run.window.tz.key,
    ):
        fresh = unchanged_dropped(Session, page) if not run.full else page
        if fresh:
            write(run, lambda fresh=fresh: mirror.sessions.events_write(run, fresh))


def extended_pages(run: SyncRun, flt: Json, *, sort: str) -> Iterator[list[Json]]:
    # createdDate never changes, so a full sync's pages cannot shift under concurrent edits;
    # an incremental poll walks updatedDate upwards.
    yield from paged_cursor(
        run,
        extended_bookings.query_extended_bookings,
        "extendedBookings",
        flt,
        sort=[{"fieldName": sort, "order": "ASC"}],
        with_booking_attendance_info=True,
        with_ecom_order=True,
    )


def people_and_plans(run: SyncRun, contact_ids: set[str], *, refresh_members: bool) -> None:
    """Members of these contacts, then their plan orders and benefit balances."""
    run.phase_begin(Kind.MEMBERS, total=len(contact_ids))
    wanted = set(contact_ids)
    if not refresh_members:
        wanted -= set(Member.objects.filter(contact__wix_id__in=wanted).values_list("contact__wix_id", flat=True))
    done = 0
    for batch in batches(wanted):
        members: list[Json] = []
        for page in paged_offset(
            run, wix_members.query_members, "members", {"contactId": {"$in": batch}}, fieldsets=["FULL"]
        ):
            members.extend(page)
        write(run, lambda members=members: mirror.members.members_write(run, members))
        done += len(batch)
        run.phase_progress(Kind.MEMBERS, done)
    run.phase_end(Kind.MEMBERS, since=run.since_after(since_of(Kind.MEMBERS)))

    member_ids = set(
        Member.objects.filter(contact__wix_id__in=contact_ids, wix_id__isnull=False).values_list("wix_id", flat=True)
    )
    mirror.members.member_plans(run, member_ids)
