"""eCommerce Cart V2, Checkout V1's replacement: create a cart, read it, place its order (CONTRACT.md §11.3, §20).

Shapes from the SDK package ``@wix/auto_sdk_ecom_cart-v-2`` (``CreateCartRequest``, ``Cart``,
``V2LineItem``, ``PlaceOrderRequest``/``Response``, ``*ApplicationErrors``). The sandbox's only
catalog is Wix Bookings: a line item sells the booking named by ``catalogReference.catalogItemId``
(:mod:`wix_sandbox.rules.booking_orders` prices it). Place Order creates the eCommerce order the
way Checkout V1's create-order does: an order on an offline channel (or with nothing to pay online)
is APPROVED and NOT_PAID, a MEMBERSHIP line keeps its full price until Order Billing Charge
Memberships pays it, and every booking in the order is confirmed and follows the order's payment
status. The buyer is a contact found (by email, then phone) or created from ``customerInfo`` —
never a member inferred from an id (``customerInfo.memberId`` is read-only).

Where the documents are silent the sandbox is the stricter of the plausible Wixes (each such
place says UNCONFIRMED). Not emulated, answered 400 rather than half-played: custom items,
catalog overrides, coupons, gift cards, delivery methods, paying with a membership inside the cart.
The sandbox emits no webhooks of its own (``webhooks.py`` is a signing tool), so none for carts.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from wix_sandbox.app import BOOKINGS_APP_ID, Sandbox, SandboxRequest
from wix_sandbox.common import dec, is_guid, money_str, now_iso, price, stamp_new, touch
from wix_sandbox.errors import SandboxError, ValidationFailed, precondition, violation
from wix_sandbox.handlers import ecom_orders
from wix_sandbox.handlers.ecom_checkout import OFFLINE_CHANNELS
from wix_sandbox.handlers.ecom_orders import CHANNEL_TYPES
from wix_sandbox.routing import route
from wix_sandbox.rules.booking_orders import (
    booking_line_item,
    line_payment_option,
    line_unit_price,
    order_created_for_booking,
    unsellable_reason,
)

MAX_CATALOG_ITEMS = 300
MAX_QUANTITY = 100000
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Money a line asks to be paid now, online (a membership line not yet charged is paid online too).
_ONLINE_OPTIONS = ("FULL_PAYMENT_ONLINE", "DEPOSIT_ONLINE", "MEMBERSHIP")

# ``Cart`` fields the SDK marks @readonly (or that only Wix fills), as request paths under ``cart``.
# UNCONFIRMED whether Wix ignores or rejects them on Create Cart: the sandbox rejects them, naming the field.
READ_ONLY_CART_FIELDS = (
    "id",
    "createdDate",
    "updatedDate",
    "revision",
    "lineItems",
    "subtotal",
    "coupons",
    "orderPlaced",
    "orderId",
    "purchaseFlowId",
    "settings",
    "currentCart",
    "source.externalReferences",
    "source.createdBy",
    "businessInfo.languageCode",
    "businessInfo.currencyCode",
    "customerInfo.visitorId",
    "customerInfo.memberId",
    "customerInfo.userId",
    "customerInfo.contactId",
    "customerInfo.languageCode",
    "customerInfo.currencyCode",
    "deliveryInfo.method",
    "deliveryInfo.weightUnit",
    "taxInfo.pricesIncludeTax",
    "paymentInfo.giftCards",
    "paymentInfo.currencyCode",
)
_CUSTOMER_LIMITS = {"firstName": 100, "lastName": 100, "company": 1000}


def _money(amount: Decimal | str | int) -> dict[str, str]:
    """A Cart V2 ``ConvertedMoney`` (the sandbox converts no currency)."""
    value = money_str(amount)
    return {"amount": value, "convertedAmount": value}


def _has(tree: Any, path: str) -> bool:
    node = tree
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def get_cart(sb: Sandbox, cart_id: str) -> dict[str, Any]:
    if not is_guid(cart_id):
        # GetCartRequest / PlaceOrderRequest: ``cartId`` is ``@format GUID`` — refused as invalid input.
        raise ValidationFailed([violation("cartId", "cartId must be a GUID", "FORMAT")])
    cart = sb.state.get("carts", cart_id)
    if cart is None:
        # UNCONFIRMED: Get Cart declares no error codes; a plain 404 NOT_FOUND.
        raise SandboxError(404, "NOT_FOUND", f"Cart {cart_id} not found", {"cartId": cart_id})
    return cart


# -- Create Cart: input validation --------------------------------------------------------------------------


def _cart_problems(cart: Any) -> list[dict[str, Any]]:
    if not isinstance(cart, dict):
        return [violation("cart", "cart must be an object", "VALIDATION")]
    problems = [
        violation(f"cart.{path}", f"cart.{path} is read-only", "FIELD_NOT_ALLOWED")
        for path in READ_ONLY_CART_FIELDS
        if _has(cart, path)
    ]
    channel = (cart.get("source") or {}).get("channelType")
    if not channel:
        # UNCONFIRMED: CartSource.channelType is not marked required; the sandbox asks for it, as
        # Checkout V1 did, so an order never lands on an unnamed channel.
        problems.append(violation("cart.source.channelType", "cart.source.channelType is required", "REQUIRED_FIELD"))
    elif channel not in CHANNEL_TYPES or channel == "UNSPECIFIED":
        problems.append(
            violation("cart.source.channelType", f"unsupported ChannelType {channel}", "INVALID_ENUM_VALUE")
        )
    customer = cart.get("customerInfo") or {}
    for key, limit in _CUSTOMER_LIMITS.items():
        if customer.get(key) is not None and len(str(customer[key])) > limit:
            problems.append(violation(f"cart.customerInfo.{key}", f"at most {limit} characters", "MAX_LENGTH"))
    email = customer.get("email")
    if email is not None and not EMAIL_PATTERN.match(str(email)):
        problems.append(violation("cart.customerInfo.email", f"{email!r} is not an email address", "FORMAT"))
    phone = customer.get("phone")
    if phone is not None and not any(ch.isdigit() for ch in str(phone)):
        problems.append(violation("cart.customerInfo.phone", f"{phone!r} is not a phone number", "FORMAT"))
    if "openAccess" in customer and not isinstance(customer["openAccess"], bool):
        problems.append(violation("cart.customerInfo.openAccess", "must be a boolean", "VALIDATION"))
    if cart.get("note") is not None and len(str(cart["note"])) > 1000:
        problems.append(violation("cart.note", "at most 1000 characters", "MAX_LENGTH"))
    if cart.get("customCheckoutUrl") is not None and len(str(cart["customCheckoutUrl"])) > 2048:
        problems.append(violation("cart.customCheckoutUrl", "at most 2048 characters", "MAX_LENGTH"))
    if "demo" in cart and not isinstance(cart["demo"], bool):
        problems.append(violation("cart.demo", "must be a boolean", "VALIDATION"))
    return problems


def _item_problems(items: Any) -> list[dict[str, Any]]:
    if items is None or items == []:
        # UNCONFIRMED: CreateCartRequest doesn't require catalogItems; the sandbox sells nothing but
        # catalog items, so a cart of none is refused (1..300).
        return [violation("catalogItems", "catalogItems is required (1 to 300 items)", "REQUIRED_FIELD")]
    if not isinstance(items, list):
        return [violation("catalogItems", "catalogItems must be a list", "VALIDATION")]
    if len(items) > MAX_CATALOG_ITEMS:
        return [violation("catalogItems", f"at most {MAX_CATALOG_ITEMS} catalog items", "MAX_SIZE")]
    problems = []
    for i, item in enumerate(items):
        field = f"catalogItems[{i}]"
        if not isinstance(item, dict):
            problems.append(violation(field, "a catalog item is an object", "VALIDATION"))
            continue
        if "id" in item:
            # A line item's id is the cart's own (V2LineItem.id); CatalogItemInput has none to send.
            problems.append(violation(f"{field}.id", "line item ids are the cart's own", "FIELD_NOT_ALLOWED"))
        ref = item.get("catalogReference")
        if not isinstance(ref, dict):
            problems.append(violation(f"{field}.catalogReference", "catalogReference is required", "REQUIRED_FIELD"))
        else:
            for key in ("catalogItemId", "appId"):
                if not ref.get(key):
                    problems.append(
                        violation(
                            f"{field}.catalogReference.{key}", f"catalogReference.{key} is required", "REQUIRED_FIELD"
                        )
                    )
            if ref.get("catalogItemId") and len(str(ref["catalogItemId"])) > 36:
                problems.append(
                    violation(f"{field}.catalogReference.catalogItemId", "at most 36 characters", "MAX_LENGTH")
                )
        quantity = item.get("quantity")
        if quantity is None:
            problems.append(violation(f"{field}.quantity", "quantity is required", "REQUIRED_FIELD"))
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
            problems.append(violation(f"{field}.quantity", f"quantity must be 1 to {MAX_QUANTITY}", "MIN"))
        if "catalogOverrideFields" in item:
            # UNCONFIRMED: overriding a catalog item's name or price needs more than the sandbox plays.
            problems.append(
                violation(f"{field}.catalogOverrideFields", "not supported by the sandbox", "FIELD_NOT_ALLOWED")
            )
        for key in ("selectedMembership", "membershipPayment"):
            if key in item and item[key] is not None and not isinstance(item[key], dict):
                problems.append(violation(f"{field}.{key}", f"{key} must be an object", "VALIDATION"))
    return problems


def _unsupported(body: dict[str, Any]) -> None:
    """The CreateCartRequest parts the sandbox doesn't play, answered with their documented refusals."""
    if body.get("customItems"):
        # UNCONFIRMED: custom line items need an ECOM admin scope and don't reach the Bookings
        # catalog; the sandbox doesn't emulate them.
        raise ValidationFailed([violation("customItems", "not supported by the sandbox", "FIELD_NOT_ALLOWED")])
    if body.get("coupons"):
        code = str((body["coupons"][0] or {}).get("code") or "")
        raise SandboxError(400, "INVALID_COUPON_CODE", f"Coupon {code!r} does not exist", {"code": code})
    if body.get("giftCards"):
        code = str((body["giftCards"][0] or {}).get("code") or "")
        raise SandboxError(400, "INVALID_GIFT_CARD_CODE", "Gift card not found", {"code": code[-4:]})
    if body.get("deliveryMethod"):
        method = body["deliveryMethod"]
        raise SandboxError(
            404,
            "DELIVERY_METHOD_NOT_FOUND",
            "The sandbox delivers nothing",
            {"code": method.get("code"), "appId": method.get("appId")},
        )
    paying = [
        {"invalidItemId": {"catalogReference": item.get("catalogReference")}}
        for item in body["catalogItems"]
        if item.get("membershipPayment") or item.get("selectedMembership")
    ]
    if paying:
        # UNCONFIRMED: a membership pays inside a cart only for a member buyer, and a cart made with
        # an API key has none (customerInfo.memberId is read-only). Charge the placed order with
        # Order Billing Charge Memberships instead.
        raise SandboxError(
            400,
            "INVALID_MEMBERSHIP_PAYMENT_OPTION",
            "A cart without a member buyer can't be paid with a membership",
            {"invalidItems": paying},
        )


# -- lines -----------------------------------------------------------------------------------------------


def _line_from_booking(line_id: str, ref: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """A ``V2LineItem`` selling the booking ``info`` (from :func:`booking_line_item`)."""
    option = line_payment_option(info)
    unit = dec(line_unit_price(info))
    name = info.get("productName")
    name = name.get("original") if isinstance(name, dict) else name
    return {
        "id": line_id,
        "name": {"original": name, "translated": name},
        "quantityInfo": {"confirmedQuantity": 1, "requestedQuantity": 1, "availableQuantity": 1, "fixedQuantity": True},
        "pricing": {
            "unitPrice": _money(unit),
            "totalPrice": _money(unit),
            "priceUndetermined": False,
            "breakdown": {
                "fullPrice": _money(dec(info["unitPrice"])),
                "salePrice": _money(dec(info["unitPrice"])),
                "totalModifiersPrice": _money(0),
            },
        },
        "source": {
            "catalogReference": {"catalogItemId": ref["catalogItemId"], "appId": ref["appId"]},
            # For Wix Bookings the catalog item is the booking; the true catalog item is the service.
            "rootCatalogItemId": info["serviceId"],
        },
        "attributes": {
            "descriptionLines": [],
            "itemType": {"preset": "SERVICE"},
            "serviceProperties": {
                "scheduledDate": info.get("scheduledDate"),
                "numberOfParticipants": info.get("numberOfParticipants"),
            },
            "physicalProperties": {"shippable": False},
            "membersOnly": False,
        },
        "taxConfig": {"taxableAddress": {"addressType": "BUSINESS"}},
        "paymentConfig": {"savePaymentMethod": False, "paymentOption": option},
        "status": "IN_STOCK",
        "modifierGroups": [],
        "discounts": [],
        "customLineItem": False,
    }


def _resolve_items(sb: Sandbox, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The cart's line items for ``catalogItems``; raises the Create Cart application errors."""
    missing = []
    for item in items:
        ref = item["catalogReference"]
        if ref["appId"] != BOOKINGS_APP_ID or sb.state.get("bookings", ref["catalogItemId"]) is None:
            # The sandbox's only catalog is Wix Bookings; any other app's item, or an unknown
            # booking, is not in it.
            missing.append({"catalogReference": {"catalogItemId": ref["catalogItemId"], "appId": ref["appId"]}})
    if missing:
        # UNCONFIRMED HTTP status: 404, like every *NOT_FOUND* code (CONTRACT.md §2.2).
        raise SandboxError(404, "ITEM_NOT_FOUND_IN_CATALOG", "Catalog items not found", {"invalidItems": missing})
    fixed = [{"catalogReference": item["catalogReference"]} for item in items if item["quantity"] != 1]
    if fixed:
        # UNCONFIRMED: a booking is sold once (its participants are in its price), so its quantity
        # is fixed at 1.
        raise SandboxError(400, "FIXED_QUANTITY_ITEM", "A booking's quantity is 1", {"invalidItems": fixed})
    short = []
    seen: set[str] = set()
    for item in items:
        booking_id = item["catalogReference"]["catalogItemId"]
        if booking_id in seen or unsellable_reason(sb, booking_id):
            # The stricter choice (UNCONFIRMED): a booking that already has a live order (or is
            # canceled / declined, or is twice in this cart) is refused when the cart is made,
            # not left in it as an out-of-stock line.
            short.append(
                {
                    "id": {"catalogReference": item["catalogReference"]},
                    "requestedQuantity": 2 if booking_id in seen else 1,
                    "availableQuantity": 0 if booking_id not in seen else 1,
                }
            )
        seen.add(booking_id)
    if short:
        raise precondition("INSUFFICIENT_INVENTORY", "Some bookings can't be sold", {"invalidItems": short})
    lines = []
    for item in items:
        ref = item["catalogReference"]
        info = booking_line_item(sb, booking_id=ref["catalogItemId"])
        lines.append(_line_from_booking(sb.state.new_id(), ref, info))
    return lines


def _subtotal(lines: list[dict[str, Any]]) -> Decimal:
    return sum((dec(line["pricing"]["totalPrice"]["amount"]) for line in lines), Decimal(0))


# -- Cart API ----------------------------------------------------------------------------------------------


@route("POST /ecom/v2/carts")
def create_cart(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """Create Cart → ``{cart}``; errors ITEM_NOT_FOUND_IN_CATALOG, INSUFFICIENT_INVENTORY, FIXED_QUANTITY_ITEM,
    INVALID_MEMBERSHIP_PAYMENT_OPTION, INVALID_COUPON_CODE, … (``CreateCartApplicationErrors``)."""
    body = req.body
    cart_in = body.get("cart") if "cart" in body else {}
    problems = _cart_problems(cart_in) + _item_problems(body.get("catalogItems"))
    if problems:
        raise ValidationFailed(problems)
    _unsupported(body)
    lines = _resolve_items(sb, body["catalogItems"])

    customer = {
        k: cart_in["customerInfo"][k]
        for k in ("firstName", "lastName", "phone", "company", "vatId", "email")
        if (cart_in.get("customerInfo") or {}).get(k) not in (None, "")
    }
    # "Default: true if no customer is identified when the cart is created": an app (or API key)
    # identifies no visitor, member or user.
    customer["openAccess"] = bool((cart_in.get("customerInfo") or {}).get("openAccess", True))
    customer.update({"languageCode": "en", "currencyCode": sb.currency})
    source: dict[str, Any] = {"channelType": cart_in["source"]["channelType"], "externalReferences": []}
    if (cart_in.get("source") or {}).get("customContentReference"):
        source["customContentReference"] = cart_in["source"]["customContentReference"]
    cart: dict[str, Any] = {
        "lineItems": lines,
        "subtotal": _money(_subtotal(lines)),
        "coupons": [],
        "source": source,
        "businessInfo": {
            **(
                {"locationId": cart_in["businessInfo"]["locationId"]}
                if (cart_in.get("businessInfo") or {}).get("locationId")
                else {}
            ),
            "languageCode": "en",
            "currencyCode": sb.currency,
        },
        "customerInfo": customer,
        "taxInfo": {
            "pricesIncludeTax": False,
            **{k: v for k, v in (cart_in.get("taxInfo") or {}).items() if k == "taxExemptGroupId"},
        },
        "paymentInfo": {
            "giftCards": [],
            "currencyCode": sb.currency,
            **{
                k: v for k, v in (cart_in.get("paymentInfo") or {}).items() if k in ("billingAddress", "billingContact")
            },
        },
        "orderPlaced": False,
        "orderId": None,
        "purchaseFlowId": sb.state.new_id(),
        "currentCart": False,
        "demo": bool(cart_in.get("demo", False)),
    }
    for key in ("note", "customCheckoutUrl", "extendedFields", "deliveryInfo"):
        if cart_in.get(key) is not None:
            cart[key] = cart_in[key]
    stamp_new(sb, cart)
    sb.state.put("carts", cart)
    return {"cart": cart}


@route("GET /ecom/v2/carts/{cartId}")
def get_cart_endpoint(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """Get Cart → ``{cart}``; ``orderPlaced`` / ``orderId`` tell whether Place Order went through."""
    cart = get_cart(sb, req.path_params["cartId"])
    ecom_orders.settle_before_call(sb, cart.get("orderId"))
    return {"cart": cart}


def _reprice(sb: Sandbox, cart: dict[str, Any]) -> tuple[list[str], list[str], dict[str, dict[str, Any]]]:
    """(out-of-stock line ids, repriced line ids, booking info by line id) as of now."""
    out_of_stock = []
    repriced = []
    infos = {}
    for line in cart["lineItems"]:
        booking_id = line["source"]["catalogReference"]["catalogItemId"]
        if sb.state.get("bookings", booking_id) is None or unsellable_reason(sb, booking_id):
            out_of_stock.append(line["id"])
            continue
        info = booking_line_item(sb, booking_id=booking_id)
        infos[line["id"]] = info
        fresh = _line_from_booking(line["id"], line["source"]["catalogReference"], info)
        if (
            fresh["pricing"]["unitPrice"] != line["pricing"]["unitPrice"]
            or fresh["paymentConfig"]["paymentOption"] != line["paymentConfig"]["paymentOption"]
        ):
            repriced.append(line["id"])
    return out_of_stock, repriced, infos


def _order_line(sb: Sandbox, line: dict[str, Any]) -> dict[str, Any]:
    """The order line item of a cart line item.

    UNCONFIRMED: the order names its own line ids (not the cart's): read the placed order for the
    ids Charge Memberships and refunds need.
    """
    unit = dec(line["pricing"]["unitPrice"]["amount"])
    total = unit * line["quantityInfo"]["confirmedQuantity"]
    return {
        "id": sb.state.new_id(),
        "productName": dict(line["name"]),
        "catalogReference": dict(line["source"]["catalogReference"]),
        "quantity": line["quantityInfo"]["confirmedQuantity"],
        "price": price(sb, unit),
        "priceBeforeDiscounts": price(sb, unit),
        "totalDiscount": price(sb, 0),
        "totalPriceBeforeTax": price(sb, total),
        "totalPriceAfterTax": price(sb, total),
        "taxDetails": {"taxableAmount": price(sb, total), "taxRate": "0", "totalTax": price(sb, 0)},
        "paymentOption": line["paymentConfig"]["paymentOption"],
        "itemType": dict(line["attributes"]["itemType"]),
        "rootCatalogItemId": line["source"]["rootCatalogItemId"],
        "serviceProperties": dict(line["attributes"]["serviceProperties"]),
        "descriptionLines": [],
    }


def _contact_emails(contact: dict[str, Any]) -> list[str]:
    items = ((contact.get("info") or {}).get("emails") or {}).get("items") or []
    return [str(i.get("email") or "").lower() for i in items]


def _contact_phones(contact: dict[str, Any]) -> list[str]:
    items = ((contact.get("info") or {}).get("phones") or {}).get("items") or []
    return [re.sub(r"\D", "", str(i.get("phone") or "")) for i in items]


def buyer_contact(sb: Sandbox, customer: dict[str, Any]) -> dict[str, Any] | None:
    """The contact a cart's ``customerInfo`` names: found by email (then phone), else created.

    None when ``customerInfo`` names nobody (no name, email or phone). UNCONFIRMED: how Wix
    matches a cart's customer to a contact; email first is how Contacts finds duplicates.
    """
    email = str(customer.get("email") or "").lower()
    phone = re.sub(r"\D", "", str(customer.get("phone") or ""))
    by_date = sorted(sb.state.all("contacts"), key=lambda c: (c.get("createdDate") or "", c["id"]))
    if email:
        found = next((c for c in by_date if email in _contact_emails(c)), None)
        if found is not None:
            return found
    elif phone:
        found = next((c for c in by_date if phone in _contact_phones(c)), None)
        if found is not None:
            return found
    name = {k: customer[v] for k, v in (("first", "firstName"), ("last", "lastName")) if customer.get(v)}
    if not (name or email or phone):
        return None
    info: dict[str, Any] = {}
    if name:
        info["name"] = name
    now = now_iso(sb)
    contact: dict[str, Any] = {
        "id": sb.state.new_id(),
        "revision": 1,
        "source": {"sourceType": "OTHER"},
        "createdDate": now,
        "updatedDate": now,
        "lastActivity": {"activityDate": now, "activityType": "CONTACT_CREATED"},
        "primaryInfo": {},
        "info": info,
    }
    if email:
        info["emails"] = {
            "items": [{"id": sb.state.new_id(), "tag": "UNTAGGED", "email": customer["email"], "primary": True}]
        }
        contact["primaryInfo"]["email"] = customer["email"]
        contact["primaryEmail"] = {
            "email": customer["email"],
            "subscriptionStatus": "NOT_SET",
            "deliverabilityStatus": "NOT_SET",
        }
    if phone:
        info["phones"] = {
            "items": [{"id": sb.state.new_id(), "tag": "UNTAGGED", "phone": customer["phone"], "primary": True}]
        }
        contact["primaryInfo"]["phone"] = customer["phone"]
        contact["primaryPhone"] = {"phone": customer["phone"], "subscriptionStatus": "NOT_SET"}
    sb.state.put("contacts", contact)
    return contact


@route("POST /ecom/v2/carts/{cartId}/place-order")
def place_order(sb: Sandbox, req: SandboxRequest) -> dict[str, Any]:
    """Place Order → ``{orderId, completed, paymentGatewayOrderId?}`` (``PlaceOrderApplicationErrors``).

    ``completed`` — "whether an order was created from this cart and the payment completed
    successfully" — UNCONFIRMED for an offline order: the sandbox answers true only when the order
    is PAID at once (a zero total); an APPROVED, NOT_PAID offline order answers false, so a caller
    must take the order's existence from ``orderId``, never from ``completed``.
    """
    cart = sb.state.edit("carts", get_cart(sb, req.path_params["cartId"])["id"])
    assert cart is not None
    if cart["orderPlaced"]:
        # UNCONFIRMED HTTP status: 409 Conflict — the order already exists, like ALREADY_EXISTS and
        # like CHECKOUT_ALREADY_PAID, which the reference lists under 409.
        raise SandboxError(
            409,
            "CART_ALREADY_ORDERED",
            f"Cart {cart['id']} was already placed as order {cart['orderId']}",
            {"cartId": cart["id"], "orderId": cart["orderId"]},
        )
    body = req.body
    for key in ("savePaymentMethod", "delayCapture"):
        if key in body and not isinstance(body[key], bool):
            raise ValidationFailed([violation(key, f"{key} must be a boolean", "VALIDATION")])
    if body.get("priceVerificationToken"):
        # UNCONFIRMED: the token comes from Calculate Cart, which the sandbox doesn't route, so any
        # token is one it never issued.
        raise SandboxError(
            400,
            "INVALID_PRICE_VERIFICATION_TOKEN",
            "The price verification token is not valid",
            {"token": str(body["priceVerificationToken"])[:3000]},
        )
    if cart.get("demo"):
        raise precondition("PLACE_ORDER_NOT_ALLOWED_FOR_DEMO_CART", "A demo cart can't be placed")
    if not cart["lineItems"]:
        raise precondition("EMPTY_CART", f"Cart {cart['id']} has no line items")
    out_of_stock, repriced, _ = _reprice(sb, cart)
    if out_of_stock:
        raise precondition(
            "LINE_ITEMS_OUT_OF_STOCK",
            "Some bookings can no longer be sold",
            {"lineItemIds": out_of_stock, "allLineItemsOutOfStock": len(out_of_stock) == len(cart["lineItems"])},
        )
    if repriced:
        # UNCONFIRMED: a booking whose price changed since the cart was made (participants, service
        # price) is not silently sold at the new price.
        raise precondition(
            "CART_PRICES_OUT_OF_SYNC", "Prices changed since the cart was made", {"lineItemIds": repriced}
        )

    lines = [_order_line(sb, line) for line in cart["lineItems"]]
    online_now = sum(
        (ecom_orders.line_total(line) for line in lines if line["paymentOption"] in _ONLINE_OPTIONS), Decimal(0)
    )
    online_due = cart["source"]["channelType"] not in OFFLINE_CHANNELS and online_now > 0
    contact = buyer_contact(sb, cart["customerInfo"])
    buyer: dict[str, Any] = {}
    if contact is not None:
        buyer["contactId"] = contact["id"]
        email = cart["customerInfo"].get("email") or (contact.get("primaryInfo") or {}).get("email")
        if email:
            buyer["email"] = email
    extra: dict[str, Any] = {"purchaseFlowId": cart["purchaseFlowId"]}
    billing = (cart.get("paymentInfo") or {}).get("billingAddress")
    if billing:
        extra["billingInfo"] = {
            "address": billing,
            **(
                {"contactDetails": cart["paymentInfo"]["billingContact"]}
                if cart["paymentInfo"].get("billingContact")
                else {}
            ),
        }
    if cart.get("note"):
        extra["buyerNote"] = cart["note"]
    order = ecom_orders.order_create(
        sb,
        lines=lines,
        channel_type=cart["source"]["channelType"],
        # Offline orders are approved at once; an order waiting for online money stays INITIALIZED.
        status="INITIALIZED" if online_due else "APPROVED",
        buyer_info=buyer,
        # UNCONFIRMED: a Cart V2 order's checkoutId is the cart id (Cart V2 uses the cart as the checkout).
        checkout_id=cart["id"],
        extra=extra,
    )
    for line in lines:
        order_created_for_booking(sb, booking_id=line["catalogReference"]["catalogItemId"], order=order)
    cart["orderPlaced"] = True
    cart["orderId"] = order["id"]
    if contact is not None:
        cart["customerInfo"]["contactId"] = contact["id"]
    touch(sb, cart)
    sb.state.put("carts", cart)
    result: dict[str, Any] = {"orderId": order["id"], "completed": order["paymentStatus"] == "PAID"}
    if online_due:
        result["paymentGatewayOrderId"] = sb.state.new_id()
    return result
