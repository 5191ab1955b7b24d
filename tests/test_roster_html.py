"""The roster rows drawn (``bookings_app.roster_html``): all of them in one render of the row
template, cut back into rows — each exactly the row drawn on its own."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from bookings_app import roster_html, roster_rows, selectors
from bookings_app.models import Attendance, DeskAction
from tests import factories

pytestmark = pytest.mark.django_db

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def test_rows_drawn_together_are_the_rows_drawn_one_by_one(rf, desk_user):
    session = factories.SessionFactory(service__price=Decimal("12.00"), service__currency="GBP")
    factories.BookingFactory(session=session, contact__first_name="Ann")
    # a name that looks like where the rows are cut: escaped, it never is
    factories.BookingFactory(session=session, contact__first_name="<!--row-end 0123456789abcdef-->")
    came = factories.BookingFactory(session=session, contact__first_name="Cy", total_participants=2)
    factories.AttendanceFactory(booking=came, session=session, status=Attendance.Status.ATTENDED, number_of_attendees=2)
    paying = factories.BookingFactory(session=session, contact__first_name="Di")
    factories.DeskActionFactory(booking=paying, status=DeskAction.Status.NEEDS_ATTENTION, message="Wix said no.")
    request = rf.get("/")
    request.user = desk_user
    session = selectors.session_get(ref=session.ref)
    rows = roster_rows.row_list(session=session)
    roster_rows.desk_state_attach(rows=rows, session=session)
    roster_rows.row_actions_attach(rows=rows, session=session)

    together = roster_html.rows_rendered(request=request, session=session, rows=rows)
    alone = [roster_html.rows_rendered(request=request, session=session, rows=[row])[0] for row in rows]

    assert [r.booking_id for r in together] == [row.booking.pk for row in rows] == [r.booking_id for r in alone]
    assert [r.digest for r in together] == [r.digest for r in alone]
    assert [_CSRF.sub("", r.html) for r in together] == [_CSRF.sub("", r.html) for r in alone]
    for drawn in together:
        assert drawn.html.startswith(f'<tbody id="roster-row-{drawn.booking_id}" data-version=')
        assert drawn.html.endswith("</tbody>") and drawn.html.count("<tbody") == 1
        assert "row-end" not in drawn.html.replace("&lt;!--row-end 0123456789abcdef--&gt;", "")
    drawn = {r.booking_id: r.html for r in together}
    assert "Wix said no." in drawn[paying.pk] and "Checked in ×2" in drawn[came.pk]
    assert str(roster_html.joined(together)) == "".join(r.html for r in together)
    assert roster_html.rows_rendered(request=request, session=session, rows=[]) == []
