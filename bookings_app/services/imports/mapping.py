"""Which column of the participants' file holds what: recognised from the headers (the common
English spellings, ``HEADERS``), adjusted by the admin on the mapping screen, and remembered for the
next file with the same headers (``ImportMapping``, keyed by ``headers_signature``).

A mapping is ``{field: column index}``. The fields (``FIELDS``): who — a full name or first name and
surname, an email, a phone; which session — its Wix id, or the service (class or course) with the
date and start time (a course without a date is an enrolment); the money — how they paid, the
amount, the plan; and whether they attended. ``mapping_problems`` says what a mapping lacks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app.models import ImportMapping
from bookings_app.services.imports.sheet import column_letter, header_key


@dataclass(frozen=True)
class Field:
    name: str
    label: str  # on the mapping screen and in messages: "the email (“Email”)"
    aliases: tuple[str, ...]  # compared after ``header_key``
    max_length: int  # longer text in a cell is an error of the row


FIELDS: tuple[Field, ...] = (
    Field(
        "name",
        "Full name",
        (
            "name",
            "full name",
            "participant",
            "participant name",
            "customer",
            "client",
            "swimmer",
            "member",
            "member name",
            "customer name",
            "attendee",
            "person",
        ),
        400,
    ),
    Field(
        "first_name",
        "First name",
        ("first name", "firstname", "first", "forename", "given name", "christian name"),
        200,
    ),
    Field("last_name", "Surname", ("surname", "last name", "lastname", "last", "family name", "second name"), 200),
    Field("email", "Email", ("email", "e mail", "email address", "e mail address", "mail", "emailaddress"), 320),
    Field(
        "phone",
        "Phone",
        (
            "phone",
            "mobile",
            "telephone",
            "tel",
            "phone number",
            "mobile number",
            "cell",
            "mobile phone",
            "contact number",
            "telephone number",
            "mob",
        ),
        50,
    ),
    Field(
        "session_id",
        "Wix session id",
        ("session id", "wix session id", "event id", "wix event id", "session ref", "booking session id"),
        250,
    ),
    Field(
        "service",
        "Class or course",
        (
            "class",
            "service",
            "course",
            "activity",
            "class name",
            "service name",
            "course name",
            "session",
            "session name",
            "lesson",
            "programme",
            "program",
        ),
        400,
    ),
    Field(
        "date", "Date", ("date", "session date", "class date", "day", "date of class", "date of session", "when"), 40
    ),
    Field(
        "time",
        "Start time",
        ("time", "start", "start time", "starts", "starts at", "class time", "session time", "from"),
        20,
    ),
    Field(
        "payment",
        "Paid",
        (
            "paid",
            "payment",
            "paid by",
            "payment method",
            "method",
            "how paid",
            "pay",
            "payment type",
            "paid with",
            "paid how",
        ),
        40,
    ),
    Field(
        "amount",
        "Amount",
        ("amount", "amount paid", "paid amount", "price", "fee", "cost", "sum", "total", "amount gbp", "gbp"),
        40,
    ),
    Field("plan", "Plan", ("plan", "pass", "membership", "plan name", "pricing plan", "class pass", "pass name"), 400),
    Field(
        "attended",
        "Attended",
        (
            "attended",
            "checked in",
            "check in",
            "present",
            "attendance",
            "came",
            "here",
            "showed up",
            "arrived",
            "signed in",
            "in",
        ),
        20,
    ),
)
BY_NAME = {f.name: f for f in FIELDS}
_ALIASES = {alias: f.name for f in FIELDS for alias in f.aliases}
ALIASES = frozenset(_ALIASES)
# Our own columns in a failed-rows download: ignored when that file comes back fixed.
OWN_COLUMNS = frozenset({"error", "problem", "import error", "result"})
TEMPLATE_HEADERS = (
    "First name",
    "Surname",
    "Email",
    "Phone",
    "Class",
    "Date",
    "Time",
    "Paid",
    "Amount",
    "Plan",
    "Attended",
)


def field_of(header: str) -> str | None:
    """The field a header names, or None."""
    return _ALIASES.get(header_key(header))


def headers_signature(headers: list[str]) -> str:
    """The same headers (in any case and spacing, in the same order) give the same signature; our
    own "Error" column of a failed-rows download is left out, so the fixed file matches too."""
    keys = [header_key(h) for h in headers]
    keys = [k for k in keys if k not in OWN_COLUMNS]
    while keys and not keys[-1]:
        keys.pop()
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()


def mapping_guess(headers: list[str]) -> tuple[dict[str, int], bool]:
    """The mapping for these headers: the one remembered for them (True), else the recognised
    spellings (False) — the first column for each field."""
    remembered = ImportMapping.objects.filter(signature=headers_signature(headers)).first()
    if remembered is not None:
        usable = mapping_clean(remembered.mapping, len(headers))
        if usable:
            return usable, True
    out: dict[str, int] = {}
    for index, header in enumerate(headers):
        name = field_of(header)
        if name is not None and name not in out:
            out[name] = index
    return out, False


def mapping_clean(raw: Any, columns: int) -> dict[str, int]:
    """``raw`` (stored JSON, or a form's choices) as a mapping of known fields to existing columns."""
    out: dict[str, int] = {}
    if not isinstance(raw, dict):
        return out
    for name, index in raw.items():
        if name in BY_NAME and isinstance(index, int) and not isinstance(index, bool) and 0 <= index < columns:
            out[name] = index
    return out


def mapping_problems(mapping: dict[str, int], headers: list[str]) -> list[str]:
    """What a mapping lacks to import anyone (empty: it will do)."""
    problems = []
    columns: dict[int, list[str]] = {}
    for name, index in mapping.items():
        columns.setdefault(index, []).append(name)
    for index, names in sorted(columns.items()):
        if len(names) > 1:
            labels = " and ".join(BY_NAME[n].label for n in names)
            problems.append(f"Column {column_label(index, headers)} is chosen for both {labels}: choose one.")
    if not ({"name", "first_name", "last_name", "email", "phone"} & mapping.keys()):
        problems.append("Choose the column with the participant's name, email or phone.")
    if not ({"session_id", "service"} & mapping.keys()):
        problems.append(
            "Choose the column that says which class or course (or the Wix session id): without it no one can "
            "be booked."
        )
    if "amount" in mapping and "payment" not in mapping:
        problems.append("An amount needs a column saying how it was paid (cash, card, cheque…): choose “Paid”.")
    return problems


def column_label(index: int, headers: list[str]) -> str:
    header = headers[index] if 0 <= index < len(headers) else ""
    return f"{column_letter(index)} “{header}”" if header else column_letter(index)


def mapping_remember(*, user: Any, headers: list[str], mapping: dict[str, int]) -> None:
    """Offer this mapping for the next file with these headers."""
    signature = headers_signature(headers)
    who = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        ImportMapping.objects.update_or_create(
            signature=signature,
            defaults={"headers": headers, "mapping": mapping, "updated_at": timezone.now(), "updated_by": who},
        )
