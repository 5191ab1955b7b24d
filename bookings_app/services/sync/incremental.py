"""The incremental poll: only what changed since each kind's cursor, and what just entered the window.

Each entity kind keeps ``SyncState.cursor = {"since": …, "to": …}``. A poll asks for
``updatedDate >= since`` sorted by ``updatedDate`` ASC; ``since`` becomes the start of the last
successful run less ``OVERLAP`` (see ``SyncRun.since_after``), so a change made while a run was
paging is read by the next one. What comes back again unchanged is recognised against the mirror
and dropped before any further call is made for it. ``to`` is the window's end at the last poll:
when the window moves on (a new day), the sessions and bookings that just entered it are fetched
once.

Services are the exception: Query Services can't filter on ``updatedDate``, so each poll reads
them all (few: one call per 100, so one call a poll) and drops the unchanged ones
(``_services_read``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import transaction

from bookings_app.models import BenefitBalance, Booking, Contact, Order, Service, Session
from bookings_app.services import mirror
from bookings_app.services.mirror.run import PAGE, batches, paged_cursor, paged_offset, write
from bookings_app.services.mirror.sessions import APPOINTMENT_PREFIX
from bookings_app.services.mirror.upsert import unchanged_dropped, upsert
from bookings_app.services.mirror.values import Json
from bookings_app.services.sync.reads import SESSION_TYPES, extended_pages, people_and_plans, sessions_fetch
from bookings_app.services.sync.state import Kind, SyncRun, since_of, to_of
from bookings_app.services.sync.window import booking_in_window, overlapping
from bookings_app.wix import benefit_programs
from bookings_app.wix import contacts as wix_contacts
from bookings_app.wix import orders as wix_orders
from bookings_app.wix import services as wix_services
from bookings_app.wix import staff as wix_staff


def incremental(run: SyncRun) -> None:
    window = run.window
    run.phase_begin(Kind.SERVICES)
    since = since_of(Kind.SERVICES)
    _services_read(run)
    run.phase_end(Kind.SERVICES, since=run.since_after(since))

    run.phase_begin(Kind.STAFF)
    since = since_of(Kind.STAFF)
    for page in paged_cursor(run, wix_staff.query_staff_members, "staffMembers", changed(since)):
        write(run, lambda page=page: mirror.staff.staff_write(run, page))
    run.phase_end(Kind.STAFF, since=run.since_after(since))

    run.phase_begin(Kind.SESSIONS)
    since = since_of(Kind.SESSIONS)
    sessions_fetch(run, {"type": {"$in": SESSION_TYPES}, **changed(since)}, window.start, window.end)
    entered_from = max(to_of(Kind.SESSIONS) or window.end, window.start)
    if entered_from < window.end:  # the window moved on: sessions that just entered it
        sessions_fetch(run, {"type": {"$in": SESSION_TYPES}}, entered_from, window.end)
    run.phase_end(Kind.SESSIONS, since=run.since_after(since), to=window.end)

    run.phase_begin(Kind.BOOKINGS)
    since = since_of(Kind.BOOKINGS)
    done = 0
    for page in extended_pages(run, changed(since), sort="updatedDate"):
        # A changed booking outside the window that we do not hold is not ours to mirror.
        held = set(
            Booking.objects.filter(wix_id__in=[i["booking"]["id"] for i in page]).values_list("wix_id", flat=True)
        )
        keep = [i for i in page if i["booking"]["id"] in held or booking_in_window(i["booking"], window)]
        done += mirror.bookings.extended_apply(run, keep, refresh_contacts=False)
        run.phase_progress(Kind.BOOKINGS, done)
    entered_from = max(to_of(Kind.BOOKINGS) or window.end, window.start)
    if entered_from < window.end:
        for page in extended_pages(run, overlapping(entered_from, window.end), sort="createdDate"):
            done += mirror.bookings.extended_apply(run, page, refresh_contacts=False)
    _attendance_of_today(run)
    run.phase_end(Kind.BOOKINGS, since=run.since_after(since), to=window.end)

    run.phase_begin(Kind.ORDERS)
    since = since_of(Kind.ORDERS)
    if since:
        _orders_changed(run, since)
    run.phase_end(Kind.ORDERS, since=run.since_after(since))

    run.phase_begin(Kind.CONTACTS)
    since = since_of(Kind.CONTACTS)
    if since:
        _contacts_changed(run, since)
    run.phase_end(Kind.CONTACTS, since=run.since_after(since))

    # Members, plans and credits of the people whose bookings changed; credits that moved.
    people_and_plans(run, set(run.touched_contacts), refresh_members=False)
    since = since_of(Kind.BALANCES)
    if since:
        _balances_changed(run, since)
    run.phase_end(Kind.BALANCES, since=run.since_after(since))


def _services_read(run: SyncRun) -> None:
    """Every service, each poll: Query Services can't filter on ``updatedDate``
    (bookings_services ServiceQuerySpec lists no date but ``schedule.firstSessionStart`` /
    ``lastSessionEnd``), and a site has few services — one call per 100 (``paging.limit`` max
    100), so one call for almost every site. The services the mirror holds at that revision and
    ``updatedDate`` are dropped before anything is written."""
    for page in paged_offset(run, wix_services.query_services, "services", {}):
        fresh = unchanged_dropped(Service, page)
        if fresh:
            write(run, lambda fresh=fresh: mirror.services.services_write(run, fresh))


def changed(since: str) -> Json:
    return {"updatedDate": {"$gte": since}} if since else {}


def _attendance_of_today(run: SyncRun) -> None:
    """Attendance set in Wix's dashboard touches no booking, so a poll re-reads today's (one call)."""
    tz = run.window.tz
    today = run.now.astimezone(tz).date()
    start = datetime.combine(today, time.min, tzinfo=tz)
    sessions = dict(
        Session.objects.filter(start__gte=start, start__lt=start + timedelta(days=1))
        .exclude(wix_id__startswith=APPOINTMENT_PREFIX)
        .exclude(wix_id__isnull=True)
        .values_list("wix_id", "pk")
    )
    found: list[Json] = []
    for batch in batches(sessions):
        found.extend(mirror.attendance.attendance_fetch(run, {"eventId": {"$in": batch}}))
    if not found:
        return
    bookings = {
        b.wix_id: b for b in Booking.objects.filter(wix_id__in={a.get("bookingId") for a in found}, pending_sync=False)
    }
    entries = [
        (a, bookings[a["bookingId"]], sessions[a.get("eventId")])
        for a in found
        if a.get("bookingId") in bookings and a.get("eventId") in sessions
    ]
    with transaction.atomic():
        mirror.attendance.attendance_upsert(run, entries)


def _orders_changed(run: SyncRun, since: str) -> None:
    """Orders changed since ``since`` that belong to mirrored bookings (or are mirrored already)."""
    query = {
        "filter": changed(since),
        "sort": [{"fieldName": "updatedDate", "order": "ASC"}],
        "cursorPaging": {"limit": PAGE},
    }
    while True:
        answer = run.call(wix_orders.search_orders, search=query)
        page = answer.get("orders") or []
        mirror.orders.orders_apply(run, unchanged_dropped(Order, page))
        cursor = ((answer.get("metadata") or {}).get("cursors") or {}).get("next")
        if not cursor or not page:
            return
        query = {"cursorPaging": {"limit": PAGE, "cursor": cursor}}


def _contacts_changed(run: SyncRun, since: str) -> None:
    for page in paged_offset(run, wix_contacts.query_contacts, "contacts", changed(since)):
        held = set(Contact.objects.filter(wix_id__in=[c["id"] for c in page]).values_list("wix_id", flat=True))
        ours = unchanged_dropped(Contact, [c for c in page if c["id"] in held])
        if ours:
            write(run, lambda ours=ours: mirror.contacts.contacts_write(run, ours))


def _balances_changed(run: SyncRun, since: str) -> None:
    """Credits moved since ``since`` on pools we mirror (a plan charged or voided elsewhere).

    Query Balances cannot filter on ``updatedDate`` (BalanceQuerySpec: id, createdDate,
    beneficiary.*), but every change of a balance is a transaction (``Balance.lastTransactionId``
    is "the transaction associated with the most recent change to the balance"), and Query
    Transactions filters on ``createdDate`` (TransactionQuerySpec): the pools of the transactions
    made since ``since``, then those of their balances we hold, by ``id``.
    """
    moved: set[str] = set()
    for page in paged_cursor(
        run,
        benefit_programs.query_transactions,
        "transactions",
        {"createdDate": {"$gte": since}},
        sort=[{"fieldName": "createdDate", "order": "ASC"}],
    ):
        moved.update(pool_id for t in page if (pool_id := (t.get("pool") or {}).get("id")))
    held_ids = list(BenefitBalance.objects.filter(wix_id__in=moved).values_list("wix_id", flat=True))
    coverage = mirror.balances.plan_coverage() if held_ids else {}
    for batch in batches(held_ids):
        for page in paged_cursor(run, benefit_programs.query_balances, "balances", {"id": {"$in": batch}}):
            held = {b.wix_id: b for b in BenefitBalance.objects.filter(wix_id__in=[b["id"] for b in page])}
            rows = []
            for balance in page:
                current = held.get(balance["id"])
                if current is None:
                    continue
                pool = (current.raw or {}).get("pool") or {"id": balance["id"]}
                plan_orders = (
                    {pool.get("program", {}).get("externalId", ""): current.plan_order_id}
                    if current.plan_order_id
                    else {}
                )
                rows.append(mirror.balances.balance_row(pool, balance, current.member_id, plan_orders, coverage))
            if rows:
                write(run, lambda rows=rows: upsert(run, BenefitBalance, rows))
