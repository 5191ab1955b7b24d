"""The appointment week grid and "next available" (``selectors.appointments``): Wix's free slots
from the sandbox, minus what the mirror and the desk's own walk-ins hold, per staff member."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bookings_app import selectors, wix
from bookings_app.models import Booking, DeskAction, Service
from bookings_app.selectors import appointment_slots
from bookings_app.services import desk, sync
from tests.selectors.appointment_world import (
    NEXT_MONDAY,
    THIS_MONDAY,
    Spa,
    build_spa,
    free_at,
    free_times,
    local,
    spy_on_time_slots,
)
from tests.views.desk_helpers import NOW
from tests.wix_sandbox.builders import make_service, make_staff

pytestmark = pytest.mark.django_db
SATURDAY = date(2026, 11, 21)


@pytest.fixture(autouse=True)
def fresh_availability():
    selectors.appointment_availability_forget()
    yield
    selectors.appointment_availability_forget()


@pytest.fixture
def spa(time_machine) -> Spa:
    time_machine.move_to(NOW, tick=False)
    return build_spa()


def test_the_week_lists_each_staff_members_free_times_from_now_on(spa: Spa) -> None:
    grid = spa.grid(THIS_MONDAY)

    assert [c.name for c in grid.columns] == ["Maya Thompson", "Ravi Patel"]
    # Now is Saturday 09:00: Monday to Friday are over, 09:00 is too late to book.
    assert free_times(grid, spa.maya, SATURDAY) == ["10:00", "11:00"]
    assert len(grid.free) == 2 and not grid.wix_error and not grid.notice

    week = spa.grid(NEXT_MONDAY)
    assert free_times(week, spa.maya, NEXT_MONDAY) == ["09:00", "10:00", "11:00"]
    assert free_times(week, spa.ravi, NEXT_MONDAY) == ["14:00", "15:00"]
    assert len(week.free) == 6 * 3 + 2 * 2
    assert [r.time for r in week.rows] == ["09:00", "10:00", "11:00", "14:00", "15:00"]
    assert len(week.rows[0].cells) == 2 * 7
    slot = free_at(week, spa.ravi, local(NEXT_MONDAY, 14)).slot
    assert slot["staff_name"] == "Ravi Patel" and slot["schedule_id"] == spa.wix_massage["schedule"]["id"]


def test_the_slot_is_the_same_as_the_day_view_gives_for_the_book_step(spa: Spa) -> None:
    week = spa.grid(NEXT_MONDAY)
    with wix.get_wix_client() as client:
        day = desk.appointment_slots(wix=client, service=spa.massage, day=NEXT_MONDAY)

    assert sorted((s["start"], s["resource_id"]) for s in day) == sorted(
        (f.slot["start"], f.key) for f in week.free if f.start.date() == NEXT_MONDAY
    )
    assert all(s in [f.slot for f in week.free] for s in day)


def test_one_wix_call_for_the_week_and_the_refresh_reuses_it(spa: Spa, monkeypatch) -> None:
    sent = spy_on_time_slots(monkeypatch)

    spa.grid(NEXT_MONDAY)
    spa.grid(NEXT_MONDAY)

    assert len(sent) == 1
    assert sent[0]["from_local_date"] == "2026-11-23T00:00:00" and sent[0]["to_local_date"] == "2026-11-30T00:00:00"
    assert sent[0]["service_id"] == spa.wix_massage["id"] and sent[0]["bookable"] is True
    assert "resource_types" not in sent[0]


def test_this_week_is_asked_from_now_not_from_monday(spa: Spa, monkeypatch) -> None:
    sent = spy_on_time_slots(monkeypatch)

    spa.grid(THIS_MONDAY)

    assert sent[0]["from_local_date"] == "2026-11-21T09:00:00"


def test_a_mirrored_appointment_is_shown_taken_and_its_time_not_offered(spa: Spa) -> None:
    spa.grid(NEXT_MONDAY)  # Wix's answer is kept: the overlay must not depend on asking again
    booked = spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY, 10), who="Olive Online")

    grid = spa.grid(NEXT_MONDAY)

    assert free_times(grid, spa.maya, NEXT_MONDAY) == ["09:00", "11:00"]
    assert free_times(grid, spa.ravi, NEXT_MONDAY) == ["14:00", "15:00"]
    (taken,) = grid.taken
    assert (taken.booking_id, taken.key, taken.who, taken.pending) == (
        booked.pk,
        spa.maya.resource_id,
        "Olive Online",
        False,
    )
    ten = next(r for r in grid.rows if r.time == "10:00")
    monday_maya = next(c for c in ten.cells if c.column.key == spa.maya.resource_id and c.day == NEXT_MONDAY)
    assert monday_maya.taken == [taken] and monday_maya.free == []


def test_an_appointment_of_another_service_takes_the_staff_members_time(spa: Spa) -> None:
    from tests import factories

    facial = factories.ServiceFactory(type="APPOINTMENT", name="Facial")
    session = factories.SessionFactory(service=facial, staff=spa.ravi, start=local(NEXT_MONDAY, 14, 30))
    factories.BookingFactory(session=session)

    grid = spa.grid(NEXT_MONDAY)

    assert free_times(grid, spa.ravi, NEXT_MONDAY) == []  # 14:30–15:30 overlaps both of Ravi's hours
    assert [t.service_name for t in grid.taken] == ["Facial"]


def test_cancelled_appointments_leave_the_time_free(spa: Spa) -> None:
    booked = spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY, 10))
    Booking.objects.filter(pk=booked.pk).update(status="CANCELED")

    grid = spa.grid(NEXT_MONDAY)

    assert free_times(grid, spa.maya, NEXT_MONDAY) == ["09:00", "10:00", "11:00"] and grid.taken == []


def test_the_desks_own_walk_in_is_taken_at_once_before_wix_has_it(spa: Spa, desk_user) -> None:
    first = spa.grid(NEXT_MONDAY)
    booking = spa.desk_books(desk_user, free_at(first, spa.maya, local(NEXT_MONDAY, 9)), who="Ann Archer")

    grid = spa.grid(NEXT_MONDAY)

    assert DeskAction.objects.get(kind="WALK_IN", booking=booking).status == DeskAction.Status.QUEUED
    assert spa.sb.state.all("bookings") == []  # Wix has not heard of it
    assert free_times(grid, spa.maya, NEXT_MONDAY) == ["10:00", "11:00"]
    (taken,) = grid.taken
    assert taken.pending is True and taken.who == "Ann Archer" and taken.label == "09:00"
    assert grid.digest != first.digest

    # Undone within its window: the time is free again at once.
    desk.action_undo(user=desk_user, action=DeskAction.objects.get(kind="WALK_IN", booking=booking))
    again = spa.grid(NEXT_MONDAY)
    assert free_times(again, spa.maya, NEXT_MONDAY) == ["09:00", "10:00", "11:00"]
    assert again.digest == first.digest


def test_one_staff_member_is_asked_of_wix_by_resource_and_shown_alone(spa: Spa, monkeypatch) -> None:
    sent = spy_on_time_slots(monkeypatch)
    spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY, 10))

    grid = spa.grid(NEXT_MONDAY, staff=spa.ravi)

    assert sent[0]["resource_types"] == [
        {"resourceTypeId": "1cd44cf8-756f-41c3-bd90-3e2ffcaf1155", "resourceIds": [spa.ravi.resource_id]}
    ]
    assert [c.name for c in grid.columns] == ["Ravi Patel"]
    assert {f.key for f in grid.free} == {spa.ravi.resource_id} and len(grid.free) == 4
    assert grid.taken == []  # Maya's appointment is not Ravi's


def test_a_week_across_the_clock_change_keeps_wall_clock_rows_and_hides_the_right_hour(time_machine) -> None:
    time_machine.move_to(datetime(2027, 3, 20, 9, 0, tzinfo=UTC), tick=False)
    spa = build_spa(first_monday=date(2027, 3, 22), weeks=2)
    # Clocks go forward on Sunday 28 March: Monday 29 March 10:00 BST is 09:00 UTC.
    spa.mirrored_appointment(spa.maya, local(date(2027, 3, 29), 10))
    spa.mirrored_appointment(spa.maya, local(date(2027, 3, 27), 10))  # Saturday, GMT

    before = spa.grid(date(2027, 3, 22))
    after = spa.grid(date(2027, 3, 29))

    assert free_times(before, spa.maya, date(2027, 3, 26)) == ["09:00", "10:00", "11:00"]
    assert free_times(before, spa.maya, date(2027, 3, 27)) == ["09:00", "11:00"]
    assert free_times(after, spa.maya, date(2027, 3, 29)) == ["09:00", "11:00"]
    assert [r.time for r in after.rows] == ["09:00", "10:00", "11:00", "14:00", "15:00"]
    assert [t.label for t in after.taken] == ["10:00"]


def test_a_week_that_is_over_is_not_asked_of_wix_and_shows_what_was_booked(spa: Spa, monkeypatch) -> None:
    sent = spy_on_time_slots(monkeypatch)
    last_week = THIS_MONDAY - timedelta(days=7)
    spa.mirrored_appointment(spa.maya, local(last_week, 11), who="Pat Past")

    grid = spa.grid(last_week)

    assert sent == [] and grid.free == [] and "over" in grid.notice
    assert [t.who for t in grid.taken] == ["Pat Past"]
    assert all(cell.is_past for row in grid.rows for cell in row.cells)


@pytest.mark.parametrize("week", [date(2030, 1, 7), date(9999, 12, 20)])
def test_a_week_years_ahead_is_not_asked_of_wix(spa: Spa, monkeypatch, week: date) -> None:
    sent = spy_on_time_slots(monkeypatch)

    grid = spa.grid(week)

    assert sent == [] and grid.free == [] and grid.rows == []
    assert grid.notice == "Free times are shown up to 2 years ahead: this week is further out."


def test_the_first_week_a_grid_can_show_reads_without_overflowing(spa: Spa) -> None:
    grid = spa.grid(date(1, 1, 8))

    assert grid.week.prev is None and grid.week.next == date(1, 1, 15) and grid.taken == []


@pytest.mark.parametrize("day", [date(1, 1, 2), date(9999, 12, 27)])
def test_a_week_past_the_calendars_ends_is_refused(day: date) -> None:
    with pytest.raises(ValueError):
        selectors.Week.of(day)


def test_when_wix_is_down_the_grid_says_so_and_still_shows_the_mirrors_bookings(spa: Spa) -> None:
    spa.mirrored_appointment(spa.maya, local(NEXT_MONDAY, 10), who="Olive Online")
    spa.sb.faults.error_5xx_rate = 1.0

    grid = spa.grid(NEXT_MONDAY)

    assert grid.wix_error.startswith("Wix can't be reached to list free times right now")
    assert grid.free == [] and [t.who for t in grid.taken] == ["Olive Online"]
    assert [c.name for c in grid.columns] == ["Maya Thompson", "Ravi Patel"]

    # The failure is kept a few seconds only: once Wix answers, the free times come back.
    spa.sb.faults.error_5xx_rate = 0.0
    selectors.appointment_availability_forget()
    assert len(spa.grid(NEXT_MONDAY).free) == 6 * 3 + 2 * 2 - 1


def test_wix_pages_are_followed_by_cursor_alone_and_a_short_budget_marks_the_week_partial(
    spa: Spa, monkeypatch
) -> None:
    sent = spy_on_time_slots(monkeypatch)
    start, end = local(NEXT_MONDAY, 0), local(NEXT_MONDAY + timedelta(days=7), 0)
    with wix.get_wix_client() as client:
        whole = appointment_slots.availability_list(
            wix=client, service=spa.massage, start=start, end=end, resource_id=None, page_size=5
        )
        cut = appointment_slots.availability_list(
            wix=client, service=spa.massage, start=start, end=end, resource_id=None, page_size=5, pages=2
        )

    assert len(whole.slots) == 22 and not whole.partial and not whole.error
    assert len(sent) == 5 + 2
    assert all(set(s) == {"cursor_paging"} for s in sent[1:5])  # a cursor, and nothing beside it
    assert len(cut.slots) == 10 and cut.partial is True


def test_next_available_is_the_earliest_free_time_not_taken_at_the_desk(spa: Spa, desk_user) -> None:
    with wix.get_wix_client() as client:
        first = selectors.appointment_next_free(wix=client, service=spa.massage)
    assert first.start == local(SATURDAY, 10) and first.slot["resource_id"] == spa.maya.resource_id

    grid = spa.grid(THIS_MONDAY)
    spa.desk_books(desk_user, free_at(grid, spa.maya, local(SATURDAY, 10)))
    with wix.get_wix_client() as client:
        second = selectors.appointment_next_free(wix=client, service=spa.massage)
        ravi = selectors.appointment_next_free(wix=client, service=spa.massage, staff=spa.ravi)

    assert second.start == local(SATURDAY, 11)
    assert ravi.start == local(NEXT_MONDAY, 14) and ravi.slot["resource_id"] == spa.ravi.resource_id


def test_next_available_says_none_when_nobody_works_in_the_weeks_ahead(spa: Spa) -> None:
    nina = make_staff(spa.sb, "Nina New")  # no working hours yet
    make_service(spa.sb, type="APPOINTMENT", name="Reiki", capacity=1, staff=[nina])
    with wix.get_wix_client() as client:
        sync.sync_full(wix=client)
        found = selectors.appointment_next_free(wix=client, service=Service.objects.get(name="Reiki"))

    assert found.slot is None and found.error == "" and found.weeks == 8


def test_next_available_says_none_when_every_free_time_is_taken_at_the_desk(spa: Spa) -> None:
    for week in range(3):
        for day in (NEXT_MONDAY, NEXT_MONDAY + timedelta(days=2)):
            for hour in (14, 15):
                spa.mirrored_appointment(spa.ravi, local(day + timedelta(weeks=week), hour))
    with wix.get_wix_client() as client:
        ravi = selectors.appointment_next_free(wix=client, service=spa.massage, staff=spa.ravi)
        anyone = selectors.appointment_next_free(wix=client, service=spa.massage)

    assert ravi.slot is None and not ravi.error
    assert anyone.start == local(SATURDAY, 10)  # Maya is still free


def test_next_available_when_wix_is_down_says_so(spa: Spa) -> None:
    spa.sb.faults.error_5xx_rate = 1.0
    with wix.get_wix_client(interactive=True) as client:
        found = selectors.appointment_next_free(wix=client, service=spa.massage)

    assert found.slot is None and found.error.startswith("Wix can't be reached")
