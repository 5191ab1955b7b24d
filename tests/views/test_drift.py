"""The drift page (``views/drift.py``): managers only; every kind counted, cases in plain words with
their fixes; retry, re-sync and payment as htmx (the case swapped in place) and without JavaScript
(back to the page with a message); bad input answered 4xx, changing nothing; the header's count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bookings_app.models import AuditEntry, Booking, DeskAction
from bookings_app.selectors import drift
from tests.factories import AttendanceFactory, BookingFactory, DeskActionFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
PAGE = "/drift/"
HTMX = {"HX-Request": "true"}


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def stuck_payment() -> DeskAction:
    return DeskActionFactory(
        run_after=ago(hours=1), attempts=2, last_error="Wix answered 503", booking__contact__first_name="Ann"
    )


def attended_unpaid() -> Booking:
    session = SessionFactory(start=ago(hours=3), end=ago(hours=2), title="Dawn swim")
    booking = BookingFactory(session=session, contact__first_name="Cy", contact__last_name="Cole")
    AttendanceFactory(booking=booking)
    return booking


def test_front_desk_may_not_see_drift_and_has_no_link_to_it(desk_client):
    stuck_payment()

    assert desk_client.get(PAGE).status_code == 403
    page = desk_client.get(reverse("today")).content.decode()
    assert 'href="/drift/"' not in page


def test_a_manager_sees_every_kind_counted_and_the_cases_with_their_fixes(manager_client):
    action = stuck_payment()
    booking = attended_unpaid()

    for _ in range(2):  # the same page twice in a row
        response = manager_client.get(PAGE)
        page = unescape(response.content.decode())

        assert response.status_code == 200
        assert "Waiting for Wix for too long" in page and "Came but did not pay" in page
        assert f"Payment for {action.contact} has not reached Wix (2 tries; last answer: Wix answered 503)." in page
        assert f'action="/drift/actions/{action.pk}/retry/"' in page
        assert "Cy Cole was checked in at Dawn swim" in page
        assert f'action="/drift/bookings/{booking.pk}/pay/"' in page and "Cash £12.00" in page
        assert f'href="/sessions/{booking.session.ref}/#booking-{booking.pk}"' in page
        assert f'href="/audit/?booking={booking.pk}"' in page
        assert "Open in Wix" not in page  # the sandbox has no dashboard


def test_with_nothing_to_look_at_the_page_says_so(manager_client):
    page = manager_client.get(PAGE).content.decode()

    assert "Nothing disagrees" in page


def test_one_kind_is_paged_with_its_cursor(manager_client, monkeypatch):
    monkeypatch.setattr(drift, "PAGE_SIZE", 1)
    first, second = stuck_payment(), stuck_payment()
    DeskAction.objects.filter(pk=second.pk).update(run_after=ago(minutes=30))

    page = unescape(manager_client.get(PAGE, {"kind": drift.STUCK_WAITING}).content.decode())
    assert f"/drift/actions/{first.pk}/retry/" in page and f"/drift/actions/{second.pk}/retry/" not in page
    cursor = drift.drift_sections(kind=drift.STUCK_WAITING)[0].more
    page = manager_client.get(PAGE, {"kind": drift.STUCK_WAITING, "after": cursor}).content.decode()

    assert f"/drift/actions/{second.pk}/retry/" in page and f"/drift/actions/{first.pk}/retry/" not in page


@pytest.mark.parametrize(
    "query", [{"kind": "nonsense"}, {"after": "2026-01-01T00:00:00+00:00|3"}, {"kind": "stuck_waiting", "after": "x"}]
)
def test_a_kind_or_page_that_cannot_be_read_is_a_400_with_a_message(manager_client, query):
    response = manager_client.get(PAGE, query)

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()


# --- retry --------------------------------------------------------------------------------------------


def test_retry_with_htmx_sends_the_action_again_and_answers_the_case_in_place(manager_client, manager_user):
    action = stuck_payment()
    DeskAction.objects.filter(pk=action.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=4))
    url = reverse("drift_retry", args=[action.pk])
    data = {"kind": drift.STUCK_WAITING, "case": action.pk}

    response = manager_client.post(url, data, headers=HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="case-stuck_waiting-{action.pk}"')
    assert "Sent again: the worker takes it to Wix now." in html
    action.refresh_from_db()
    assert action.next_attempt_at is None
    assert AuditEntry.objects.get(action="drift.retry").user == manager_user
    again = manager_client.post(url, data, headers=HTMX)  # twice in a row: sent again, nothing breaks
    assert again.status_code == 200


def test_retry_of_an_action_that_reached_wix_is_refused_409_with_its_reason(manager_client):
    action = stuck_payment()
    DeskAction.objects.filter(pk=action.pk).update(status=Status.SYNCED)

    response = manager_client.post(
        reverse("drift_retry", args=[action.pk]), {"kind": drift.STUCK_WAITING, "case": action.pk}, headers=HTMX
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "Nothing to retry: this is in wix." in html and "is-fixed" in html
    assert not AuditEntry.objects.exists()


def test_without_javascript_a_fix_goes_back_to_the_page_with_its_message(manager_client):
    action = stuck_payment()

    response = manager_client.post(reverse("drift_retry", args=[action.pk]), {"kind": drift.STUCK_WAITING}, follow=True)

    assert response.redirect_chain[-1][0] == f"{PAGE}?kind=stuck_waiting"
    assert "Sent again" in response.content.decode()


def test_a_fix_of_something_that_is_not_there_is_a_404(manager_client):
    assert manager_client.post(reverse("drift_retry", args=[999999])).status_code == 404
    assert manager_client.post(reverse("drift_resync", args=[999999])).status_code == 404
    assert manager_client.post(reverse("drift_pay", args=[2**63 + 5])).status_code == 404


def test_fixes_are_posts_only(manager_client):
    action = stuck_payment()

    assert manager_client.get(reverse("drift_retry", args=[action.pk])).status_code == 405


# --- re-sync --------------------------------------------------------------------------------------------


def test_resync_queues_the_read_in_the_background_and_records_who_asked(manager_client, manager_user):
    booking = attended_unpaid()
    attendance = booking.attendances.get()

    response = manager_client.post(
        reverse("drift_resync", args=[booking.pk]),
        {"kind": drift.ATTENDED_UNPAID, "case": attendance.pk},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Reading Cy Cole's booking from Wix again" in unescape(response.content.decode())
    assert DBTaskResult.objects.filter(task_path__endswith="booking_resync_task", status="READY").count() == 1
    asked = AuditEntry.objects.get(action="drift.resync")
    assert (asked.user, asked.object_id) == (manager_user, str(booking.pk))


def test_resync_of_a_booking_wix_has_not_made_yet_is_refused(manager_client):
    booking = BookingFactory(wix_id=None)

    response = manager_client.post(reverse("drift_resync", args=[booking.pk]), {"kind": "x"}, follow=True)

    assert "not in Wix yet" in response.content.decode()
    assert not DBTaskResult.objects.exists()


# --- record the payment ---------------------------------------------------------------------------------


def test_pay_takes_what_the_attendee_owes_through_the_desk_and_the_case_is_fixed(manager_client, manager_user):
    booking = attended_unpaid()
    attendance = booking.attendances.get()
    data = {"kind": drift.ATTENDED_UNPAID, "case": attendance.pk, "method": "CASH", "idempotency_key": "k-drift-1"}

    response = manager_client.post(reverse("drift_pay", args=[booking.pk]), data, headers=HTMX)
    again = manager_client.post(reverse("drift_pay", args=[booking.pk]), data, headers=HTMX)  # a double tap

    assert response.status_code == 200
    html = response.content.decode()
    assert "is-fixed" in html and "Payment taken from Cy Cole" in html
    payment = DeskAction.objects.get(kind="PAYMENT")
    assert (payment.params["amount"], payment.params["method"], payment.created_by) == ("12.00", "CASH", manager_user)
    assert again.status_code in (200, 409) and DeskAction.objects.filter(kind="PAYMENT").count() == 1
    assert AuditEntry.objects.get(action="payment.cash").user == manager_user
    assert drift.drift_counts()[drift.ATTENDED_UNPAID] == 0


@pytest.mark.parametrize("bad", [{"method": "GOLD"}, {"method": "CASH", "idempotency_key": ""}])
def test_pay_with_bad_input_is_refused_and_changes_nothing(manager_client, bad):
    booking = attended_unpaid()
    data = {"kind": drift.ATTENDED_UNPAID, "case": booking.attendances.get().pk, "idempotency_key": "k-1", **bad}

    response = manager_client.post(reverse("drift_pay", args=[booking.pk]), data, headers=HTMX)

    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()
    assert not DeskAction.objects.exists()
    booking.refresh_from_db()
    assert booking.payment_status == Booking.PaymentStatus.NOT_PAID


def test_someone_who_may_see_drift_but_not_take_money_may_not_pay(client, staff_roles):
    reader = UserFactory(username="reader")
    reader.user_permissions.add(Permission.objects.get(codename="view_reports"))
    client.force_login(reader)
    booking = attended_unpaid()

    response = client.post(reverse("drift_pay", args=[booking.pk]), {"method": "CASH", "idempotency_key": "k"})

    assert response.status_code == 403
    assert not DeskAction.objects.exists()
    assert "Record the payment" not in client.get(PAGE).content.decode()


# --- the header's count ---------------------------------------------------------------------------------


def test_a_manager_sees_the_drift_count_in_the_header_when_it_is_not_zero(manager_client):
    page = manager_client.get(reverse("today")).content.decode()
    assert 'href="/drift/"' in page and "nav-count" not in page

    stuck_payment()
    attended_unpaid()
    drift.drift_forget()
    page = manager_client.get(reverse("today")).content.decode()

    assert 'href="/drift/">Drift <span class="badge is-bad nav-count" title="2 to look at">2</span></a>' in page


def test_the_header_count_is_counted_once_then_kept(manager_client):
    stuck_payment()

    with CaptureQueriesContext(connection) as first:
        manager_client.get(reverse("today"))
    with CaptureQueriesContext(connection) as second:
        page = manager_client.get(reverse("today")).content.decode()

    assert "nav-count" in page
    assert len(first.captured_queries) - len(second.captured_queries) == len(drift.QUERIES)


def test_a_fix_forgets_the_header_count(manager_client):
    booking = attended_unpaid()
    manager_client.get(reverse("today"))
    manager_client.post(
        reverse("drift_pay", args=[booking.pk]),
        {"kind": drift.ATTENDED_UNPAID, "case": booking.attendances.get().pk, "method": "CARD", "idempotency_key": "z"},
    )

    page = manager_client.get(reverse("today")).content.decode()

    assert "nav-count" not in page
    assert Decimal(DeskAction.objects.get().params["amount"]) == Decimal("12")


def test_the_drift_page_counts_for_the_header_itself(manager_client):
    stuck_payment()
    attended_unpaid()
    drift.drift_forget()

    with CaptureQueriesContext(connection) as page_queries:
        page = manager_client.get(PAGE).content.decode()
    with CaptureQueriesContext(connection) as today:
        today_page = manager_client.get(reverse("today")).content.decode()

    # The header shows the page's own total: no count of every kind besides the page's reads.
    assert not [q for q in page_queries.captured_queries if '"__count"' in q["sql"]]
    assert 'title="2 to look at">2</span>' in page and 'title="2 to look at">2</span>' in today_page
    assert not [q for q in today.captured_queries if '"__count"' in q["sql"]]


def test_one_kind_leaves_the_header_count_to_the_header(manager_client):
    stuck_payment()
    attended_unpaid()
    drift.drift_forget()

    page = manager_client.get(PAGE, {"kind": drift.STUCK_WAITING}).content.decode()

    # The header counted every kind (2), not the one kind's page (1).
    assert cache.get(drift.TOTAL_CACHE_KEY) == 2 and 'title="2 to look at">2</span>' in page


# --- what the cases show, escaped ------------------------------------------------------------------------


def test_what_a_case_shows_is_escaped(manager_client):
    session = SessionFactory(start=ago(hours=3), end=ago(hours=2), title="<b>Dawn</b> swim")
    booking = BookingFactory(session=session, contact__first_name="<script>x</script>", contact__last_name="O'Neil")
    AttendanceFactory(booking=booking)

    page = manager_client.get(PAGE).content.decode()

    assert "<script>x</script>" not in page and "<b>Dawn</b>" not in page
    assert "&lt;script&gt;x&lt;/script&gt; O&#39;Neil was checked in at &lt;b&gt;Dawn&lt;/b&gt; swim" in page
    assert unescape(page).count('aria-label="Cash £12.00 from <script>x</script> O\'Neil"') == 1
