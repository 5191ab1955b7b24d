"""The audit trail, read (issue 12, item 5): every staff action — who, when, what, before → after —
with the desk action it made (its state and attempts) and the Wix ids it touched; filtered by
person, customer, booking, session, kind and date.

Entries name their object by type and id (``AuditEntry.object_type`` / ``object_id``): a booking by
our pk (or its Wix id, when the sync saw Wix change it), a contact, a session, a desk action, an
order by its Wix id, a package. A filter on a customer, a booking or a session is therefore first
turned into the objects that belong to it (one or two small lookups), then matched on the
``audit_object`` index.

A page is keyset-paged on (``at``, pk), newest first — as fast on the millionth entry as on the
first — and costs a fixed number of queries: the entries, then one lookup each for their desk
actions (by the pk an entry keeps in ``after.action``, or by the batch and booking of a settle),
their bookings and their contacts. The export (:func:`audit_export_rows`) walks the same pages in
chunks, so its memory stays flat however many entries it writes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils import timezone

from bookings_app.models import (
    Attendance,
    AuditEntry,
    Booking,
    Contact,
    DeskAction,
    OrderLineItem,
    PackageItem,
    Session,
)
from bookings_app.selectors.queries import roster_q, search_q

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
MAX_CUSTOMERS = 20  # a customer search matching more than this asks for more letters
MACHINE_ACTORS = ("sync", "worker", "webhook", "drift", "system")

# The kinds an entry's ``action`` code falls under (its first word), for the filter.
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "payments": ("Payments and plan charges", ("payment",)),
    "bookings": ("Bookings: walk-ins, moves, cancels", ("booking",)),
    "attendance": ("Check-ins and no-shows", ("attendance",)),
    "settle": ("Settle roster", ("settle",)),
    "corrections": ("Undo, retry, remove, reverse", ("desk",)),
    "plans": ("Plans sold", ("plan",)),
    "packages": ("Packages", ("package",)),
    "customers": ("Customers and their notes", ("contact", "customer_note", "emergency_contact")),
    "courses": ("Course terms", ("course",)),
    "wix": ("Changed in Wix, sync", ("order", "sync", "wix_check")),
    "drift": ("Drift fixes", ("drift",)),
}


class AuditFilterError(ValueError):
    """A filter that cannot be applied as asked (too many customers match): the message says why."""


@dataclass(frozen=True)
class AuditFilters:
    who: str = ""  # a staff member's pk, or a machine actor ("sync", "worker" …)
    customer: int | None = None  # a contact's pk
    customer_text: str = ""  # or: whoever matches this name, email or phone
    booking: int | None = None
    session: int | None = None
    kind: str = ""  # a key of KINDS
    date_from: date | None = None
    date_to: date | None = None

    @property
    def any(self) -> bool:
        return any(
            (
                self.who,
                self.customer,
                self.customer_text,
                self.booking,
                self.session,
                self.kind,
                self.date_from,
                self.date_to,
            )
        )


@dataclass
class Change:
    field: str
    before: Any
    after: Any


@dataclass
class LinkedAction:
    pk: int
    kind: str
    status: str
    status_label: str
    attempts: int
    message: str


@dataclass
class AuditRow:
    """One entry as the screen and the export show it."""

    entry: AuditEntry
    what: str  # its kind, in words
    changes: list[Change]
    booking: Booking | None = None
    contact: Contact | None = None
    session: Session | None = None
    actions: list[LinkedAction] = field(default_factory=list)
    wix_ids: list[tuple[str, str]] = field(default_factory=list)  # (what, Wix id)


@dataclass
class AuditPage:
    rows: list[AuditRow]
    more: str  # the cursor of the next (older) page, "" at the end
    customers: list[Contact]  # the customers the filter matched (named on the page)


# --- filtering -------------------------------------------------------------------------------------


def audit_queryset(filters: AuditFilters) -> QuerySet[AuditEntry]:
    """Entries matching ``filters``, newest first. Raises ``AuditFilterError``."""
    return _filtered(filters)[0]


def _filtered(filters: AuditFilters) -> tuple[QuerySet[AuditEntry], list[Contact]]:
    entries = AuditEntry.objects.all()
    customers: list[Contact] = []
    if filters.who:
        if filters.who.isdigit():
            entries = entries.filter(user_id=int(filters.who))
        else:
            entries = entries.filter(user__isnull=True, actor=filters.who)
    if filters.kind:
        prefixes = KINDS[filters.kind][1]
        match = Q()
        for prefix in prefixes:
            match |= Q(action__startswith=f"{prefix}.")
        entries = entries.filter(match)
    tz = timezone.get_current_timezone()
    if filters.date_from:
        entries = entries.filter(at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        entries = entries.filter(at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz))
    if filters.customer or filters.customer_text:
        customers = _customers(filters)
        entries = entries.filter(_about_customers(customers))
    if filters.booking:
        entries = entries.filter(_about_bookings(Booking.objects.filter(pk=filters.booking)))
    if filters.session:
        entries = entries.filter(_about_session(filters.session))
    return entries.order_by("-at", "-pk"), customers


def _customers(filters: AuditFilters) -> list[Contact]:
    if filters.customer:
        return list(Contact.objects.filter(pk=filters.customer))
    match = search_q(filters.customer_text)
    if match is None:
        return []
    found = list(Contact.objects.filter(match).order_by("last_name", "first_name", "pk")[: MAX_CUSTOMERS + 1])
    if len(found) > MAX_CUSTOMERS:
        raise AuditFilterError(f"More than {MAX_CUSTOMERS} customers match “{filters.customer_text}”: type more.")
    return found


def _objects(kind: str, ids: Any) -> Q:
    return Q(object_type=kind, object_id__in=[str(i) for i in ids if i])


def _about_bookings(bookings: QuerySet[Booking]) -> Q:
    """Entries about these bookings: the booking (by pk, or by Wix id for Wix's own changes), its
    desk actions, its orders and its package. Three small lookups."""
    held = list(bookings.values_list("pk", "wix_id"))
    pks = [pk for pk, _ in held]
    actions = DeskAction.objects.filter(booking_id__in=pks).values_list("pk", flat=True)
    orders = OrderLineItem.objects.filter(booking_id__in=pks).values_list("order__wix_id", flat=True).distinct()
    packages = PackageItem.objects.filter(booking_id__in=pks).values_list("package_id", flat=True)
    return (
        _objects("booking", [*pks, *(w for _, w in held)])
        | _objects("desk_action", list(actions))
        | _objects("order", list(orders))
        | _objects("package", list(packages))
    )


def _about_customers(customers: list[Contact]) -> Q:
    if not customers:
        return Q(pk__in=[])
    contacts = [c.pk for c in customers]
    return (
        _objects("contact", [*contacts, *(c.wix_id for c in customers)])
        | _about_bookings(Booking.objects.filter(contact_id__in=contacts))
        | _objects("desk_action", list(DeskAction.objects.filter(contact_id__in=contacts).values_list("pk", flat=True)))
    )


def _about_session(session_id: int) -> Q:
    session = Session.objects.select_related("service").filter(pk=session_id).first()
    if session is None:
        return Q(pk__in=[])
    bookings = Booking.objects.filter(roster_q(session_id=session.pk, service_id=session.service_id))
    return _objects("session", [session.pk]) | _about_bookings(bookings)


# --- a page ----------------------------------------------------------------------------------------


def cursor_parse(value: str | None) -> tuple[datetime, int] | None:
    """``"<iso time>|<pk>"`` (``AuditPage.more``) → (at, pk); None when it cannot be read."""
    if not value or "|" not in value or len(value) > 80:
        return None
    moment, _, pk = value.rpartition("|")
    try:
        at, number = datetime.fromisoformat(moment), int(pk)
    except ValueError:
        return None
    if timezone.is_naive(at) or not 0 < number < 2**63:
        return None
    return at, number


def audit_page(*, filters: AuditFilters, after: tuple[datetime, int] | None = None) -> AuditPage:
    """One page of entries, newest first, from ``after`` (a cursor). Raises ``AuditFilterError``."""
    entries, customers = _filtered(filters)
    if after is not None:
        entries = entries.filter(Q(at__lt=after[0]) | Q(at=after[0], pk__lt=after[1]))
    found = list(entries.select_related("user")[: PAGE_SIZE + 1])
    rows = audit_rows(found[:PAGE_SIZE])
    more = f"{found[PAGE_SIZE - 1].at.isoformat()}|{found[PAGE_SIZE - 1].pk}" if len(found) > PAGE_SIZE else ""
    return AuditPage(rows=rows, more=more, customers=customers)


def audit_rows(entries: list[AuditEntry]) -> list[AuditRow]:
    """``entries`` with what they touched: three or four lookups, whatever their number."""
    booking_keys = {e.object_id for e in entries if e.object_type == "booking"}
    bookings = _bookings(booking_keys)
    contact_keys = {e.object_id for e in entries if e.object_type == "contact"}
    contacts = (
        {str(c.pk): c for c in Contact.objects.filter(pk__in=_numbers(contact_keys)).defer("raw")}
        if contact_keys
        else {}
    )
    actions = _linked_actions(entries, bookings)
    rows = []
    for entry in entries:
        booking = bookings.get(entry.object_id) if entry.object_type == "booking" else None
        contact = booking.contact if booking else contacts.get(entry.object_id)
        linked = actions.get(entry.pk, [])
        rows.append(
            AuditRow(
                entry=entry,
                what=kind_label(entry.action),
                changes=changes(entry.before, entry.after),
                booking=booking,
                contact=contact,
                session=booking.session if booking else None,
                actions=[_linked(a) for a in linked],
                wix_ids=_wix_ids(entry, booking, linked),
            )
        )
    return rows


def _numbers(keys: set[str]) -> list[int]:
    return [int(k) for k in keys if k.isdigit() and len(k) < 19]


def _bookings(keys: set[str]) -> dict[str, Booking]:
    """Booking by the key entries name it by: our pk, or its Wix id."""
    if not keys:
        return {}
    found = Booking.objects.filter(Q(pk__in=_numbers(keys)) | Q(wix_id__in=[k for k in keys if not k.isdigit()]))
    out: dict[str, Booking] = {}
    # Without the Wix payloads (``raw``): nothing here shows them, and they cost most to read.
    joined = found.select_related("contact", "session", "service").defer(
        "raw", "contact__raw", "session__raw", "service__raw"
    )
    for booking in joined:
        out[str(booking.pk)] = booking
        if booking.wix_id:
            out[booking.wix_id] = booking
    return out


def _linked_actions(entries: list[AuditEntry], bookings: dict[str, Booking]) -> dict[int, list[DeskAction]]:
    """Entry pk → the desk actions it made: the one its ``after.action`` names (or the entry is
    about), else those of its batch on its booking. One query (two with batches)."""
    by_pk: dict[int, int] = {}
    batches: dict[int, tuple[str, int | None]] = {}
    for entry in entries:
        after = entry.after if isinstance(entry.after, dict) else {}
        action = after.get("action")
        if entry.object_type == "desk_action" and entry.object_id.isdigit():
            action = int(entry.object_id)
        if isinstance(action, int):
            by_pk[entry.pk] = action
        elif isinstance(after.get("batch"), str):
            booking = bookings.get(entry.object_id) if entry.object_type == "booking" else None
            batches[entry.pk] = (after["batch"], booking.pk if booking else None)
    found: dict[int, list[DeskAction]] = defaultdict(list)
    if by_pk:
        held = DeskAction.objects.in_bulk(set(by_pk.values()))
        for entry_pk, action_pk in by_pk.items():
            if action_pk in held:
                found[entry_pk].append(held[action_pk])
    if batches:
        in_batch: dict[tuple[str, int | None], list[DeskAction]] = defaultdict(list)
        for action in DeskAction.objects.filter(batch_id__in={b for b, _ in batches.values()}).order_by("pk"):
            in_batch[(action.batch_id, action.booking_id)].append(action)
        for entry_pk, (batch, booking_pk) in batches.items():
            if booking_pk is not None:
                found[entry_pk].extend(in_batch.get((batch, booking_pk), []))
    return found


def _linked(action: DeskAction) -> LinkedAction:
    return LinkedAction(
        pk=action.pk,
        kind=action.get_kind_display(),
        status=action.status,
        status_label=action.get_status_display(),
        attempts=action.attempts,
        message=action.message,
    )


# Step results that are Wix ids, and how a person calls them.
_STEP_IDS = {
    "booking_id": "booking",
    "contact_id": "contact",
    "checkout_id": "checkout",
    "cart_id": "cart",
    "order_id": "order",
    "payment_id": "payment",
    "line_item_id": "order line",
    "transaction_id": "plan credit",
    "pool_id": "plan",
    "plan_order_id": "plan order",
    "multi_service_booking_id": "package",
}


def _wix_ids(entry: AuditEntry, booking: Booking | None, actions: list[DeskAction]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    if entry.object_type == "order" and entry.object_id:
        seen[entry.object_id] = "order"
    if booking is not None and booking.wix_id:
        seen.setdefault(booking.wix_id, "booking")
    for action in actions:
        for key, value in (action.steps or {}).items():
            label = _STEP_IDS.get(key) or (_STEP_IDS.get(key[:-1]) if key.endswith("_ids") else None)
            if label is None and key.endswith("_ids"):
                label = key[:-4].replace("_", " ")
            if label is None:
                continue
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, str) and one:
                    seen.setdefault(one, label)
    return [(label, wix_id) for wix_id, label in seen.items()]


# --- words -----------------------------------------------------------------------------------------

_ACTION_WORDS = {
    "payment.cash": "Cash taken",
    "payment.card": "Card taken",
    "payment.check": "Cheque taken",
    "payment.plan": "Charged to plan",
    "payment.later": "Pays later",
    "booking.walk_in": "Walk-in booked",
    "booking.cancel": "Booking cancelled",
    "booking.reschedule": "Booking moved",
    "booking.waitlist_promote": "Off the waiting list",
    "booking.override_capacity": "Booked over capacity",
    "attendance.mark": "Attendance",
    "attendance.mark_all": "Check in all",
    "settle.commit": "Roster settled",
    "desk.retry": "Retry",
    "desk.undo": "Undone",
    "desk.remove": "Removed",
    "desk.needs_attention": "Wix refused",
    "drift.retry": "Sent again (drift)",
    "drift.resync": "Re-sync asked (drift)",
    "drift.resync_failed": "Re-sync failed (drift)",
    "sync.requested": "Sync asked",
}


def kind_label(action: str) -> str:
    """An entry's ``action`` code in words ("payment.cash" → "Cash taken")."""
    if action in _ACTION_WORDS:
        return _ACTION_WORDS[action]
    if action.endswith(".changed_in_wix"):
        return f"{action.split('.')[0].replace('_', ' ').capitalize()} changed in Wix"
    return action.replace("_", " ").replace(".", ": ").capitalize()


# Stored codes shown in words, per field (what the roster shows for them).
_VALUE_WORDS: dict[str, dict[str, str]] = {
    "payment_status": dict(Booking.PaymentStatus.choices),
    "selected_payment_option": dict(Booking.PaymentOption.choices),
    "attendance": dict(Attendance.Status.choices),
}


def _words(name: str, value: Any) -> Any:
    words = _VALUE_WORDS.get(name)
    return words.get(value, value) if words and isinstance(value, str) else value


def changes(before: Any, after: Any) -> list[Change]:
    """before → after, field by field (the fields whose value differs, and what only one side has),
    stored codes in words ("NOT_PAID" → "Not paid")."""
    before = before if isinstance(before, dict) else ({} if before is None else {"value": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"value": after})
    out = []
    for name in [*before, *(k for k in after if k not in before)]:
        if name in ("action", "batch"):  # the links, shown as the desk action itself
            continue
        was, now = before.get(name), after.get(name)
        if was != now:
            out.append(Change(field=name.replace("_", " "), before=_words(name, was), after=_words(name, now)))
    return out


# --- the export ------------------------------------------------------------------------------------

EXPORT_HEADERS = (
    "When",
    "Who",
    "Kind",
    "Code",
    "What",
    "Customer",
    "Session",
    "Object",
    "Before → after",
    "Desk action",
    "Desk action state",
    "Attempts",
    "Wix ids",
)


def audit_export_count(filters: AuditFilters) -> int:
    return audit_queryset(filters).count()


def audit_export_rows(filters: AuditFilters) -> Iterator[list[Any]]:
    """The rows of the export: the screen's rows (:func:`audit_rows`), every page of them, read
    ``EXPORT_CHUNK`` at a time (keyset), so memory stays flat. Raises ``AuditFilterError``."""
    entries = audit_queryset(filters).select_related("user")
    after: tuple[datetime, int] | None = None
    while True:
        chunk = entries
        if after is not None:
            chunk = chunk.filter(Q(at__lt=after[0]) | Q(at=after[0], pk__lt=after[1]))
        found = list(chunk[:EXPORT_CHUNK])
        for row in audit_rows(found):
            yield export_cells(row)
        if len(found) < EXPORT_CHUNK:
            return
        after = (found[-1].at, found[-1].pk)


def export_cells(row: AuditRow) -> list[Any]:
    e = row.entry
    session = row.session
    return [
        e.at,
        e.actor,
        row.what,
        e.action,
        e.summary,
        str(row.contact) if row.contact else "",
        f"{session.title or ''} {timezone.localtime(session.start):%Y-%m-%d %H:%M}".strip() if session else "",
        f"{e.object_type} {e.object_id}".strip(),
        "; ".join(f"{c.field}: {_cell(c.before)} → {_cell(c.after)}" for c in row.changes),
        ", ".join(f"#{a.pk} {a.kind}" for a in row.actions),
        ", ".join(a.status_label for a in row.actions),
        sum(a.attempts for a in row.actions) if row.actions else "",
        ", ".join(f"{label} {wix_id}" for label, wix_id in row.wix_ids),
    ]


def _cell(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def audit_people() -> list[tuple[str, str]]:
    """Who the filter offers: every staff member by name, then the machine actors."""
    people = [
        (str(pk), " ".join(p for p in (first, last) if p) or username)
        for pk, username, first, last in get_user_model()
        .objects.order_by("username")
        .values_list("pk", "username", "first_name", "last_name")
    ]
    return [*people, *((actor, f"{actor} (automatic)") for actor in MACHINE_ACTORS)]
