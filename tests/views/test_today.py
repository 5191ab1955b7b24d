from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bookings_app import selectors
from bookings_app.models import Attendance, Service
from tests import factories
from tests.selectors.helpers import NOW, at, busy_class

TODAY_URL = reverse("today")


@pytest.fixture(autouse=True)
def _frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.mark.django_db
def test_today_page_lists_the_days_sessions_in_time_order(desk_client):
    swim = busy_class(at(7), title="Dawn swim")
    factories.SessionFactory(start=at(18), title="Sunset swim")
    appointment = factories.SessionFactory(
        start=at(11), title="Massage", service__type=Service.Type.APPOINTMENT, capacity=1
    )
    factories.SessionFactory(start=at(9, day=date(2026, 11, 22)), title="Tomorrow's swim")

    response = desk_client.get(TODAY_URL)

    assert response.status_code == 200
    content = response.content.decode()
    assert content.index("Dawn swim") < content.index("Massage") < content.index("Sunset swim")
    assert "Tomorrow&#x27;s swim" not in content
    assert "Today, Saturday 21 November 2026" in content
    assert f'href="{reverse("roster", args=[swim.wix_id])}"' in content
    assert f'href="{reverse("roster", args=[appointment.wix_id])}"' in content
    assert "8<small>/20</small>" in content
    assert 'id="session-list"' in content and 'id="today-filters"' in content and 'id="messages"' in content


@pytest.mark.django_db
def test_today_page_shows_times_in_business_local_time(desk_client, time_machine):
    time_machine.move_to(datetime(2026, 7, 1, 9, 0, tzinfo=UTC), tick=False)
    factories.SessionFactory(start=datetime(2026, 7, 1, 6, 0, tzinfo=UTC), title="Summer swim")

    content = desk_client.get(TODAY_URL).content.decode()

    assert "<strong>07:00</strong>" in content  # 06:00 UTC is 07:00 BST


@pytest.mark.django_db
def test_the_root_url_leads_to_today(desk_client):
    assert desk_client.get("/").url == TODAY_URL


@pytest.mark.django_db
def test_htmx_filter_request_gets_only_the_session_list(desk_client):
    busy_class(at(7), title="Dawn swim")

    response = desk_client.get(TODAY_URL, {"date": "2026-11-21"}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<section id="session-list"')
    assert "Dawn swim" in content
    assert "<html" not in content and "today-filters" not in content
    assert "HX-Request" in response["Vary"]


@pytest.mark.django_db
def test_a_history_restore_gets_the_full_page(desk_client):
    response = desk_client.get(TODAY_URL, headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})

    assert "<html" in response.content.decode()


@pytest.mark.django_db
def test_filter_form_is_wired_for_htmx_and_plain_get(desk_client):
    content = desk_client.get(TODAY_URL).content.decode()

    assert 'method="get"' in content
    assert f'hx-get="{TODAY_URL}"' in content and 'hx-target="#session-list"' in content
    assert 'type="date"' in content and 'value="2026-11-21"' in content


@pytest.mark.django_db
def test_filter_by_service_and_staff(desk_client):
    coach = factories.StaffMemberFactory(name="Alex Coach")
    swim = factories.ServiceFactory(name="Open water")
    factories.SessionFactory(start=at(7), service=swim, staff=coach, title="Swim with Alex")
    factories.SessionFactory(start=at(8), service=swim, title="Swim with someone else")
    factories.SessionFactory(start=at(9), staff=coach, title="Yoga with Alex")

    by_service = desk_client.get(TODAY_URL, {"service": swim.pk}).content.decode()
    by_staff = desk_client.get(TODAY_URL, {"staff": coach.pk}).content.decode()
    by_both = desk_client.get(TODAY_URL, {"service": swim.pk, "staff": coach.pk}).content.decode()

    assert "Swim with Alex" in by_service and "Swim with someone else" in by_service
    assert "Yoga with Alex" not in by_service
    assert "Swim with Alex" in by_staff and "Yoga with Alex" in by_staff
    assert "Swim with someone else" not in by_staff
    assert "Swim with Alex" in by_both and "Yoga" not in by_both and "someone else" not in by_both
    # the day links keep the filters
    assert f"?date=2026-11-22&amp;service={swim.pk}&amp;staff={coach.pk}" in by_both
    # the filter shows what it filters by, and offers everything else
    assert f'<option value="{swim.pk}" selected>Open water</option>' in by_both
    assert f'<option value="{coach.pk}" selected>Alex Coach</option>' in by_both
    assert f'<option value="{swim.pk}">Open water</option>' in by_staff
    assert '<option value="">All services</option>' in by_staff


@pytest.mark.django_db
def test_an_unknown_service_filter_is_refused_with_a_message_and_nothing_selected(desk_client):
    factories.ServiceFactory(name="Open water")
    response = desk_client.get(TODAY_URL, {"service": "999999"})
    content = response.content.decode()
    assert response.status_code == 422
    assert 'aria-invalid="true"' in content and " selected>" not in content


@pytest.mark.django_db
def test_date_navigation(desk_client):
    factories.SessionFactory(start=at(9, day=date(2026, 11, 22)), title="Sunday swim")

    response = desk_client.get(TODAY_URL, {"date": "2026-11-22"})

    content = response.content.decode()
    assert "Sunday swim" in content
    assert "Sunday 22 November 2026" in content and "Today," not in content
    assert f'href="{TODAY_URL}?date=2026-11-21"' in content
    assert f'href="{TODAY_URL}?date=2026-11-23"' in content
    assert "Back to today" in content


@pytest.mark.django_db
def test_a_bad_date_shows_today_with_a_message(desk_client):
    factories.SessionFactory(start=at(9), title="Saturday swim")

    response = desk_client.get(TODAY_URL, {"date": "21/11/2026x"})

    assert response.status_code == 422
    content = response.content.decode()
    assert "Enter a date as YYYY-MM-DD." in content
    assert "Saturday swim" in content


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_day_at_the_end_of_the_calendar_is_refused_with_a_message_not_a_500(desk_client, day):
    factories.SessionFactory(start=at(9), title="Saturday swim")

    response = desk_client.get(TODAY_URL, {"date": day})

    assert response.status_code == 422
    content = response.content.decode()
    assert "Choose a day between 2 January 0001 and 30 December 9999." in content
    assert "Saturday swim" in content  # today instead


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "gone"), [("9999-12-30", "next"), ("0001-01-02", "prev")])
def test_the_last_day_there_is_shows_without_a_link_past_it(desk_client, day, gone):
    response = desk_client.get(TODAY_URL, {"date": day})

    assert response.status_code == 200
    content = response.content.decode()
    assert f'rel="{gone}"' not in content
    assert f'rel="{"prev" if gone == "next" else "next"}"' in content


@pytest.mark.django_db
def test_an_unknown_service_filter_is_a_clear_error(desk_client):
    response = desk_client.get(TODAY_URL, {"service": "999999"})

    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.django_db
def test_an_empty_day_says_so(desk_client):
    assert "No sessions on this day." in desk_client.get(TODAY_URL).content.decode()


@pytest.mark.django_db
def test_pending_and_cancelled_sessions_are_flagged(desk_client):
    session = factories.SessionFactory(start=at(9))
    factories.BookingFactory(session=session, pending_sync=True)
    factories.SessionFactory(start=at(10), status="CANCELLED")

    content = desk_client.get(TODAY_URL).content.decode()

    assert "1 waiting for Wix" in content
    assert "is-cancelled" in content and ">Cancelled<" in content


@pytest.mark.django_db
def test_today_page_queries_do_not_grow_with_sessions(client, desk_user):
    def count_queries() -> int:
        client.force_login(desk_user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(TODAY_URL).status_code == 200
        return len(ctx.captured_queries)

    busy_class(at(7))
    few = count_queries()
    for hour in range(8, 20):
        busy_class(at(hour))

    assert count_queries() == few


@pytest.mark.django_db
def test_login_required(client):
    response = client.get(TODAY_URL)

    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_header_warns_when_sync_is_stale(desk_client):
    factories.SyncStateFactory(kind="bookings", last_success_at=NOW - timedelta(minutes=5))

    content = desk_client.get(TODAY_URL).content.decode()

    assert "Not synced with Wix since 08:55" in content
    assert 'class="sync-status is-bad"' in content


@pytest.mark.django_db
def test_header_shows_a_fresh_sync_quietly(desk_client):
    factories.SyncStateFactory(kind="bookings", last_success_at=NOW - timedelta(minutes=3))

    content = desk_client.get(TODAY_URL).content.decode()

    assert "Synced 08:57" in content
    assert "sync-warning" not in content


@pytest.mark.django_db
def test_header_warns_when_wix_is_unreachable(desk_client):
    factories.SyncStateFactory(kind="sessions", last_success_at=NOW - timedelta(minutes=1))
    factories.SyncStateFactory(
        kind="bookings",
        last_success_at=NOW - timedelta(minutes=3),
        last_error="Wix did not answer (timeout)",
        last_error_at=NOW - timedelta(minutes=1),
    )

    content = desk_client.get(TODAY_URL).content.decode()

    assert "Wix unreachable" in content
    assert "Wix is not answering" in content and "Wix did not answer (timeout)" in content


@pytest.mark.django_db
def test_header_tells_staff_when_desk_actions_wait_too_long_for_wix(desk_client):
    from bookings_app.models import DeskAction

    factories.SyncStateFactory(kind="bookings", last_success_at=NOW - timedelta(minutes=1))
    for minutes in (3, 12):
        factories.DeskActionFactory(run_after=NOW - timedelta(minutes=minutes))
    factories.DeskActionFactory(run_after=NOW - timedelta(seconds=30))  # just due: not late yet
    factories.DeskActionFactory(run_after=NOW - timedelta(minutes=30), status=DeskAction.Status.SYNCED)

    content = desk_client.get(TODAY_URL).content.decode()

    assert "2 desk actions have waited more than 2 minutes to reach Wix (the oldest since 08:48)" in content
    assert "The background worker may have stopped" in content


@pytest.mark.django_db
def test_header_says_late_desk_actions_are_being_sent_while_wix_answers_and_a_worker_runs(desk_client):
    """Wix is back after an outage and the worker drains a long queue: not "it may have stopped"."""
    factories.SyncStateFactory(kind="bookings", last_success_at=NOW - timedelta(minutes=1))
    factories.DeskActionFactory(run_after=NOW - timedelta(minutes=12))
    factories.WorkerHeartbeatFactory(seen_at=NOW - timedelta(seconds=10))

    content = desk_client.get(TODAY_URL).content.decode()

    assert "1 desk action has waited more than 2 minutes to reach Wix" in content
    assert "Wix answers and the background worker is sending them now" in content
    assert "may have stopped" not in content


@pytest.mark.django_db
def test_header_says_late_desk_actions_go_when_wix_answers_while_wix_is_down(desk_client):
    factories.SyncStateFactory(
        kind="bookings", last_success_at=NOW - timedelta(minutes=9), last_error_at=NOW - timedelta(minutes=1)
    )
    factories.DeskActionFactory(run_after=NOW - timedelta(minutes=5))

    content = desk_client.get(TODAY_URL).content.decode()

    assert "1 desk action has waited more than 2 minutes" in content
    assert "They are kept and go to Wix as soon as it answers." in content


@pytest.mark.django_db
def test_header_says_nothing_of_desk_actions_that_go_in_time(desk_client):
    factories.DeskActionFactory(run_after=NOW - timedelta(seconds=20))

    content = desk_client.get(TODAY_URL).content.decode()

    assert "desk-backlog" not in content


@pytest.mark.django_db
def test_header_warns_as_soon_as_a_wix_call_went_unanswered(desk_client):
    """Before any sync has failed: the latest Wix call of any process got no answer."""
    factories.SyncStateFactory(kind="sessions", last_success_at=NOW - timedelta(minutes=1))
    factories.SyncStateFactory(
        kind="wix_calls",
        last_success_at=NOW - timedelta(minutes=2),
        last_error="the connection was refused",
        last_error_at=NOW - timedelta(seconds=20),
    )

    content = desk_client.get(TODAY_URL).content.decode()

    assert "Wix unreachable" in content
    assert "Wix is not answering (the connection was refused)" in content


@pytest.mark.django_db
def test_navigation_only_links_to_screens_that_exist(manager_client, manager_user):
    from django.urls import NoReverseMatch, reverse

    from bookings_app.context_processors import NAVIGATION

    content = manager_client.get(TODAY_URL).content.decode()

    assert f'<a href="{TODAY_URL}" aria-current="page">Today</a>' in content
    for url_name, label, permission in NAVIGATION:
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # not built yet: no dead link
            assert f">{label}</a>" not in content
            continue
        assert (f'<a href="{url}"' in content) == manager_user.has_perm(permission), label


@pytest.mark.django_db
def test_attendance_of_other_sessions_is_not_counted():
    session = factories.SessionFactory(start=at(7))
    booking = factories.BookingFactory(session=session)
    factories.AttendanceFactory(booking=booking, session=session, status=Attendance.Status.NOT_ATTENDED)
    factories.AttendanceFactory(booking=factories.BookingFactory(), number_of_attendees=5)

    [row] = [s for s in selectors.session_day_list(day=date(2026, 11, 21)) if s.pk == session.pk]

    assert row.checked_in == 0
