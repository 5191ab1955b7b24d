"""Forms for the desk screens. They check the shape of what staff typed or tapped (a method, an
amount, an email); the business rules (is anything due, is there credit, is there room) live in
``services.desk`` and come back as ``BookingError``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.core import signing

from bookings_app import money
from bookings_app.converters import id_or_none
from bookings_app.models import Attendance, BenefitBalance, Contact, CustomerNote, Service, normalise_phone

KEY_RE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
SLOT_SALT = "desk.appointment-slot"
SLOT_MAX_AGE = 60 * 60 * 12  # a slot picked this morning is still a fair offer this afternoon


# --- a day (Today, Book appointment) ------------------------------------------------------------

# The days a desk screen can show: each asks for the sessions from its midnight to the next and
# links to the day before and after, so the first and the last day Python has are out of reach.
FIRST_DAY = date.min + timedelta(days=1)
LAST_DAY = date.max - timedelta(days=1)


def day_in_range(day: date) -> None:
    """A day with a day before and after it (date arithmetic past ``date.max`` is an OverflowError)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise forms.ValidationError("Choose a day between 2 January 0001 and 30 December 9999.", code="day_range")


class DayField(forms.DateField):
    """A day typed or linked as YYYY-MM-DD, one a desk screen can show."""

    default_validators = [day_in_range]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["%Y-%m-%d"])
        kwargs.setdefault("error_messages", {"invalid": "Enter a date as YYYY-MM-DD."})
        super().__init__(**kwargs)


def day_neighbours(day: date) -> tuple[date | None, date | None]:
    """The day before and the day after ``day`` that a screen may link to (None past the edge)."""
    before = day - timedelta(days=1) if day > FIRST_DAY else None
    after = day + timedelta(days=1) if day < LAST_DAY else None
    return before, after


class DeskActionForm(forms.Form):
    """Every desk action carries the token rendered into its form (``{% idempotency_key %}``)."""

    idempotency_key = forms.CharField(
        widget=forms.HiddenInput,
        error_messages={"required": "This form is out of date: reload the page and try again."},
    )

    def clean_idempotency_key(self) -> str:
        key = self.cleaned_data["idempotency_key"].strip()
        if not KEY_RE.match(key):
            raise forms.ValidationError("This form is out of date: reload the page and try again.")
        return key

    def first_error(self) -> str:
        """One line for a place with room for one message (a roster row)."""
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return ""


class AmountField(forms.CharField):
    """An amount of money as staff type it: "12", "7.50", "£1,234.50", "12,50" (``money.parse_amount``)."""

    default_error_messages = {"invalid": "Enter an amount like 5 or 7.50."}

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        amount = money.parse_amount(text)
        if amount is None or abs(amount) >= Decimal("1e8"):  # the mirror holds 10 figures, 2 after the point
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return amount


class PaymentForm(DeskActionForm):
    """Cash, card or cheque for what the booking owes (the row's "Cash £12.00"), or a part of it
    (the part-payment prompt, which says so with ``part``: its amount is required)."""

    METHODS = [("CASH", "Cash"), ("CARD", "Card"), ("CHECK", "Cheque")]

    method = forms.ChoiceField(choices=METHODS, error_messages={"required": "Choose cash, card or cheque."})
    part = forms.BooleanField(required=False)  # cleaned before the amount, which it makes required
    amount = AmountField(required=False)

    def __init__(self, *args: Any, amount_due: Decimal | None, currency: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.amount_due = amount_due
        self.currency = currency

    def clean_amount(self) -> Decimal | None:
        amount = self.cleaned_data.get("amount")
        if amount is None:
            if self.cleaned_data.get("part") and self.amount_due is not None:
                # An empty part payment is a question, not "all of it": ask for the amount.
                due = money.format_money(self.amount_due, self.currency)
                raise forms.ValidationError(f"Enter the amount taken (at most {due}).", code="required")
            return None
        if amount <= 0:
            raise forms.ValidationError("Enter an amount above zero.")
        if self.amount_due is not None and amount > self.amount_due:
            raise forms.ValidationError(
                f"That is more than the {money.format_money(self.amount_due, self.currency)} due."
            )
        return amount.quantize(Decimal("0.01"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.amount_due is None and not self.has_error("amount"):
            raise forms.ValidationError("Nothing is due on this booking.")
        if cleaned.get("amount") is None and self.amount_due is not None:
            cleaned["amount"] = self.amount_due  # the button says "Cash £12": take all of it
        return cleaned


class PlanChargeForm(DeskActionForm):
    balance = forms.ModelChoiceField(
        queryset=BenefitBalance.objects.none(),
        error_messages={
            "required": "Choose a plan.",
            "invalid_choice": "That plan cannot pay for this booking.",
        },
    )

    def __init__(self, *args: Any, balances: list[BenefitBalance], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the plans the roster offered: another member's pool id is simply not a choice.
        self.fields["balance"].queryset = BenefitBalance.objects.filter(pk__in=[b.pk for b in balances])


class AttendanceForm(DeskActionForm):
    STATUSES = [(Attendance.Status.ATTENDED, "Check in"), (Attendance.Status.NOT_ATTENDED, "No-show")]

    status = forms.ChoiceField(choices=STATUSES, error_messages={"required": "Choose check in or no-show."})


class ResolveForm(DeskActionForm):
    CHOICES = [
        ("retry", "Retry"),
        ("cash_instead", "Take cash instead"),
        ("override", "Override (manager)"),
        ("remove", "Remove"),
    ]

    choice = forms.ChoiceField(choices=CHOICES)


class UndoForm(forms.Form):
    """Undo needs no token: undoing twice is refused by the service ("too late to undo")."""


# --- customers and walk-ins -------------------------------------------------------------------


class PayFieldMixin(forms.Form):
    """How a new booking (or package) is paid, chosen in the same tap that books it: the button's
    value is CASH, CARD, CHECK, LATER, PLAN:<balance pk> (``cleaned_data["balance"]``), or empty
    (decide later)."""

    pay = forms.CharField(required=False, max_length=40)

    def clean_pay(self) -> str:
        pay = self.cleaned_data.get("pay", "").strip().upper()
        self.cleaned_data["balance"] = None
        if pay in ("", "CASH", "CARD", "CHECK", "LATER"):
            return pay
        kind, _, pk = pay.partition(":")
        balance_pk = id_or_none(pk) if kind == "PLAN" else None
        if balance_pk is not None:
            balance = BenefitBalance.objects.filter(pk=balance_pk).first()
            if balance is None:
                raise forms.ValidationError("That plan no longer exists.")
            self.cleaned_data["balance"] = balance
            return "PLAN"
        raise forms.ValidationError("Choose how they pay.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        cleaned.setdefault("balance", None)
        return cleaned


class PayChoiceMixin(PayFieldMixin):
    """:class:`PayFieldMixin` for a walk-in or an appointment, with the group size and the
    manager's override of a full session."""

    participants = forms.IntegerField(
        min_value=1,
        max_value=50,
        required=False,
        error_messages={
            "min_value": "At least one person.",
            "max_value": "At most 50 people at once.",
            "invalid": "Enter how many people, like 2.",
        },
    )
    override_capacity = forms.BooleanField(required=False)

    def clean_participants(self) -> int:
        return self.cleaned_data.get("participants") or 1


class CustomerSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, strip=True)


class WalkInForm(PayChoiceMixin, DeskActionForm):
    """Book a customer we already know into the session (or course, or appointment slot)."""

    contact = forms.ModelChoiceField(
        queryset=Contact.objects.all(),
        error_messages={"required": "Choose a customer.", "invalid_choice": "That customer no longer exists."},
    )


class CustomerForm(DeskActionForm):
    """The "new customer" quick form: a first name and a way to reach them."""

    first_name = forms.CharField(max_length=200, error_messages={"required": "Enter a first name."})
    last_name = forms.CharField(max_length=200, required=False)
    email = forms.EmailField(
        max_length=320, required=False, error_messages={"invalid": "Enter an email like name@example.com."}
    )
    phone = forms.CharField(max_length=50, required=False)

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        if phone and not 6 <= len(normalise_phone(phone)) <= 15:
            raise forms.ValidationError("Enter a phone number with 6 to 15 digits.")
        if phone and re.search(r"[^\d\s()+.-]", phone):
            raise forms.ValidationError("A phone number has digits, spaces, + ( ) - only.")
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and not self.has_error("email"):
            if not self.has_error("phone"):
                self.add_error("email", "Give an email or a phone number (or both).")
        return cleaned


class NewCustomerWalkInForm(PayChoiceMixin, CustomerForm):
    """New customer and their booking, in one form."""


# --- the customer card: notes, alerts, emergency contact ------------------------------------------


class CustomerNoteEditForm(forms.Form):
    """A note's text and its check-in alert (none, medical, waiver, ask about payment, other)."""

    text = forms.CharField(
        max_length=CustomerNote.MAX_LENGTH,
        widget=forms.Textarea,
        error_messages={
            "required": "Write the note.",
            "max_length": f"Keep the note under {CustomerNote.MAX_LENGTH} characters.",
        },
    )
    alert = forms.ChoiceField(
        choices=CustomerNote.Alert.choices,
        required=False,
        error_messages={"invalid_choice": "Choose one of the alerts offered."},
    )

    def first_error(self) -> str:
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return ""


class CustomerNoteForm(CustomerNoteEditForm, DeskActionForm):
    """A new note: its token adds it once however often the form is sent."""


class EmergencyContactForm(forms.Form):
    """Who to call; all fields blank removes the emergency contact."""

    name = forms.CharField(max_length=200, required=False)
    phone = forms.CharField(max_length=50, required=False)
    relationship = forms.CharField(max_length=100, required=False)

    def clean_phone(self) -> str:
        phone = self.cleaned_data.get("phone", "").strip()
        if phone and re.search(r"[^\d\s()+.-]", phone):
            raise forms.ValidationError("A phone number has digits, spaces, + ( ) - only.")
        return phone

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        name, phone = cleaned.get("name", ""), cleaned.get("phone", "")
        if (name or phone or cleaned.get("relationship")) and not self.has_error("phone"):
            if not name:
                self.add_error("name", "Enter their name.")
            if not phone:
                self.add_error("phone", "Enter their phone number.")
        return cleaned


# --- book an appointment ------------------------------------------------------------------------


def slot_sign(slot: dict[str, Any]) -> str:
    """A slot from ``appointment_slots`` as an opaque, tamper-proof URL value."""
    return signing.dumps(slot, salt=SLOT_SALT, compress=True)


def slot_unsign(value: str) -> dict[str, Any] | None:
    try:
        slot = signing.loads(value, salt=SLOT_SALT, max_age=SLOT_MAX_AGE)
    except signing.BadSignature:
        return None
    return slot if isinstance(slot, dict) and slot.get("start") else None


class AppointmentStepForm(forms.Form):
    """Where the "Book appointment" screen is: ?service=&day=&slot=&q=."""

    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(type=Service.Type.APPOINTMENT, hidden=False),
        required=False,
        error_messages={"invalid_choice": "That service is not an appointment."},
    )
    day = DayField(required=False)
    slot = forms.CharField(required=False)
    q = forms.CharField(required=False, max_length=100)

    def clean_slot(self) -> dict[str, Any] | None:
        value = self.cleaned_data.get("slot")
        if not value:
            return None
        slot = slot_unsign(value)
        if slot is None:
            raise forms.ValidationError("That time is no longer on offer: pick a time again.")
        return slot


class AppointmentBookForm(AppointmentStepForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("service") and not self.has_error("service"):
            self.add_error("service", "Choose a service.")
        if not cleaned.get("slot") and not self.has_error("slot"):
            self.add_error("slot", "Choose a time.")
        return cleaned


# --- settle roster ------------------------------------------------------------------------------

SETTLE_RESOLUTIONS = [
    ("plan", "Plan"),
    ("cash", "Cash"),
    ("card", "Card"),
    ("check", "Cheque"),
    ("owes", "Owes"),
    ("skip", "Skip"),
]


@dataclass
class SettleField:
    """One participant's controls on the Settle screen (names: ``r<booking pk>-…``)."""

    row: Any  # services.desk.SettleRow
    choices: list[tuple[str, str]]
    resolution: str
    check_in: bool
    error: str = ""

    @property
    def prefix(self) -> str:
        return f"r{self.row.booking.pk}"


class SettleForm(DeskActionForm):
    """One resolution and a check-in toggle per participant; built from the suggestions so a
    booking that is not on the roster (or a plan that was not offered) cannot be submitted."""

    def __init__(self, *args: Any, rows: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.participants: list[SettleField] = []
        for row in rows:
            choices = settle_choices(row)
            name = f"r{row.booking.pk}"
            suggested = row.resolution if row.resolution in dict(choices) else choices[0][0]
            self.fields[f"{name}-resolution"] = forms.ChoiceField(
                choices=choices,
                initial=suggested,
                error_messages={"invalid_choice": "Choose one of the options shown.", "required": "Choose one."},
            )
            self.fields[f"{name}-check_in"] = forms.BooleanField(required=False, initial=row.check_in)
            self.participants.append(SettleField(row=row, choices=choices, resolution=suggested, check_in=row.check_in))
        if self.is_bound:
            for field in self.participants:
                field.resolution = self.data.get(f"{field.prefix}-resolution", "")
                field.check_in = self.data.get(f"{field.prefix}-check_in") in ("on", "1", "true")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for field in self.participants:
            errors = self.errors.get(f"{field.prefix}-resolution")
            field.error = str(errors[0]) if errors else ""
        return cleaned

    def choices(self) -> list[dict[str, Any]]:
        """What to pass to ``services.desk.settle_commit`` as SettleChoice keyword arguments."""
        result = []
        for field in self.participants:
            row = field.row
            resolution = self.cleaned_data[f"{field.prefix}-resolution"]
            if resolution == "paid":
                resolution = "skip"  # already paid: nothing to take, only the check-in
            result.append(
                {
                    "booking_id": row.booking.pk,
                    "resolution": resolution,
                    "balance_id": row.balance.pk if resolution == "plan" and row.balance else None,
                    "amount": row.amount_due if resolution in ("cash", "card", "check") else None,
                    "check_in": self.cleaned_data[f"{field.prefix}-check_in"],
                }
            )
        return result


def settle_choices(row: Any) -> list[tuple[str, str]]:
    """The options a row offers: a paid row only "Paid"; plan only with an eligible balance."""
    if row.resolution == "paid" or not row.amount_due:
        return [("paid", "Paid")]
    choices = [(value, label) for value, label in SETTLE_RESOLUTIONS if value != "plan" or row.balance is not None]
    return choices


def day_or_none(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class PlanSaleForm(DeskActionForm):
    """Sell a plan at the desk: who, which plan (one the desk offers), how they paid, and whether
    it pays for their visit to this session straight away."""

    contact = forms.ModelChoiceField(
        queryset=Contact.objects.all(),
        error_messages={"required": "Choose the customer.", "invalid_choice": "That customer no longer exists."},
    )
    plan = forms.ChoiceField(
        error_messages={
            "required": "Choose a plan.",
            "invalid_choice": "That plan isn't on sale any more: reload the page.",
        },
    )
    method = forms.ChoiceField(choices=PaymentForm.METHODS, error_messages={"required": "Choose cash, card or cheque."})
    use_for_visit = forms.BooleanField(required=False)

    def __init__(self, *args: Any, plan_ids: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].choices = [(plan_id, plan_id) for plan_id in plan_ids]


# --- changing a booking: reschedule, cancel ---------------------------------------------------------


class RescheduleForm(DeskActionForm):
    """Where the booking moves: one of its class's sessions (``session``, a pk) or an appointment's
    free time (``slot``, as the change page signed it)."""

    session = forms.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, error_messages={"invalid": "Choose a session from the list."}
    )
    slot = forms.CharField(required=False, max_length=4000)

    def clean_slot(self) -> dict[str, Any] | None:
        value = self.cleaned_data.get("slot")
        if not value:
            return None
        slot = slot_unsign(value)
        if slot is None:
            raise forms.ValidationError("That time is no longer on offer: pick a time again.")
        return slot

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("session") and not cleaned.get("slot"):
            raise forms.ValidationError("Choose where to move the booking.", code="required")
        return cleaned


class CancelForm(DeskActionForm):
    """Cancel; ``refund`` (a manager): reverse the desk's payments first."""

    refund = forms.BooleanField(required=False)
