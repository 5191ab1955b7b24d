"""Small helpers every sandbox handler module shares."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from .app import Sandbox, SandboxRequest
from .errors import ValidationFailed, violation

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_guid(value: Any) -> bool:
    """Whether ``value`` is a GUID string (what the SDK's ``@format GUID`` fields accept)."""
    return isinstance(value, str) and bool(_GUID.match(value))


def iso(dt: datetime) -> str:
    """UTC timestamp the way Wix writes ``createdDate``: ``2026-01-30T13:30:00.000Z``."""
    return dt.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def now_iso(sb: Sandbox) -> str:
    return iso(sb.state.now())


def stamp_new(sb: Sandbox, entity: dict[str, Any], *, revision: bool = True) -> dict[str, Any]:
    """Give a new entity its id, dates and first revision (``revision`` is a string, §0.3)."""
    entity.setdefault("id", sb.state.new_id())
    entity["createdDate"] = entity["updatedDate"] = now_iso(sb)
    if revision:
        entity["revision"] = "1"
    return entity


def touch(sb: Sandbox, entity: dict[str, Any]) -> dict[str, Any]:
    """Bump ``revision`` and ``updatedDate`` of an entity being changed."""
    entity["updatedDate"] = now_iso(sb)
    if "revision" in entity:
        entity["revision"] = str(int(entity["revision"] or 0) + 1)
    return entity


def dec(value: Any) -> Decimal:
    return Decimal(str(value or "0"))


def money_str(value: Decimal | str | float | int) -> str:
    """Decimal string the way eCommerce sends amounts (``"25"``, ``"12.5"``)."""
    d = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    return format(d, "f")


def price(sb: Sandbox, amount: Decimal | str | float | int) -> dict[str, str]:
    """An eCommerce ``Price``: ``{amount, convertedAmount, formattedAmount, formattedConvertedAmount}``."""
    a = money_str(amount)
    symbol = {"GBP": "£", "USD": "$", "EUR": "€"}.get(sb.currency, "")
    formatted = f"{symbol}{Decimal(a):,.2f}"
    return {"amount": a, "convertedAmount": a, "formattedAmount": formatted, "formattedConvertedAmount": formatted}


def parse_local(value: str) -> datetime:
    """A Wix local datetime string (``2026-01-30T13:30:00`` with optional ms / offset / Z)."""
    text = value.replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    return dt.replace(tzinfo=None) if dt.tzinfo is None else dt


def local_str(dt: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss`` (Time Slots and Calendar local dates)."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def int_param(req: SandboxRequest, name: str, default: int) -> int:
    """A whole-number query parameter, or 400 naming it."""
    raw = req.param(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationFailed([violation(name, f"{name} must be an integer", "FORMAT")]) from exc
