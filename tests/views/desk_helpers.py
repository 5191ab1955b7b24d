"""What the desk's view tests share (their fixtures, ``desk_clock`` and ``session``, are in
``conftest.py``): people on a session, a member with a plan, a form token, the roster page and
one row of it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from django.urls import reverse

from bookings_app.models import BenefitBalance, Booking, Session
from tests import factories

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


HTMX = {"HX-Request": "true"}


def person(session: Session, first: str, last: str, **booking) -> Booking:
    contact = factories.ContactFactory(first_name=first, last_name=last, email=f"{first}.{last}@example.com".lower())
    return factories.BookingFactory(session=session, contact=contact, **booking)


def plan_for(booking: Booking, *, credits: str = "7", **kwargs) -> BenefitBalance:
    member = factories.MemberFactory(contact=booking.contact)
    return factories.BenefitBalanceFactory(
        member=member,
        remaining_credits=Decimal(credits),
        covered_service_ids=[booking.service.wix_id],
        **kwargs,
    )


def key() -> str:
    return str(uuid.uuid4())


def url(name: str, session: Session, *args) -> str:
    return reverse(name, args=[session.ref, *args])


def roster(client, session: Session) -> str:
    response = client.get(url("roster", session))
    assert response.status_code == 200
    return response.content.decode()


def row_of(content: str, booking: Booking) -> str:
    start = content.index(f'id="roster-row-{booking.pk}"')
    return content[start : content.index("</tbody>", start)]


def reload(obj):
    obj.refresh_from_db()
    return obj
