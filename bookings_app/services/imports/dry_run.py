"""Step 2 of a participant import: the dry run. With the columns the admin chose, every row is
checked (``checks.Checker``) and its verdict stored on the row — to import (and exactly what:
a new customer, a booking, the payment, the check-in), already done, or an error with its column —
and the import gets the **diff**: how many contacts, bookings, payments, plan charges and check-ins
the commit would create, how many rows are already done, how many have errors, and the Wix calls it
should cost. Nothing else changes: no customer, booking, desk action or Wix call.

The rows are read and written a chunk at a time (``CHUNK``), each chunk in its own short
transaction, so a 20,000-row file runs in constant memory and never holds the database's write lock
for long (the desk keeps working meanwhile). ``plan_digest`` covers every row's verdict: the commit
form carries it, so what is committed is the dry run the admin read.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bookings_app.models import ImportRow, ParticipantImport, Service
from bookings_app.services.errors import BookingError
from bookings_app.services.imports import mapping as mapping_
from bookings_app.services.imports.checks import Checked, Checker
from bookings_app.services.imports.sheet import ImportRefused, Problem

State = ImportRow.State
CHUNK = 500
# A message about a field the file has no column for is shown at the column that stands in for it.
NEAREST = {"name": "first_name", "first_name": "name", "last_name": "name", "time": "date", "date": "time"}


def payment_mode() -> str:
    return getattr(settings.WIX, "payment_mode", "ecom")


def import_check(
    *, user: Any, imported: ParticipantImport, mapping: dict[str, int], allow_new_contacts: bool
) -> ParticipantImport:
    """Check every row with ``mapping`` and store the verdicts and the diff (status CHECKED); the
    mapping is remembered for the next file with these headers.

    Raises ``ImportRefused`` when the mapping can't import anyone (no name column, no session
    column …) and ``BookingError`` ``already_committed`` once the import was committed.
    """
    if imported.committed:
        raise BookingError(
            "This import was committed already: upload the file again to check it anew.", code="already_committed"
        )
    headers = list(imported.headers)
    mapping = mapping_.mapping_clean(mapping, len(headers))
    problems = mapping_.mapping_problems(mapping, headers)
    if problems:
        raise ImportRefused([Problem(p) for p in problems])
    imported.mapping, imported.allow_new_contacts = mapping, allow_new_contacts
    imported.status, imported.plan_digest, imported.checked_at, imported.diff = (
        ParticipantImport.Status.UPLOADED,
        "",
        None,
        {},
    )
    imported.save(update_fields=["mapping", "allow_new_contacts", "status", "plan_digest", "checked_at", "diff"])
    mapping_.mapping_remember(user=user, headers=headers, mapping=mapping)
    checker = Checker(imported=imported, mode=payment_mode())
    digest = hashlib.sha256()
    diff = Tally()
    for chunk in _chunks(imported):
        checked = checker.check([(number, values) for _, number, values in chunk])
        fresh = []
        for (_, number, values), verdict in zip(chunk, checked, strict=True):
            fresh.append(_row_of(imported, number, values, verdict, mapping, headers))
            diff.add(verdict)
            digest.update(_fingerprint(verdict))
        # The chunk's rows written anew: an insert of 500 rows costs a fraction of an UPDATE of
        # each (bulk_update's CASE per row and field); nothing refers to a row before the commit.
        with transaction.atomic():
            ImportRow.objects.filter(pk__in=[pk for pk, _, _ in chunk]).delete()
            ImportRow.objects.bulk_create(fresh)
    imported.diff = diff.as_json(currency=_currency())
    imported.plan_digest = digest.hexdigest()[:32]
    imported.checked_at = timezone.now()
    imported.status = ParticipantImport.Status.CHECKED
    imported.save(update_fields=["diff", "plan_digest", "checked_at", "status"])
    return imported


def _chunks(imported: ParticipantImport) -> Any:
    """(pk, number, values) of the rows in file order, ``CHUNK`` at a time (keyset paging)."""
    last = -1
    while True:
        chunk = list(
            ImportRow.objects.filter(participant_import=imported, number__gt=last)
            .order_by("number")
            .values_list("pk", "number", "values")[:CHUNK]
        )
        if not chunk:
            return
        yield chunk
        last = chunk[-1][1]


def _row_of(
    imported: ParticipantImport,
    number: int,
    values: list[str],
    verdict: Checked,
    mapping: dict[str, int],
    headers: list[str],
) -> ImportRow:
    about = verdict.about if verdict.about in mapping else NEAREST.get(verdict.about, "")
    column = mapping_.column_label(mapping[about], headers) if about in mapping else ""
    return ImportRow(
        participant_import=imported,
        number=number,
        values=values,
        key=verdict.key,
        state=verdict.state,
        message=_clip(verdict.message),
        column=column[:200],
        plan=verdict.plan,
        contact_id=verdict.contact_id,
        booking_id=verdict.booking_id,
    )


def _clip(text: str) -> str:
    text = text[0].upper() + text[1:] if text else text
    return text if len(text) <= 1000 else text[:999] + "…"


def _fingerprint(verdict: Checked) -> bytes:
    return json.dumps([verdict.number, verdict.state, verdict.key, verdict.plan], sort_keys=True).encode() + b"\n"


def _currency() -> str:
    return next(iter(Service.objects.exclude(currency="").values_list("currency", flat=True)[:1]), "")


class Tally:
    """The diff: what the commit would create, counted row by row."""

    def __init__(self) -> None:
        self.states: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.amounts: dict[str, Decimal] = {}
        self.calls = 0.0

    def add(self, verdict: Checked) -> None:
        self.states[verdict.state] += 1
        if verdict.state != State.PLANNED:
            return
        plan = verdict.plan
        if plan.get("new_contact") and not plan.get("same_as_row"):
            self.counts["contacts"] += 1
        if plan.get("booking") is None:
            self.counts["bookings"] += 1
        pay = plan.get("pay") or {}
        if pay.get("method"):
            method = pay["method"]
            self.counts[f"pay_{method}"] += 1
            self.amounts[method] = self.amounts.get(method, Decimal("0")) + Decimal(pay["amount"])
        elif pay.get("plan"):
            self.counts["plan_charges"] += 1
        elif pay.get("later"):
            self.counts["owes"] += 1
            self.amounts["LATER"] = self.amounts.get("LATER", Decimal("0")) + Decimal(pay["later"])
        attend = (plan.get("attend") or {}).get("status")
        if attend:
            self.counts["check_ins" if attend == "ATTENDED" else "no_shows"] += 1
        self.calls += float(plan.get("calls") or 0)

    def as_json(self, *, currency: str) -> dict[str, Any]:
        payments = sum(self.counts[f"pay_{m}"] for m in ("CASH", "CARD", "CHECK"))
        return {
            "rows": sum(self.states.values()),
            "planned": self.states[State.PLANNED],
            "skip": self.states[State.SKIP],
            "invalid": self.states[State.INVALID],
            "contacts": self.counts["contacts"],
            "bookings": self.counts["bookings"],
            "payments": payments,
            "by_method": {m: self.counts[f"pay_{m}"] for m in ("CASH", "CARD", "CHECK")},
            "amounts": {k: str(v) for k, v in self.amounts.items()},
            "plan_charges": self.counts["plan_charges"],
            "owes": self.counts["owes"],
            "check_ins": self.counts["check_ins"],
            "no_shows": self.counts["no_shows"],
            "calls": math.ceil(self.calls - 1e-9),
            "currency": currency,
            "mode": payment_mode(),
        }
