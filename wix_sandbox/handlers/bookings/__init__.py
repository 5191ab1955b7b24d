"""Bookings Writer V2 (CONTRACT.md §3): create, confirm or decline, status changes, multi-service.

- ``create.py`` — Create Booking, Bulk Create Booking; ``slots.py`` resolves what is booked and
  ``validation.py`` what a request must hold.
- ``confirm_or_decline.py`` — Confirm Or Decline (custom checkouts), one and in bulk.
- ``status.py`` — confirm, decline, cancel (also in bulk), mark as pending.
- ``changes.py`` — number of participants, reschedule.
- ``multi_service.py`` — multi-service bookings.
- ``records.py`` — what they share: statuses, the revision rule, saving, bulk answers.

Places are counted by ``rules/capacity.py``; a booking's order and payment status are linked to
eCommerce by ``rules/booking_orders.py``.
"""

from wix_sandbox.handlers.bookings import changes, confirm_or_decline, create, multi_service, status
from wix_sandbox.handlers.bookings.records import get_booking
from wix_sandbox.rules.booking_orders import order_of_booking, orders_by_booking
from wix_sandbox.rules.capacity import booked_participants, participants_of

__all__ = [
    "booked_participants",
    "changes",
    "confirm_or_decline",
    "create",
    "get_booking",
    "multi_service",
    "order_of_booking",
    "orders_by_booking",
    "participants_of",
    "status",
]
