"""What the selector and Today tests share: a Saturday in November, times on it, a busy class."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bookings_app.models import Booking, Payment
from tests import factories

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)  # a Saturday; London is on GMT (UTC+0)


def at(hour: int, minute: int = 0, day: date = date(2026, 11, 21)) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def busy_class(start: datetime, **kwargs) -> factories.SessionFactory:
    """A class of 20 places: 3 paid cash, 2 charged to a plan, 2 unpaid (one of them ×2),
    1 cancelled; 2 checked in."""
    session = factories.SessionFactory(start=start, **kwargs)
    paid = factories.BookingFactory.create_batch(3, session=session, payment_status=Booking.PaymentStatus.PAID)
    for booking in paid:
        item = factories.OrderLineItemFactory(booking=booking, order__balance=0, order__payment_status="PAID")
        factories.PaymentFactory(order=item.order, method=Payment.Method.CASH)
    for _ in range(2):
        item = factories.OrderLineItemFactory(
            booking__session=session, booking__payment_status=Booking.PaymentStatus.PAID, payment_option="MEMBERSHIP"
        )
        factories.PaymentFactory(order=item.order, method=Payment.Method.PLAN, line_item_id=item.line_item_id)
    factories.BookingFactory(session=session)
    factories.BookingFactory(session=session, total_participants=2)
    factories.BookingFactory(session=session, status=Booking.Status.CANCELED)
    for booking in paid[:2]:
        factories.AttendanceFactory(booking=booking, session=session)
    return session
