"""eCommerce Checkout V1 (deprecated but working) and create-order from it (CONTRACT.md §11, §14).

A checkout is recalculated from its inputs (line item references, quantities, selected
memberships, buyer email) on create, update and create-order: the booking a line item points at
gives its name, price and schedule through :func:`~wix_sandbox.rules.booking_orders.booking_line_item`, and the buyer's
pricing-plan pools give ``membershipOptions`` through ``rules/plan_credits.py``.
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
from wix_sandbox.rules import plan_credits
from wix_sandbox.rules.booking_orders import (
    booking_ids_of,
    booking_line_item,
    order_created_for_booking,
    order_of_booking,
)

MAX_LINE_ITEMS = 300
# Money a checkout line asks to be paid now, online (the membership remainder is paid online too).
_ONLINE_OPTIONS = ("FULL_PAYMENT_ONLINE", "DEPOSIT_ONLINE", "MEMBERSHIP")
# Channels where staff take the money themselves: no payment gateway order, ever.
_OFFLINE_CHANNELS = ("BACKOFFICE_MERCHANT", "POS")
_PAYMENT_OPTION_BY_SELECTION = {
    "ONLINE": "FULL_PAYMENT_ONLINE",
    "MEMBERSHIP": "MEMBERSHIP",
    "MEMBERSHIP_OFFLINE": "MEMBERSHIP_OFFLINE",
}


def get_checkout(sb: Sandbox, checkout_id: str) -> dict[str, Any]:
    checkout = sb.state.get("checkouts", checkout_id)
    if checkout is None:
        raise not_found("CHECKOUT_NOT_FOUND", "Checkout", checkout_id)
    return checkout


# -- input validation ------------------------------------------------------------------------


def _line_inputs(raw_lines: Any, field: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stored inputs of line items (id, quantity, catalogReference) and any violations."""
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
        # UNCONFIRMED: a line item id sent by the caller is kept, so selectedMemberships sent in the
        # same create call can name the line; without one the checkout assigns it.
        lines.append({"id": raw.get("id"), "quantity": quantity, "catalogReference": ref})
    return lines, problems


def _selected_inputs(membership_options: Any, field: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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


def _price_line(
    sb: Sandbox, line: dict[str, Any], ordered: set[str]
) -> tuple[dict[str, Any], dict[str, Any] | None, str | None]:
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
            booking_status = (sb.state.get("bookings", ref["catalogItemId"]) or {}).get("status")
            # UNCONFIRMED: a booking already sold in a live order, or no longer standing, can't be sold.
            if ref["catalogItemId"] in ordered:
                status, problem, info = "NOT_AVAILABLE", f"Booking {ref['catalogItemId']} already has an order", None
            elif booking_status in ("CANCELED", "DECLINED"):
                status, problem, info = "NOT_AVAILABLE", f"Booking {ref['catalogItemId']} is {booking_status}", None
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

    option = _PAYMENT_OPTION_BY_SELECTION.get(info.get("selectedPaymentOption") or "", "FULL_PAYMENT_OFFLINE")
    unit = Decimal(0) if option == "MEMBERSHIP_OFFLINE" else dec(info["unitPrice"])
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


def _ordered_booking_ids(sb: Sandbox, booking_ids: list[str]) -> set[str]:
    """Those of ``booking_ids`` already sold in an order that still stands (via the orders index)."""
    return {
        booking_id
        for booking_id in booking_ids
        if (order := order_of_booking(sb, booking_id)) is not None and order.get("status") != "CANCELED"
    }


def _member_of_contact(sb: Sandbox, contact_id: str | None) -> str | None:
    if not contact_id:
        return None
    members = sb.state.find("members", lambda m: m.get("contactId") == contact_id)
    return members[0]["id"] if members else None


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
    infos: dict[str, dict[str, Any]] = {}
    has_bookings = any(li["catalogReference"].get("appId") == BOOKINGS_APP_ID for li in checkout["lineItems"])
    ordered = (
        _ordered_booking_ids(
            sb,
            [
                li["catalogReference"]["catalogItemId"]
                for li in checkout["lineItems"]
                if li["catalogReference"].get("appId") == BOOKINGS_APP_ID
                and li["catalogReference"].get("catalogItemId")
            ],
        )
        if has_bookings
        else set()
    )
    for stored in checkout["lineItems"]:
        line, info, problem = _price_line(sb, stored, ordered)
        lines.append(line)
        if info is not None:
            infos[line["id"]] = info
        if problem:
            violations.append(_line_violation(line["id"], problem))

    buyer = {k: v for k, v in (checkout.get("buyerInfo") or {}).items() if k == "email" and v}
    contact_id = next((info.get("contactId") for info in infos.values() if info.get("contactId")), None)
    member_id = _member_of_contact(sb, contact_id)
    if contact_id:
        buyer["contactId"] = contact_id
        contact = sb.state.get("contacts", contact_id) or {}
        buyer.setdefault("email", (contact.get("primaryInfo") or {}).get("email"))
    if member_id:
        buyer["memberId"] = member_id
    checkout["buyerInfo"] = {k: v for k, v in buyer.items() if v}

    eligible = _eligible_memberships(sb, member_id, lines, infos)
    options = checkout.setdefault("membershipOptions", {})
    selected = (options.get("selectedMemberships") or {}).get("memberships") or []
    by_id = {line["id"]: line for line in lines}
    invalid_memberships = []
    covered: set[str] = set()
    for sel in selected:
        offered = eligible.get(sel["id"])
        for line_id in sel["lineItemIds"]:
            line = by_id.get(line_id)
            if line is None:
                reason = f"Line item {line_id} is not in the checkout"
            elif offered is None or offered.get("appId") != sel["appId"] or line_id not in offered["lineItemIds"]:
                reason = f"Membership {sel['id']} can't pay for line item {line_id}"
            elif line_id in covered:
                reason = f"Line item {line_id} is already paid by another membership"
            else:
                covered.add(line_id)
                line["paymentOption"] = "MEMBERSHIP"
                _set_line_price(sb, line, Decimal(0))
                continue
            invalid_memberships.append({"membership": {**(offered or sel), "lineItemIds": [line_id]}, "reason": reason})
            violations.append(_line_violation(line_id, reason))
    options["eligibleMemberships"] = list(eligible.values())
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


def _eligible_memberships(
    sb: Sandbox, member_id: str | None, lines: list[dict[str, Any]], infos: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The buyer's memberships that can pay for the booking lines, merged by membership id."""
    if not member_id:
        return {}
    merged: dict[str, dict[str, Any]] = {}
    for line in lines:
        info = infos.get(line["id"])
        if info is None:
            continue
        for membership in plan_credits.eligible_memberships(
            sb, member_id=member_id, service_id=info["serviceId"], line_item_ids=[line["id"]]
        ):
            known = merged.setdefault(membership["id"], {**membership, "lineItemIds": []})
            known["lineItemIds"] = sorted(
                set(known["lineItemIds"]) | set(membership.get("lineItemIds") or [line["id"]])
            )
    return merged


# -- checkout API ----------------------------------------------------------------------------


@route("POST /ecom/v1/checkouts")
def create_checkout(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    body = req.body
    _check_channel(body.get("channelType"))
    lines, problems = _line_inputs(body.get("lineItems") or [], "lineItems")
    info = body.get("checkoutInfo") or {}
    selected, selected_problems = _selected_inputs(info.get("membershipOptions"), "checkoutInfo.membershipOptions")
    if problems or selected_problems:
        raise ValidationFailed(problems + selected_problems)
    for line in lines:
        line["id"] = line["id"] or sb.state.new_id()
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
        raise precondition("CHECKOUT_ALREADY_PAID", f"Checkout {checkout_id} is completed")
    patch = req.body.get("checkout") or {}
    added, problems = _line_inputs(req.body.get("lineItems") or [], "lineItems")
    selected: list[dict[str, Any]] | None = None
    if "membershipOptions" in patch:
        selected, more = _selected_inputs(patch["membershipOptions"], "checkout.membershipOptions")
        problems += more
    if "channelType" in patch:
        _check_channel(patch["channelType"])
    if problems:
        raise ValidationFailed(problems)
    for line in added:
        line["id"] = line["id"] or sb.state.new_id()
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
        raise precondition("CHECKOUT_ALREADY_PAID", f"Checkout {checkout['id']} already has an order")
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

    online_due = checkout["channelType"] not in _OFFLINE_CHANNELS and dec(checkout["payNow"]["total"]["amount"]) > 0
    order = ecom_orders.order_create(
        sb,
        lines=[_order_line(line) for line in checkout["lineItems"]],
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

    _charge_selected_memberships(sb, checkout, order)
    order = ecom_orders.order_recalculate(sb, order["id"], notify=False)
    for booking_id in booking_ids_of(order):
        order_created_for_booking(sb, booking_id=booking_id, order=order)
    result = {"orderId": order["id"]}
    if online_due:
        result["paymentGatewayOrderId"] = sb.state.new_id()
    return result


def _order_line(line: dict[str, Any]) -> dict[str, Any]:
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


def _charge_selected_memberships(sb: Sandbox, checkout: dict[str, Any], order: dict[str, Any]) -> None:
    """Take one credit per membership-paid line and record it as an APPROVED membership payment."""
    member_id = checkout["buyerInfo"].get("memberId")
    eligible = {m["id"]: m for m in checkout["membershipOptions"]["eligibleMemberships"]}
    lines = {line["id"]: line for line in checkout["lineItems"]}
    record = ecom_orders.edit_transactions(sb, order["id"])
    for sel in checkout["membershipOptions"]["selectedMemberships"]["memberships"]:
        for line_id in sel["lineItemIds"]:
            line = lines[line_id]
            transaction_id = plan_credits.charge_membership(
                sb,
                member_id=member_id or "",
                membership_id=sel["id"],
                service_id=line["rootCatalogItemId"],
                reference=f"{order['id']}:{line_id}",
            )
            record["payments"].append(
                ecom_orders.new_payment(
                    sb,
                    ecom_orders.line_total(line),
                    membershipPaymentDetails={
                        "membershipId": sel["id"],
                        "lineItemId": line_id,
                        "status": "CHARGED",
                        "name": eligible[sel["id"]].get("name") or {"original": "Membership"},
                        "externalTransactionId": transaction_id,
                        "voided": False,
                        "providerAppId": sel["appId"],
                    },
                )
            )
    sb.state.put("order_transactions", record)
