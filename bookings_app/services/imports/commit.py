"""Step 3 of a participant import: the commit, and the batches it releases.

**The commit** (``import_commit``) only says "go": the import becomes RUNNING and the runner
(``run``) is asked for. The form's idempotency key makes a double click commit once; the dry run's
digest makes the commit the one the admin read.

**A batch** (``batch_release``, called by the runner) takes the next ``PLANNED`` rows, checks them
again against the mirror as it is now (``checks.Checker``: a session may have filled up since the
dry run), and writes each valid row as **desk actions**, through the desk's own services — a new
customer (``customers.customer_create``), the booking (``desk.walk_in_create``), the payment
(``desk.payment_record`` / ``plan_charge`` / ``pay_later``) and the check-in
(``desk.attendance_mark``) — so the worker pushes them to Wix with the bulk endpoints, as it pushes
a roster's settle. Each row is one transaction: written whole, or not at all (refused, with why).

**Never twice.** The actions' idempotency keys derive from the row's content (``imp:<row key>:book``
…): the same row uploaded again, in this file or another, meets the actions it made — the desk
services answer with those — and two imports releasing the same row at once collide on the key
(one of them is refused, nothing doubled). A row whose earlier actions were removed or undone at
the desk gets fresh keys (``~1``), so it can be imported again.

Imports skip the desk's undo window: the dry run was the check, and Cancel stops the batches.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from bookings_app import signals
from bookings_app.models import (
    BenefitBalance,
    Booking,
    Contact,
    DeskAction,
    ImportRow,
    ParticipantImport,
    Service,
    normalise_phone,
)
from bookings_app.models import Session as SessionRow
from bookings_app.services import customers, desk, ledger
from bookings_app.services.audit import audit_record
from bookings_app.services.errors import BookingError
from bookings_app.services.imports.checks import Checker
from bookings_app.services.imports.dry_run import payment_mode

State = ImportRow.State
Status = ParticipantImport.Status
STEPS = ("contact", "book", "pay", "in")
GROUP = 25  # rows written in one transaction
GONE = "What this row names changed a moment ago: check the file again."


def import_commit(*, user: Any, imported: ParticipantImport, idempotency_key: str, digest: str) -> ParticipantImport:
    """Start importing the rows the dry run planned: the runner releases them batch by batch.
    The same form sent again answers with the import. Raises ``BookingError``
    ``idempotency_missing``, ``not_checked`` (no dry run, or one still running), ``plan_changed``
    (checked again since the page was shown), ``already_committed``, ``nothing_new``."""
    ledger.require_key(idempotency_key)
    with transaction.atomic():
        imp = ParticipantImport.objects.select_for_update().get(pk=imported.pk)
        if imp.idempotency_key == idempotency_key:
            return imp
        if imp.committed:
            raise BookingError("This import is under way already.", code="already_committed")
        if imp.status != Status.CHECKED or not imp.plan_digest:
            raise BookingError("Check the rows first (the dry run), then import them.", code="not_checked")
        if digest != imp.plan_digest:
            raise BookingError(
                "The rows were checked again since this page was shown: read the new result, then import.",
                code="plan_changed",
            )
        planned = imp.rows.filter(state=State.PLANNED).count()
        if not planned:
            raise BookingError(
                "There is nothing to import: every row is already done or has an error.", code="nothing_new"
            )
        now = timezone.now()
        imp.idempotency_key = idempotency_key
        imp.committed_at, imp.committed_by = now, ledger.person(user)
        imp.status, imp.next_run_at = Status.RUNNING, now
        imp.payment_mode = payment_mode()
        imp.rows_planned, imp.calls_left = planned, int((imp.diff or {}).get("calls") or 0)
        imp.save()
        audit_record(
            user=user,
            action="import.commit",
            obj_type="participant_import",
            obj_id=imp.pk,
            summary=f"Importing {planned} rows of {imp.file_name}",
            after={"file": imp.file_name, "sha256": imp.file_sha256, "diff": imp.diff},
        )
        run_wanted(run_after=now)
    return imp


def run_wanted(*, run_after: Any) -> None:
    """Once this transaction commits, ask for the import runner by ``run_after`` (``tasks`` listens)."""
    transaction.on_commit(lambda: signals.imports_queued.send(sender=ParticipantImport, run_after=run_after))


def batch_release(*, imported: ParticipantImport, limit: int) -> list[ImportRow]:
    """Write the next ``limit`` planned rows as desk actions (each row checked again first).
    Returns the rows, each now WAITING (its actions on their way), SKIP or INVALID."""
    rows = list(imported.rows.filter(state=State.PLANNED).order_by("number")[:limit])
    if not rows:
        return []
    imported.batches += 1
    ParticipantImport.objects.filter(pk=imported.pk).update(batches=imported.batches)
    checker = Checker(imported=imported, mode=imported.payment_mode or payment_mode())
    user = imported.committed_by
    verdicts = list(zip(rows, checker.check([(r.number, r.values) for r in rows]), strict=True))
    for start in range(0, len(verdicts), GROUP):
        # One commit for a few rows (a commit is a disk sync: one per row doubled a batch's time);
        # each row in its own savepoint, so a refused row leaves nothing behind.
        with transaction.atomic():
            _Group(user, imported.batches, verdicts[start : start + GROUP]).write()
    return rows


class _Group:
    """A few rows written in one transaction, with what they name read once for all of them."""

    def __init__(self, user: Any, batch: int, verdicts: list[tuple[ImportRow, Any]]) -> None:
        self.user, self.batch, self.verdicts = user, batch, verdicts
        plans = [v.plan for _, v in verdicts if v.state == State.PLANNED]
        self.contacts = Contact.objects.in_bulk([p["contact"] for p in plans if p.get("contact")])
        self.bookings = Booking.objects.select_related("service", "session", "contact").in_bulk(
            [p["booking"] for p in plans if p.get("booking")]
        )
        session_ids = {p["session"] for p in plans if p.get("session")}
        session_ids |= {p["attend"]["session"] for p in plans if p.get("attend")}
        self.sessions = SessionRow.objects.select_related("service").in_bulk(session_ids)
        self.services = Service.objects.in_bulk({p["service"] for p in plans})
        self.balances = BenefitBalance.objects.select_related("member").in_bulk(
            [p["pay"]["plan"] for p in plans if (p.get("pay") or {}).get("plan")]
        )
        keys = [f"imp:{v.key}:{s}" for _, v in verdicts for s in STEPS]
        spent = DeskAction.objects.filter(
            idempotency_key__in=keys, status__in=(DeskAction.Status.UNDONE, DeskAction.Status.REMOVED)
        ).values_list("idempotency_key", flat=True)
        self.spent = {k.rsplit(":", 1)[0] for k in spent}  # bases an earlier attempt used up

    def write(self) -> None:
        made: dict[int, str] = {}  # row pk → the base of its actions' keys
        for row, verdict in self.verdicts:
            row.batch = self.batch
            if verdict.state != State.PLANNED:
                row.state, row.message, row.plan = verdict.state, verdict.message, verdict.plan or row.plan
                row.contact_id, row.booking_id = verdict.contact_id, verdict.booking_id
                continue
            base = f"imp:{verdict.key}"
            if base in self.spent:
                base = _base_key(verdict.key)
            try:
                with transaction.atomic():
                    self._row(row, verdict.plan, base)
            except BookingError as exc:
                row.state, row.message = State.INVALID, exc.message[:1000]
                continue
            except ObjectDoesNotExist:  # the booking, session or plan it names went away since the check
                row.state, row.message = (
                    State.INVALID,
                    "What this row names changed a moment ago: check the file again.",
                )
                continue
            row.key, row.plan, row.message = verdict.key, verdict.plan, ""
            made[row.pk] = base
        actions: dict[str, int] = dict(
            DeskAction.objects.filter(idempotency_key__in=[f"{b}:{s}" for b in made.values() for s in STEPS])
            .order_by("pk")
            .values_list("idempotency_key", "pk")
        )
        # No undo window for an import: due at once (the dry run was the check).
        DeskAction.objects.filter(pk__in=actions.values(), status=DeskAction.Status.QUEUED).update(
            run_after=timezone.now()
        )
        for row, _ in self.verdicts:
            if row.pk in made:
                row.actions = [actions[f"{made[row.pk]}:{s}"] for s in STEPS if f"{made[row.pk]}:{s}" in actions]
                row.state = State.WAITING if row.actions else State.SKIP
        ImportRow.objects.bulk_update(
            [row for row, _ in self.verdicts],
            ["batch", "state", "key", "plan", "actions", "contact", "booking", "message"],
        )

    def _row(self, row: ImportRow, plan: dict[str, Any], base: str) -> None:
        """One row's desk actions, through the desk services."""
        user = self.user
        contact = self.contacts.get(plan.get("contact")) or _contact(user, plan, f"{base}:contact")
        if plan.get("booking"):
            booking = _one(self.bookings, plan["booking"])
        elif plan.get("session"):
            session = _one(self.sessions, plan["session"])
            booking = desk.walk_in_create(user=user, contact=contact, session=session, idempotency_key=f"{base}:book")
        else:
            service = _one(self.services, plan["service"])
            booking = desk.walk_in_create(user=user, contact=contact, service=service, idempotency_key=f"{base}:book")
        pay = plan.get("pay") or {}
        if pay.get("method"):
            desk.payment_record(
                user=user,
                booking=booking,
                method=pay["method"],
                amount=Decimal(pay["amount"]),
                idempotency_key=f"{base}:pay",
            )
        elif pay.get("plan"):
            balance = _one(self.balances, pay["plan"])
            desk.plan_charge(user=user, booking=booking, balance=balance, idempotency_key=f"{base}:pay")
        elif pay.get("later"):
            desk.pay_later(user=user, booking=booking, idempotency_key=f"{base}:pay")
        attend = plan.get("attend") or {}
        if attend:
            desk.attendance_mark(
                user=user,
                booking=booking,
                status=attend["status"],
                session=_one(self.sessions, attend["session"]),
                idempotency_key=f"{base}:in",
            )
        row.contact, row.booking = contact, booking


def _one(found: dict[int, Any], pk: int) -> Any:
    if pk not in found:
        raise ObjectDoesNotExist(pk)
    return found[pk]


def _contact(user: Any, plan: dict[str, Any], key: str) -> Contact:
    if plan.get("contact"):
        return Contact.objects.get(pk=plan["contact"])
    person = plan["new_contact"]
    # Made a moment ago by an earlier row of this batch (the same email or phone): that one.
    same = None
    if person.get("email"):
        same = Contact.objects.filter(search_email=person["email"].casefold()).order_by("pk").first()
    elif person.get("phone"):
        same = Contact.objects.filter(search_phone=normalise_phone(person["phone"])).order_by("pk").first()
    if same is not None:
        return same
    return customers.customer_create(user=user, idempotency_key=key, **person)


def _base_key(key: str) -> str:
    """``imp:<row key>``, or ``imp:<row key>~n`` when the desk took back what an earlier attempt of
    this very row made (undone or removed): that attempt's keys are spent."""
    base, attempt = f"imp:{key}", 0
    while DeskAction.objects.filter(
        idempotency_key__in=[f"{base}:{s}" for s in STEPS],
        status__in=(DeskAction.Status.UNDONE, DeskAction.Status.REMOVED),
    ).exists():
        attempt += 1
        base = f"imp:{key}~{attempt}"
    return base
