"""One row's cells read into what they say (``RowInput``) — names, email, phone, which session, how
they paid, whether they came — with every cell that can't be read reported by its column, and the
row's content identity (``row_key``). No database here: ``checks`` matches the row against the
mirror.

Words accepted: *paid* cash; card (credit, debit, contactless, Visa …); cheque (check); plan (pass,
membership, credit); online (website — already paid when they booked); unpaid (no, owes, later).
*Attended* yes / y / true / 1 / x / ✓ / present / came, or no / n / false / 0 / absent / no-show.
Dates and times as ``sheet.parse_date`` / ``parse_time`` read them (day first); a date cell may
carry the time too ("2027-03-02 07:00", an XLSX date-time).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, time
from decimal import Decimal

from bookings_app import money
from bookings_app.models import normalise_phone, normalise_text
from bookings_app.services.customers import EMAIL_PATTERN
from bookings_app.services.imports.mapping import BY_NAME
from bookings_app.services.imports.sheet import parse_date, parse_datetime, parse_time

CASH, CARD, CHECK, PLAN, ONLINE, LATER = "CASH", "CARD", "CHECK", "PLAN", "ONLINE", "LATER"
METHODS = (CASH, CARD, CHECK)
PAYMENT_WORDS: dict[str, str] = {
    **dict.fromkeys(("cash", "paid cash", "cash paid", "in cash", "notes", "coins"), CASH),
    **dict.fromkeys(
        (
            "card",
            "credit card",
            "debit card",
            "credit",
            "debit",
            "contactless",
            "visa",
            "mastercard",
            "amex",
            "card machine",
            "cc",
            "paid card",
            "chip and pin",
            "apple pay",
            "google pay",
            "sumup",
            "zettle",
        ),
        CARD,
    ),
    **dict.fromkeys(("cheque", "check", "chq", "chk", "paid by cheque", "paid by check"), CHECK),
    **dict.fromkeys(
        ("plan", "pass", "class pass", "membership", "member", "credits", "swim pass", "pricing plan", "subscription"),
        PLAN,
    ),
    **dict.fromkeys(
        (
            "online",
            "paid online",
            "website",
            "web",
            "wix",
            "prepaid",
            "pre paid",
            "in advance",
            "already paid",
            "booked online",
        ),
        ONLINE,
    ),
    **dict.fromkeys(
        (
            "unpaid",
            "not paid",
            "no",
            "n",
            "owes",
            "owe",
            "owed",
            "later",
            "pay later",
            "to pay",
            "due",
            "outstanding",
            "none",
            "nothing",
        ),
        LATER,
    ),
}
ATTENDED_WORDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "yes",
            "y",
            "true",
            "1",
            "x",
            "✓",
            "✔",
            "present",
            "came",
            "attended",
            "here",
            "checked in",
            "in",
            "arrived",
            "showed",
            "showed up",
            "ok",
        ),
        "ATTENDED",
    ),
    **dict.fromkeys(
        (
            "no",
            "n",
            "false",
            "0",
            "absent",
            "no show",
            "noshow",
            "dns",
            "did not attend",
            "didnt come",
            "did not come",
            "missed",
            "not attended",
            "away",
        ),
        "NOT_ATTENDED",
    ),
}
FORMULA_START = ("=", "+", "@")  # "-" starts many real names: "-" alone is checked below


@dataclass
class RowInput:
    """What one row asks for, as written (not yet matched against the mirror)."""

    number: int
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    session_id: str = ""
    service: str = ""
    day: date | None = None
    start: time | None = None
    payment: str = ""  # CASH | CARD | CHECK | PLAN | ONLINE | LATER | "" (nothing said)
    payment_text: str = ""  # as written, when it is no word we know (maybe a plan's name)
    amount: Decimal | None = None
    plan: str = ""
    attended: str = ""  # ATTENDED | NOT_ATTENDED | "" (nothing said)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, message)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def who(self) -> str:
        return self.full_name or self.email or self.phone or "(no name)"

    def error(self, name: str, message: str) -> None:
        self.errors.append((name, message))


def cells_of(values: list[str], mapping: dict[str, int]) -> dict[str, str]:
    """field → the cell's text ("" when the column is not chosen or the row is short)."""
    return {name: (values[index].strip() if index < len(values) else "") for name, index in mapping.items()}


def row_read(number: int, cells: dict[str, str]) -> RowInput:
    """The row's cells read, each problem noted with its field (``RowInput.errors``)."""
    row = RowInput(number=number)
    for name, text in cells.items():
        limit = BY_NAME[name].max_length
        if len(text) > limit:
            row.error(name, f"this cell is {len(text):,} characters long; at most {limit} are read here.")
            cells[name] = ""
    _names(row, cells)
    _contact_details(row, cells)
    _session(row, cells)
    _money(row, cells)
    _attended(row, cells.get("attended", ""))
    return row


def _looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_START) or (text.startswith("-") and len(text) > 1 and not text[1].isalpha())


def _names(row: RowInput, cells: dict[str, str]) -> None:
    first, last = cells.get("first_name", ""), cells.get("last_name", "")
    full = cells.get("name", "")
    if not (first or last) and full:
        if "," in full:  # "Smith, Olivia" as registers list people
            last, _, first = (part.strip() for part in full.partition(","))
        else:
            *given, family = full.split()
            first, last = (" ".join(given), family) if given else (family, "")
    for name, text in (("first_name", first), ("last_name", last)):
        if text and _looks_like_formula(text):
            row.error(
                "name" if full and not cells.get(name) else name,
                f"“{text[:40]}” looks like a spreadsheet formula, not a name.",
            )
            return
    row.first_name, row.last_name = " ".join(first.split()), " ".join(last.split())


def _contact_details(row: RowInput, cells: dict[str, str]) -> None:
    email = cells.get("email", "").strip().strip("<>").strip()
    if email.lower().startswith("mailto:"):
        email = email[7:]
    if email and not EMAIL_PATTERN.match(email):
        row.error("email", f"“{email[:60]}” is not an email address.")
        email = ""
    row.email = email
    phone = cells.get("phone", "")
    if phone and (
        _looks_like_formula(phone.replace("+", "", 1) if phone.startswith("+") else phone)
        or sum(ch.isdigit() for ch in phone) < 5
        or re.search(r"[A-Za-z]{3,}", phone)
    ):
        row.error("phone", f"“{phone[:40]}” is not a phone number.")
        phone = ""
    row.phone = " ".join(phone.split())


def _session(row: RowInput, cells: dict[str, str]) -> None:
    row.session_id = cells.get("session_id", "").strip()
    service = cells.get("service", "")
    if service and _looks_like_formula(service):
        row.error("service", f"“{service[:40]}” looks like a spreadsheet formula, not a class.")
        service = ""
    row.service = " ".join(service.split())
    day_text, time_text = cells.get("date", ""), cells.get("time", "")
    if day_text:
        moment = parse_datetime(day_text)
        row.day = moment.date() if moment else parse_date(day_text)
        if moment is not None and not time_text and moment.time() != time(0):
            row.start = moment.time()
        if row.day is None:
            row.error("date", f"“{day_text[:40]}” is not a date. Write it as 31/01/2027 (day first) or 2027-01-31.")
    if time_text:
        row.start = parse_time(time_text)
        if row.start is None:
            moment = parse_datetime(time_text)  # an XLSX date-time in the time column
            row.start = moment.time() if moment else None
        if row.start is None:
            row.error("time", f"“{time_text[:40]}” is not a time. Write it as 07:00 (24-hour clock).")


def _money(row: RowInput, cells: dict[str, str]) -> None:
    text = cells.get("payment", "")
    key = normalise_text(text).replace("-", " ")
    row.payment = PAYMENT_WORDS.get(key, "")
    if text and not row.payment:
        row.payment_text = text  # a plan's own name, perhaps: ``checks`` looks
    amount_text = cells.get("amount", "")
    if amount_text:
        amount = money.parse_amount(amount_text)
        if amount is None or amount < 0:
            row.error("amount", f"“{amount_text[:40]}” is not an amount. Write it as 12 or 12.50.")
        elif amount == 0 and row.payment in METHODS:
            row.error("amount", "the amount is 0: write what they paid, or “unpaid” in the paid column.")
        else:
            row.amount = amount
    plan = cells.get("plan", "")
    if plan and _looks_like_formula(plan):
        row.error("plan", f"“{plan[:40]}” looks like a spreadsheet formula, not a plan.")
        plan = ""
    row.plan = " ".join(plan.split())
    if row.plan and not text:
        row.payment = PLAN  # a plan named and nothing else said: they paid with it


def _attended(row: RowInput, text: str) -> None:
    if not text:
        return
    found = ATTENDED_WORDS.get(text.strip()) or ATTENDED_WORDS.get(
        normalise_text(text).replace("-", " ").replace("'", "")
    )
    if found is None:
        row.error("attended", f"“{text[:40]}” is not yes or no.")
        return
    row.attended = found


def row_key(row: RowInput) -> str:
    """The row's content identity: who (email, phone, name), which session, the money, attendance —
    normalised, so spacing and capitals don't make a re-uploaded row new."""
    parts = [
        (row.email or "").casefold(),
        normalise_phone(row.phone),
        normalise_text(row.full_name),
        row.session_id,
        normalise_text(row.service),
        row.day.isoformat() if row.day else "",
        row.start.strftime("%H:%M") if row.start else "",
        row.payment,
        normalise_text(row.payment_text),
        str(row.amount) if row.amount is not None else "",
        normalise_text(row.plan),
        row.attended,
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
