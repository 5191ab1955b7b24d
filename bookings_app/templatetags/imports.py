"""Template helpers for the participant import pages: what a row will make (or made), in short."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from bookings_app.money import format_money

register = template.Library()

METHODS = {"CASH": "Cash", "CARD": "Card", "CHECK": "Cheque"}


@register.simple_tag
def import_steps(plan: dict[str, Any] | None, currency: str = "") -> list[tuple[str, str]]:
    """(words, badge class) for each thing a planned row makes: "New customer", "Booking",
    "Cash £12.00", "Plan: 10-Swim Pass", "Owes £12.00", "Check-in", "No-show"."""
    plan = plan or {}
    steps: list[tuple[str, str]] = []
    if plan.get("new_contact"):
        same = plan.get("same_as_row")
        steps.append((f"Same new customer as row {same}" if same else "New customer", "is-pending"))
    if plan.get("service") is not None and plan.get("booking") is None:
        steps.append(("Booking", "kind-class" if plan.get("session") else "kind-course"))
    pay = plan.get("pay") or {}
    if pay.get("method"):
        amount = format_money(Decimal(pay["amount"]), currency)
        steps.append((f"{METHODS.get(pay['method'], pay['method'])} {amount}", "is-ok"))
    elif pay.get("plan"):
        steps.append((f"Plan: {pay.get('plan_name') or 'their plan'}", "pay-plan"))
    elif pay.get("later"):
        steps.append((f"Owes {format_money(Decimal(pay['later']), currency)}", "pay-not_paid"))
    status = (plan.get("attend") or {}).get("status")
    if status:
        came = status == "ATTENDED"
        steps.append(("Check-in" if came else "No-show", "status-confirmed" if came else ""))
    return steps


@register.filter
def row_cells(values: list[Any] | None, limit: int = 4) -> str:
    """The first few filled cells of a row, as the admin typed them."""
    shown = [str(v) for v in values or [] if str(v).strip()]
    text = " · ".join(s if len(s) <= 40 else s[:39] + "…" for s in shown[:limit])
    return text + (" …" if len(shown) > limit else "")


@register.filter
def column_field(form: Any, index: int) -> Any:
    """The mapping form's choice for column ``index`` (``MappingForm``'s ``col-<i>``)."""
    return form[f"col-{index}"]
