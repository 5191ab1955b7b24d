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

# Which order holds a booking is a rule now (rules/booking_orders.py); it stays importable from here.
from wix_sandbox.rules.booking_orders import order_of_booking, orders_by_booking

__all__ = [
    "changes",
    "confirm_or_decline",
    "create",
    "multi_service",
    "order_of_booking",
    "orders_by_booking",
    "status",
]
