"""eCommerce Checkout V1 (deprecated: removal 2027-02-01, replaced by Cart V2) and its create-order (§11, §20).

A checkout is recalculated from its inputs (line item references, quantities, selected
memberships, buyer email) on create, update and create-order: the booking a line item points at
gives its name, price and schedule through :func:`~wix_sandbox.rules.booking_orders.booking_line_item`.

As strict as the SDK documents it:

- ``lineItems[].id`` is read-only: an id sent by the caller is ignored and the checkout names its
  own lines, so ``selectedMemberships.memberships[].lineItemIds`` naming a line the checkout
  doesn't have is a 400.
- ``buyerInfo.memberId`` / ``contactId`` are read-only and the buyer is never inferred for a call
  made with an API key or app token (UNCONFIRMED, from a public report that ``buyerInfo`` comes
  back empty): ``buyerInfo`` holds only the email sent, and ``membershipOptions.eligibleMemberships``
  ("reserved for internal use") stays empty — a selected membership is always invalid here. Pay
  with a plan through Cart V2 and Order Billing Charge Memberships instead.
- Create Order needs ``billingInfo.address`` (at least ``country``) when the total is above 0.
- CHECKOUT_ALREADY_PAID is answered 409, where the reference lists it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.common import dec, price, stamp_new, touch
from wix_sandbox.errors import SandboxError, ValidationFailed, not_found, precondition, violation
from wix_sandbox.handlers import ecom_orders
from wix_sandbox.handlers.ecom_orders import CHANNEL_TYPES
from wix_sandbox.routing import route
from wix_sandbox.rules.booking_orders import (
    booking_ids_of,
    booking_line_item,
    line_payment_option,
    line_unit_price,
    order_created_for_booking,
    unsellable_reason,
)

MAX_LINE_ITEMS = 300
# Money a checkout line asks to be paid now, online (the membership remainder is paid online too).
_ONLINE_OPTIONS = ("FULL_PAYMENT_ONLINE", "DEPOSIT_ONLINE", "MEMBERSHIP")
# Channels where staff take the money themselves: no payment gateway order, ever.
OFFLINE_CHANNELS = ("BACKOFFICE_MERCHANT", "POS")


def get_checkout(sb: Sandbox, checkout_id: str) -> dict[str, Any]:
    checkout = sb.state.get("checkouts", checkout_id)
    if checkout is None:
        raise not_found("CHECKOUT_NOT_FOUND", "Checkout", checkout_id)
    return checkout


def _already_paid(checkout_id: str, description: str) -> SandboxError:
    # The API reference lists CHECKOUT_ALREADY_PAID under 409 Conflict (CONTRACT.md §20).
    return SandboxError(409, "CHECKOUT_ALREADY_PAID", description, {"checkoutId": checkout_id})


# -- input validation ------------------------------------------------------------------------


def _line_inputs(sb: Sandbox, raw_lines: Any, field: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored inputs of line items (new id, quantity, catalogReference) and any violations."""
    problems: list[dict[str, Any]] = []
    if not isinstance(raw_lines, list):
        return [], [violation(field, f"{field} must be a list", "VALIDATION")]
    if len(raw_lines) > MAX_LINE_ITEMS:
        problems.append(violation(field, f"at most {MAX_LINE_ITEMS} line items", "MAX_SIZE"))
    lines = []
    for i, raw in enumerate(raw_lines[:MAX_LINE_ITEMS]):
        ref = raw.get("catalogReference") or {}
        for key in ("catalogItemId", "appId"):
            if not ref.get(key):
                problems.append(
                    violation(
                        f"{field}[{i}].catalogReference.{key}", f"catalogReference.{key} is required", "REQUIRED_FIELD"
                    )
                )
        quantity = raw.get("quantity", 1)
        if not isinstance(quantity, int) or not 1 <= quantity <= 100000:
            problems.append(violation(f"{field}[{i}].quantity", "quantity must be between 1 and 100000", "MIN"))
        # ``LineItem.id`` is @readonly: whatever the caller sent, the checkout names the line itself.
        lines.append({"id": sb.state.new_id(), "quantity": quantity, "catalogReference": ref})
    return lines, problems


def _selected_inputs(
    membership_options: Any, field: str, line_ids: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Selected memberships and their violations; every ``lineItemIds`` entry must be a line of the checkout."""
    selected = ((membership_options or {}).get("selectedMemberships") or {}).get("memberships") or []
    problems = []
    for i, sel in enumerate(selected):
        for key in ("id", "appId", "lineItemIds"):
            if not sel.get(key):
                problems.append(
                    violation(
                        f"{field}.selectedMemberships.memberships[{i}].{key}", f"{key} is required", "REQUIRED_FIELD"
                    )
                )
        for j, line_id in enumerate(sel.get("lineItemIds") or []):
            if line_id not in line_ids:
                problems.append(
                    violation(
                        f"{field}.selectedMemberships.memberships[{i}].lineItemIds[{j}]",
                        f"line item {line_id} is not in the checkout (line item ids are the checkout's own)",
                        "VALIDATION",
                    )
                )
    clean = [
        {"id": s.get("id"), "appId": s.get("appId"), "lineItemIds": list(s.get("lineItemIds") or [])} for s in selected
    ]
    return clean, problems


def _check_channel(channel: Any) -> None:
    if not channel:
        raise ValidationFailed([violation("channelType", "channelType is required", "REQUIRED_FIELD")])
    if channel not in CHANNEL_TYPES:
        raise ValidationFailed([violation("channelType", f"unknown ChannelType {channel}", "INVALID_ENUM_VALUE")])


# -- calculation -----------------------------------------------------------------------------


def _price_line(sb: Sandbox, line: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
    """Fill a line item from its catalog item. Returns (line, booking info or None, problem or None)."""
    ref = line["catalogReference"]
    out: dict[str, Any] = {"id": line["id"], "quantity": line["quantity"], "catalogReference": ref}
    info = None
    problem = None
    status = "AVAILABLE"
    if ref.get("appId") != BOOKINGS_APP_ID:
        # The sandbox's only catalog is Wix Bookings; any other app's item is unknown to it.
        status, problem = "NOT_FOUND", f"Catalog item {ref.get('catalogItemId')} of app {ref.get('appId')} not found"
    else:
        try:
            info = booking_line_item(sb, booking_id=ref["catalogItemId"])
        except SandboxError as exc:
            # UNCONFIRMED: a booking id the catalog can't resolve becomes an unavailable line item
            # (NOT_FOUND for an unknown booking) with an ERROR violation, rather than failing the call.
            status = "NOT_FOUND" if exc.status == 404 else "NOT_AVAILABLE"
            problem = exc.description
        else:
            problem = unsellable_reason(sb, ref["catalogItemId"])
            if problem:
                status, info = "NOT_AVAILABLE", None
    if info is None:
        out.update(
            {
                "availability": {"status": status},
                "price": price(sb, 0),
                "fullPrice": price(sb, 0),
                "priceBeforeDiscounts": price(sb, 0),
                "lineItemPrice": price(sb, 0),
                "totalPriceAfterTax": price(sb, 0),
                "totalPriceBeforeTax": price(sb, 0),
            }
        )
        return out, None, problem

    option = line_payment_option(info)
    unit = dec(line_unit_price(info))
    name = info.get("productName")
    name = name.get("original") if isinstance(name, dict) else name
    out.update(
        {
            "productName": {"original": name, "translated": name},
            "fullPrice": price(sb, dec(info["unitPrice"])),
            "itemType": {"preset": "SERVICE"},
            "paymentOption": option,
            "serviceProperties": {
                "scheduledDate": info.get("scheduledDate"),
                "numberOfParticipants": info.get("numberOfParticipants"),
            },
            "rootCatalogItemId": info["serviceId"],
            "availability": {"status": "AVAILABLE", "quantityAvailable": 1},
            "descriptionLines": [],
        }
    )
    _set_line_price(sb, out, unit)
    return out, info, None


def _set_line_price(sb: Sandbox, line: dict[str, Any], unit: Decimal) -> None:
    total = unit * line["quantity"]
    line["price"] = price(sb, unit)
    line["priceBeforeDiscounts"] = price(sb, unit)
    line["lineItemPrice"] = price(sb, total)
    line["totalPriceBeforeTax"] = price(sb, total)
    line["totalPriceAfterTax"] = price(sb, total)
    line["discount"] = price(sb, 0)
    line["taxDetails"] = {"taxableAmount": price(sb, total), "taxRate": "0", "totalTax": price(sb, 0)}


def _summary(sb: Sandbox, lines: list[dict[str, Any]]) -> dict[str, Any]:
    subtotal = sum((dec(line["lineItemPrice"]["amount"]) for line in lines), Decimal(0))
    return {
        "subtotal": price(sb, subtotal),
        "shipping": price(sb, 0),
        "tax": price(sb, 0),
        "discount": price(sb, 0),
        "total": price(sb, subtotal),
        "additionalFees": price(sb, 0),
    }


def _calculate(sb: Sandbox, checkout: dict[str, Any]) -> None:
    """Recompute every derived field of ``checkout`` in place from its inputs."""
    violations: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for stored in checkout["lineItems"]:
        line, _, problem = _price_line(sb, stored)
        lines.append(line)
        if problem:
            violations.append(_line_violation(line["id"], problem))

    # UNCONFIRMED (public report, CONTRACT.md §20): with an API key the buyer is not inferred —
    # not from the booking's contact, not from a member — so buyerInfo is what was sent (the email).
    checkout["buyerInfo"] = {k: v for k, v in (checkout.get("buyerInfo") or {}).items() if k == "email" and v}

    # eligibleMemberships is "reserved for internal use" and needs a member buyer, which an API-key
    # checkout never has: every selected membership is invalid and blocks the order.
    options = checkout.setdefault("membershipOptions", {})
    selected = (options.get("selectedMemberships") or {}).get("memberships") or []
    invalid_memberships = []
    for sel in selected:
        for line_id in sel["lineItemIds"]:
            reason = f"Membership {sel['id']} can't pay for line item {line_id}: the checkout has no member buyer"
            invalid_memberships.append({"membership": {**sel, "lineItemIds": [line_id]}, "reason": reason})
            violations.append(_line_violation(line_id, reason))
    options["eligibleMemberships"] = []
    options["invalidMemberships"] = invalid_memberships
    options["selectedMemberships"] = {"memberships": selected}

    now_lines = [line for line in lines if line.get("paymentOption") in _ONLINE_OPTIONS]
    later_lines = [line for line in lines if line.get("paymentOption") not in _ONLINE_OPTIONS]
    checkout["lineItems"] = lines
    checkout["priceSummary"] = _summary(sb, lines)
    checkout["payNow"] = _summary(sb, now_lines)
    checkout["payLater"] = _summary(sb, later_lines)
    checkout["violations"] = violations
    checkout.pop("calculationErrors", None)


def _line_violation(line_id: str, description: str) -> dict[str, Any]:
    return {
        "severity": "ERROR",
        "target": {"lineItem": {"name": "LINE_ITEM_DEFAULT", "id": line_id}},
        "description": description,
    }


# -- checkout API ----------------------------------------------------------------------------


@route("POST /ecom/v1/checkouts")
def create_checkout(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    _check_channel(body.get("channelType"))
    lines, problems = _line_inputs(sb, body.get("lineItems") or [], "lineItems")
    info = body.get("checkoutInfo") or {}
    selected, selected_problems = _selected_inputs(
        info.get("membershipOptions"), "checkoutInfo.membershipOptions", {line["id"] for line in lines}
    )
    if problems or selected_problems:
        raise ValidationFailed(problems + selected_problems)
    checkout: dict[str, Any] = {
        "lineItems": lines,
        "buyerInfo": {"email": (info.get("buyerInfo") or {}).get("email")},
        "membershipOptions": {"selectedMemberships": {"memberships": selected}},
        "channelType": body["channelType"],
        "completed": False,
        "currency": sb.currency,
        "conversionCurrency": sb.currency,
        "appliedDiscounts": [],
        "customFields": info.get("customFields") or [],
    }
    for key in ("billingInfo", "buyerNote"):
        if key in info:
            checkout[key] = info[key]
    stamp_new(sb, checkout, revision=False)
    _calculate(sb, checkout)
    sb.state.put("checkouts", checkout)
    return {"checkout": checkout}


@route("GET /ecom/v1/checkouts/{id}")
def get_checkout_endpoint(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    checkout = get_checkout(sb, req.path_params["id"])
    if checkout["completed"]:
        return {"checkout": checkout}
    # Like Wix, an open checkout is answered freshly calculated (plan credits, booking changes).
    fresh = sb.state.edit("checkouts", checkout["id"])
    assert fresh is not None
    _calculate(sb, fresh)
    return {"checkout": fresh}


@route("PATCH /ecom/v1/checkouts/{checkout.id}")
def update_checkout(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    checkout_id = req.path_params["checkout_id"]
    checkout = sb.state.edit("checkouts", checkout_id)
    if checkout is None:
        raise not_found("CHECKOUT_NOT_FOUND", "Checkout", checkout_id)
    if checkout["completed"]:
        # UNCONFIRMED: a completed checkout (its order exists) can't change any more.
        raise _already_paid(checkout_id, f"Checkout {checkout_id} is completed")
    patch = req.body.get("checkout") or {}
    added, problems = _line_inputs(sb, req.body.get("lineItems") or [], "lineItems")
    selected: list[dict[str, Any]] | None = None
    if "membershipOptions" in patch:
        line_ids = {line["id"] for line in checkout["lineItems"] + added}
        selected, more = _selected_inputs(patch["membershipOptions"], "checkout.membershipOptions", line_ids)
        problems += more
    if "channelType" in patch:
        _check_channel(patch["channelType"])
    if problems:
        raise ValidationFailed(problems)
    checkout["lineItems"] = checkout["lineItems"] + added
    if selected is not None:
        checkout["membershipOptions"]["selectedMemberships"] = {"memberships": selected}
    if "email" in (patch.get("buyerInfo") or {}):
        checkout["buyerInfo"] = {**checkout.get("buyerInfo", {}), "email": patch["buyerInfo"]["email"]}
    for key in ("billingInfo", "buyerNote", "customFields", "channelType"):
        if key in patch:
            checkout[key] = patch[key]
    _calculate(sb, checkout)
    touch(sb, checkout)
    sb.state.put("checkouts", checkout)
    return {"checkout": checkout}


@route("GET /ecom/v1/checkouts/{id}/checkout-url")
def get_checkout_url(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    checkout = get_checkout(sb, req.path_params["id"])
    return {"checkoutUrl": f"https://sandbox.wixsite.example/{sb.site_id}/checkout?checkoutId={checkout['id']}"}


@route("POST /ecom/v1/checkouts/{id}/mark-as-completed")
def mark_checkout_completed(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    checkout = sb.state.edit("checkouts", get_checkout(sb, req.path_params["id"])["id"])
    assert checkout is not None
    if not checkout["completed"]:
        checkout["completed"] = True
        touch(sb, checkout)
        sb.state.put("checkouts", checkout)
    return {}


@route("POST /ecom/v1/checkouts/{id}/create-order")
def create_order_from_checkout(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    checkout = sb.state.edit("checkouts", get_checkout(sb, req.path_params["id"])["id"])
    assert checkout is not None
    if checkout["completed"]:
        raise _already_paid(checkout["id"], f"Checkout {checkout['id']} already has an order")
    if not checkout["lineItems"]:
        raise precondition("EMPTY_CHECKOUT", f"Checkout {checkout['id']} has no line items")
    _calculate(sb, checkout)  # prices, plans and bookings may have changed since the last look
    unavailable = [line["id"] for line in checkout["lineItems"] if line["availability"]["status"] != "AVAILABLE"]
    if unavailable:
        code = "FULL_OUT_OF_STOCK" if len(unavailable) == len(checkout["lineItems"]) else "PARTIAL_OUT_OF_STOCK"
        raise precondition(code, "Some line items are not available", {"lineItemIds": unavailable})
    if checkout.get("calculationErrors"):
        raise precondition("CALCULATION_ERROR", "The checkout has calculation errors")
    if any(v["severity"] == "ERROR" for v in checkout["violations"]):
        raise precondition(
            "VIOLATIONS_WITH_ERROR_SEVERITY", "The checkout has violations", {"violations": checkout["violations"]}
        )

    if dec(checkout["priceSummary"]["total"]["amount"]) > 0 and not (
        (checkout.get("billingInfo") or {}).get("address") or {}
    ).get("country"):
        # The SDK: a billing address is required when the total is above 0. UNCONFIRMED which parts
        # of it; the sandbox asks for the country at least.
        raise ValidationFailed(
            [
                violation(
                    "billingInfo.address.country",
                    "a billing address is required when the total is above 0",
                    "REQUIRED_FIELD",
                )
            ]
        )

    online_due = checkout["channelType"] not in OFFLINE_CHANNELS and dec(checkout["payNow"]["total"]["amount"]) > 0
    order = ecom_orders.order_create(
        sb,
        lines=[order_line(line) for line in checkout["lineItems"]],
        channel_type=checkout["channelType"],
        # Offline orders are approved at once; an order waiting for online money stays INITIALIZED.
        status="INITIALIZED" if online_due else "APPROVED",
        buyer_info=checkout["buyerInfo"],
        checkout_id=checkout["id"],
        extra={k: checkout[k] for k in ("billingInfo", "buyerNote") if k in checkout},
    )
    checkout["completed"] = True
    touch(sb, checkout)
    sb.state.put("checkouts", checkout)

    for booking_id in booking_ids_of(order):
        order_created_for_booking(sb, booking_id=booking_id, order=order)
    result = {"orderId": order["id"]}
    if online_due:
        result["paymentGatewayOrderId"] = sb.state.new_id()
    return result


def order_line(line: dict[str, Any]) -> dict[str, Any]:
    """The order line item of a checkout line item."""
    keys = (
        "id",
        "productName",
        "catalogReference",
        "quantity",
        "price",
        "priceBeforeDiscounts",
        "totalPriceBeforeTax",
        "totalPriceAfterTax",
        "taxDetails",
        "paymentOption",
        "itemType",
        "rootCatalogItemId",
        "descriptionLines",
    )
    out = {k: line[k] for k in keys if k in line}
    out["totalDiscount"] = line.get("discount")
    return out
