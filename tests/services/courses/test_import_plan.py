"""The preview of a timetable file (``services/courses/import_plan.py``): one part per course, every
row a single event with its own instructor, place and capacity, the sessions that already exist,
clashes flagged and kept, the exact requests and the calls."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest

from bookings_app.models import CourseBuild, DeskAction
from bookings_app.services import courses
from tests.services.courses.helpers import TUE, CourseWorld, make_clashing_class, next_weekday
from tests.services.courses.import_helpers import add_aqua_fit, csv_bytes, preview_of, swim_rows, uk

pytestmark = pytest.mark.django_db


def test_each_row_is_one_single_event_of_its_course_exactly_as_it_will_be_sent(cw: CourseWorld) -> None:
    aqua, sam, boathouse = add_aqua_fit(cw)
    first = next_weekday(TUE)
    rows = [
        *swim_rows(cw),
        ["Aqua Fit", uk(first), "09:00", "09:45", "Sam Okafor", "The Boathouse", "6"],
        ["Aqua Fit", uk(first + timedelta(days=3)), "09:00", "09:45", "Lena Fischer", "", ""],
    ]
    calls = cw.world.calls()

    preview = preview_of(csv_bytes(rows))

    assert cw.world.calls() == calls  # a preview asks Wix nothing
    assert preview.new_count == 7 and preview.existing_count == 0
    assert [p.service.name for p in preview.parts] == ["Aqua Fit", "Learn to Swim"]
    aqua_part, swim = preview.parts
    assert [len(p.plan.events) for p in preview.parts] == [2, 5]
    assert all(not e.recurring for p in preview.parts for e in p.plan.events)
    (aqua_body, swim_body) = [json.loads(body) for _, body in preview.request_bodies]
    first_aqua, second_aqua = (item["event"] for item in aqua_body["events"])
    assert first_aqua == {
        "type": "COURSE",
        "scheduleId": aqua["schedule"]["id"],
        "externalScheduleId": aqua["id"],
        "start": {"localDate": f"{first.isoformat()}T09:00:00"},
        "end": {"localDate": f"{first.isoformat()}T09:45:00"},
        "resources": [{"id": sam["resourceId"], "permissionRole": "WRITER"}],
        "totalCapacity": 6,
        "location": {
            "id": boathouse["id"],
            "type": "BUSINESS",
            "name": "The Boathouse",
            "formattedAddress": boathouse["formattedAddress"],
        },
    }
    assert second_aqua["resources"] == [{"id": cw.teacher["resourceId"], "permissionRole": "WRITER"}]
    assert second_aqua["totalCapacity"] == 8 and "location" not in second_aqua  # the course's own
    assert all(set(item) == {"event"} and "recurrenceRule" not in item["event"] for item in swim_body["events"])
    # Per course: what its calendar holds, one Bulk Create Event, the read back.
    assert [(c.what, c.count) for c in preview.calls] == [
        ("Query Events", 2),
        ("Bulk Create Event", 2),
        ("Query Events", 2),
    ]
    assert preview.call_total == 6
    assert swim.term.instructor == cw.instructor() and swim.term.first == first
    assert aqua_part.instructors == ["Lena Fischer", "Sam Okafor"]


def test_more_than_50_sessions_of_a_course_take_two_requests(cw: CourseWorld) -> None:
    first = next_weekday(TUE)
    rows = [
        ["Learn to Swim", uk(first + timedelta(days=d)), "07:00", "07:30", "Lena Fischer", "", ""] for d in range(60)
    ]
    preview = preview_of(csv_bytes(rows))
    assert [len(json.loads(b)["events"]) for _, b in preview.request_bodies] == [50, 10]
    assert preview.calls[1].count == 2


def test_the_digest_is_stable_and_changes_with_what_would_be_sent(cw: CourseWorld) -> None:
    data = csv_bytes(swim_rows(cw))
    assert preview_of(data).digest == preview_of(data).digest
    rows = swim_rows(cw)
    rows[0][6] = "11"
    assert preview_of(csv_bytes(rows)).digest != preview_of(data).digest


def test_sessions_a_term_made_or_is_making_already_exist_and_are_not_planned_again(cw: CourseWorld) -> None:
    first = next_weekday(TUE)
    cw.commit(cw.term(first=first, weeks=2))  # Tue/Thu 17:00–17:45, not sent yet
    rows = [
        ["Learn to Swim", uk(first), "17:00", "17:45", "Lena Fischer", "", ""],  # the term's first session
        ["Learn to Swim", uk(first), "17:00", "18:00", "Lena Fischer", "", ""],  # not the same: ends later
        ["Learn to Swim", uk(first + timedelta(days=1)), "17:00", "17:45", "Lena Fischer", "", ""],  # a Wednesday
    ]

    preview = preview_of(csv_bytes(rows))

    existing, longer, wednesday = sorted(preview.rows, key=lambda r: r.row.number)
    assert existing.existing == "Already on its way to Wix" and existing.existing_note.startswith(
        "in the term built on"
    )
    assert longer.is_new and wednesday.is_new
    assert preview.new_count == 2 and preview.existing_count == 1
    assert [e.days[0] for e in preview.parts[0].plan.events] == [first, first + timedelta(days=1)]
    assert any("already has a session" in c for c in longer.clashes)  # overlaps the existing one: flagged

    cw.world.push()
    again = preview_of(csv_bytes(rows))
    assert sorted(again.rows, key=lambda r: r.row.number)[0].existing == "Already in Wix"


def test_a_session_wix_already_has_is_found_in_the_mirror(cw: CourseWorld) -> None:
    from tests.wix_sandbox.builders import make_event

    first = next_weekday(TUE)
    make_event(cw.sb, cw.course, datetime.combine(first, time(17)), staff=cw.teacher, minutes=45)
    cw.world.mirror()

    preview = preview_of(csv_bytes([["Learn to Swim", uk(first), "17:00", "17:45", "Lena Fischer", "", ""]]))

    assert [r.existing for r in preview.rows] == ["Already in Wix"]
    assert not preview.building and preview.calls == [] and preview.call_total == 0


def test_a_session_wix_refused_before_is_planned_again(cw: CourseWorld) -> None:
    first = next_weekday(TUE)
    build = cw.commit(cw.term(first=first, weeks=1))
    build.events.update(state="FAILED", error_code="RESOURCE_NOT_FOUND")
    preview = preview_of(csv_bytes([["Learn to Swim", uk(first), "17:00", "17:45", "Lena Fischer", "", ""]]))
    assert preview.new_count == 1


def test_clashes_with_the_instructors_other_sessions_and_within_the_file_are_flagged_and_kept(
    cw: CourseWorld,
) -> None:
    make_clashing_class(cw)  # Lena teaches Open Water Swim 17:30–18:30 on the third Tuesday
    aqua, sam, _ = add_aqua_fit(cw)
    third = next_weekday(TUE) + timedelta(weeks=2)
    rows = [
        ["Learn to Swim", uk(third), "17:00", "17:45", "Lena Fischer", "", ""],
        ["Aqua Fit", uk(third), "17:15", "18:00", "Lena Fischer", "", ""],
        ["Learn to Swim", uk(third), "17:30", "18:15", "Sam Okafor", "", ""],
    ]

    preview = preview_of(csv_bytes(rows))

    swim, aqua_row, second_swim = sorted(preview.rows, key=lambda r: r.row.number)
    assert preview.new_count == 3 and preview.clash_count == 3  # flagged, not dropped
    assert f"Lena Fischer teaches Open Water Swim {third:%a %-d %b} 17:30–18:30" in swim.clashes
    assert "Lena Fischer also teaches row 3 (Aqua Fit 17:15–18:00)" in swim.clashes
    assert "row 4 is Learn to Swim too, 17:30–18:15" in swim.clashes
    assert "Lena Fischer also teaches row 2 (Learn to Swim 17:00–17:45)" in aqua_row.clashes
    assert second_swim.clashes == ["row 2 is Learn to Swim too, 17:00–17:45"]


def test_a_time_the_clocks_skip_is_noted(cw: CourseWorld, clock) -> None:
    from datetime import UTC

    clock(datetime(2027, 3, 1, 9, tzinfo=UTC))
    cw.world.mirror()
    rows = [["Learn to Swim", "28/03/2027", "01:30", "02:30", "Lena Fischer", "", ""]]  # BST begins at 01:00
    preview = courses.course_import_preview(
        sheet=courses.sheet_read(name="t.csv", data=csv_bytes(rows)), today=date(2027, 3, 1), tz="Europe/London"
    )
    assert preview.clock_notes == ["01:30 does not exist on 28 Mar (the clocks go forward)"]


def test_the_preview_saves_nothing(cw: CourseWorld) -> None:
    preview_of(csv_bytes(swim_rows(cw)))
    assert not CourseBuild.objects.exists() and not DeskAction.objects.exists()
