"""Cross-area rules the sandbox's handler modules call in each other (one place to find them).

- Bookings (``handlers/bookings.py``) implements the booking side.
- eCommerce (``handlers/ecom.py``) calls these when a booking is put in a checkout and when an
  order's payment status changes, because a booking's ``paymentStatus`` follows its order.
- Time slots (``handlers/availability.py``) call :func:`booked_participants` for capacity.
"""

from __future__ import annotations

from typing import Any

from .app import Sandbox


def booked_participants(sb: Sandbox, *, event_id: str) -> int:
    """Participants holding a place in a session: bookings CONFIRMED or PENDING on ``event_id``."""
    from .handlers import bookings

    return bookings.booked_participants(sb, event_id=event_id)


def booking_line_item(sb: Sandbox, *, booking_id: str) -> dict[str, Any]:
    """What a checkout line item learns from a booking put in it as ``catalogItemId``.

    ``{bookingId, serviceId, contactId, productName, unitPrice (Decimal string, fixed price ×
    participants), scheduledDate (ISO UTC), numberOfParticipants, selectedPaymentOption}``.
    Raises 404 ``BOOKING_NOT_FOUND`` (as a checkout line item availability error in the caller).
    """
    from .handlers import bookings

    return bookings.booking_line_item(sb, booking_id=booking_id)


def order_created_for_booking(sb: Sandbox, *, booking_id: str, order: dict[str, Any]) -> None:
    """A checkout with this booking became an order: CREATED → CONFIRMED, payment status synced."""
    from .handlers import bookings

    bookings.order_created_for_booking(sb, booking_id=booking_id, order=order)


def order_payment_changed(sb: Sandbox, *, booking_id: str, order: dict[str, Any]) -> None:
    """The order's ``paymentStatus`` changed: the booking's ``paymentStatus`` follows it."""
    from .handlers import bookings

    bookings.order_payment_changed(sb, booking_id=booking_id, order=order)
