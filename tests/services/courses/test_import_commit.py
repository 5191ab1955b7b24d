"""Committing a timetable file (``services/courses/import_commit.py``) and the worker sending it:
saved first, one build per course, exactly the previewed requests, never a session twice — the
same form again, the same file again, two imports at once, a crash, a lost answer — and Retry."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from bookings_app.models import AuditEntry, CourseBuild, CourseBuildEvent, CourseImport, DeskAction, Session
from bookings_app.services import courses
from bookings_app.services.errors import BookingError
from tests.services.courses.helpers import TUE, CourseWorld, action_of, next_weekday
from tests.services.courses.import_helpers import add_aqua_fit, commit, csv_bytes, preview_of, read, swim_rows, uk
from tests.services.push.conftest import Crash, Recorder, Trouble, push_now, recorder, trouble_client
from wix_sandbox.transport import SandboxTransport

pytestmark = pytest.mark.django_db

State = CourseBuildEvent.State
Status = DeskAction.Status
BULK = "/calendar/v3/bulk/events/create"
QUERY = "/calendar/v3/events/query"


def two_courses(cw: CourseWorld) -> bytes:
    add_aqua_fit(cw)
    first = next_weekday(TUE)
    aqua = [["Aqua Fit", uk(first + timedelta(days=d)), "09:00", "09:45", "Sam Okafor", "", ""] for d in (0, 3, 8)]
    return csv_bytes(swim_rows(cw) + aqua)


def aqua_starts(cw: CourseWorld) -> list[str]:
    found = [
        e["start"]["localDate"]
        for e in cw.sb.state.all("events")
        if e.get("recurrenceType") != "MASTER"
        and e.get("status") != "CANCELLED"
        and e["scheduleId"] != cw.course["schedule"]["id"]
        and e["type"] == "COURSE"
    ]
    return sorted(found)


def test_commit_saves_one_build_per_course_and_a_desk_action_each_and_sends_nothing(
    cw: CourseWorld, admin_user
) -> None:
    data = two_courses(cw)
    calls = cw.world.calls()

    imported = commit(data, "import-key-0001", user=admin_user)

    assert cw.world.calls() == calls
    assert (imported.file_name, imported.file_kind, imported.rows) == ("term.csv", "CSV", 8)
    assert (imported.sessions_new, imported.sessions_existing) == (8, 0)
    builds = list(imported.builds.order_by("service__name"))
    assert [(b.service.name, b.source, b.sessions_planned) for b in builds] == [
        ("Aqua Fit", CourseBuild.Source.IMPORT, 3),
        ("Learn to Swim", CourseBuild.Source.IMPORT, 5),
    ]
    assert all(not e.recurring and e.state == State.PLANNED for b in builds for e in b.events.all())
    assert [action_of(b).status for b in builds] == [Status.QUEUED, Status.QUEUED]
    assert builds[1].slots == [] and builds[1].exclusions == []
    audit = AuditEntry.objects.get(action="course.import")
    assert audit.user == admin_user and audit.summary == "Imported term.csv: 8 sessions of 2 courses to create in Wix"
    assert AuditEntry.objects.filter(action="course.build", summary__contains="from a spreadsheet").count() == 2


def test_the_worker_sends_exactly_the_previewed_requests_and_wix_has_exactly_those_sessions(cw: CourseWorld) -> None:
    data = two_courses(cw)
    preview = preview_of(data)
    imported = commit(data, "import-key-0002")
    client, transport = recorder(cw.world)

    report = push_now(client)

    assert report.synced == 2
    bodies = transport.bodies(BULK)
    assert sorted(json.dumps(b, sort_keys=True) for b in bodies) == sorted(
        json.dumps(json.loads(body), sort_keys=True) for _, body in preview.request_bodies
    )
    assert len(transport.sent) == preview.call_total == 6
    planned = sorted(
        r.session.start.strftime("%Y-%m-%dT%H:%M:%S") for r in preview.rows if r.row.service.name == "Learn to Swim"
    )
    assert cw.starts_in_wix() == planned
    assert len(aqua_starts(cw)) == 3
    assert Session.objects.filter(service__name__in=["Learn to Swim", "Aqua Fit"]).count() == 8
    status = courses.course_import_status(imported=imported)
    assert status.done and (status.created, status.total, status.failed) == (8, 8, 0)


def test_the_same_form_twice_is_one_import_and_a_used_key_with_another_file_is_refused(cw: CourseWorld) -> None:
    data = csv_bytes(swim_rows(cw))
    one = commit(data, "import-key-0003")
    sheet = read(data)
    two = courses.course_import_commit(
        user=None,
        sheet=sheet,
        digest=one.plan_digest,
        idempotency_key="import-key-0003",
        today=timezone.localdate(),
        tz=settings.TIME_ZONE,
    )
    assert one.pk == two.pk and CourseImport.objects.count() == 1 and CourseBuild.objects.count() == 1

    other = csv_bytes(swim_rows(cw, weeks=1, first=next_weekday(TUE, weeks=6)))
    with pytest.raises(BookingError) as excinfo:
        commit(other, "import-key-0003")
    assert excinfo.value.code == "key_reused" and CourseBuild.objects.count() == 1


def test_the_same_file_uploaded_again_creates_nothing_before_or_after_the_worker_sent_it(cw: CourseWorld) -> None:
    data = csv_bytes(swim_rows(cw))
    commit(data, "import-key-0004")

    again = preview_of(data)
    assert again.new_count == 0 and again.existing_count == 5 and again.earlier
    assert {r.existing for r in again.rows} == {"Already on its way to Wix"}
    assert all(r.existing_note.startswith("imported from term.csv on ") for r in again.rows)
    with pytest.raises(BookingError) as excinfo:
        commit(data, "import-key-0005")
    assert excinfo.value.code == "nothing_new"

    cw.world.push()
    calls = cw.world.calls()
    assert {r.existing for r in preview_of(data).rows} == {"Already in Wix"}
    with pytest.raises(BookingError):
        commit(data, "import-key-0006")
    cw.world.push()
    assert cw.world.calls() == calls  # nothing was sent for them
    assert len(cw.starts_in_wix()) == 5
    assert CourseImport.objects.count() == 1 and CourseBuild.objects.count() == 1


def test_a_file_with_more_rows_than_last_time_creates_only_the_new_ones(cw: CourseWorld) -> None:
    commit(csv_bytes(swim_rows(cw, weeks=2)), "import-key-0007")
    cw.world.push()

    imported = commit(csv_bytes(swim_rows(cw, weeks=4)), "import-key-0008")
    cw.world.push()

    assert (imported.sessions_new, imported.sessions_existing) == (3, 3)
    assert len(cw.starts_in_wix()) == 6
    assert len(set(cw.starts_in_wix())) == 6


def test_two_previews_of_one_file_committed_one_after_the_other_create_it_once(cw: CourseWorld) -> None:
    data = csv_bytes(swim_rows(cw))
    sheet, digest = read(data), preview_of(data).digest  # two tabs previewed the same file
    commit(data, "import-key-0009")

    with pytest.raises(BookingError) as excinfo:
        courses.course_import_commit(
            user=None,
            sheet=sheet,
            digest=digest,
            idempotency_key="import-key-0010",
            today=timezone.localdate(),
            tz=settings.TIME_ZONE,
        )

    assert excinfo.value.code == "nothing_new"
    cw.world.push()
    assert len(cw.starts_in_wix()) == 5


def test_a_preview_older_than_what_was_created_since_is_refused_as_changed(cw: CourseWorld) -> None:
    data = csv_bytes(swim_rows(cw, weeks=4))
    sheet, digest = read(data), preview_of(data).digest
    commit(csv_bytes(swim_rows(cw, weeks=2)), "import-key-0011")  # someone imported half of it meanwhile

    with pytest.raises(BookingError) as excinfo:
        courses.course_import_commit(
            user=None,
            sheet=sheet,
            digest=digest,
            idempotency_key="import-key-0012",
            today=timezone.localdate(),
            tz=settings.TIME_ZONE,
        )

    assert excinfo.value.code == "plan_changed"
    assert CourseImport.objects.count() == 1


def test_a_row_that_became_past_since_the_preview_is_refused_at_commit(cw: CourseWorld) -> None:
    data = csv_bytes(swim_rows(cw))
    with pytest.raises(courses.ImportRefused) as excinfo:
        courses.course_import_commit(
            user=None,
            sheet=read(data),
            digest=preview_of(data).digest,
            idempotency_key="import-key-0013",
            today=timezone.localdate() + timedelta(weeks=5),
            tz=settings.TIME_ZONE,
        )
    assert "is in the past" in str(excinfo.value.problems[0])
    assert not CourseImport.objects.exists() and not DeskAction.objects.exists()


# --- the worker: crashes, lost answers, refusals --------------------------------------------------


def test_a_crash_after_the_bulk_request_creates_nothing_twice(cw: CourseWorld) -> None:
    imported = commit(csv_bytes(swim_rows(cw)), "import-key-0014")
    (build,) = imported.builds.all()

    with pytest.raises(Crash):
        push_now(trouble_client(cw.world, Trouble(cw.world, BULK, "crash")))

    assert set(build.events.values_list("state", flat=True)) == {State.SENT}
    assert len(cw.starts_in_wix()) == 5  # Wix made them; nobody heard
    DeskAction.objects.filter(pk=build.action_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    recording = Recorder(SandboxTransport(cw.sb))
    push_now(trouble_client(cw.world, recording))

    assert action_of(build).status == Status.SYNCED
    assert recording.bodies(BULK) == []  # found in Wix, adopted, not sent again
    assert len(cw.starts_in_wix()) == len(set(cw.starts_in_wix())) == 5
    assert courses.course_import_status(imported=imported).done


def test_a_lost_answer_is_looked_up_not_sent_again(cw: CourseWorld) -> None:
    imported = commit(two_courses(cw), "import-key-0015")
    transport = Trouble(cw.world, BULK, "lost")
    client = trouble_client(cw.world, transport)

    push_now(client)
    push_now(client, ignore_backoff=True)

    assert courses.course_import_status(imported=imported).done
    assert len(transport.bodies(BULK)) == 2  # one per course: the lost one was not sent again
    assert len(cw.starts_in_wix()) == 5 and len(aqua_starts(cw)) == 3


def test_a_course_wix_refuses_needs_attention_and_retry_sends_only_its_sessions(cw: CourseWorld) -> None:
    imported = commit(two_courses(cw), "import-key-0016")
    aqua = imported.builds.get(service__name="Aqua Fit")
    refused = aqua.events.order_by("position").first()
    refused.payload = {**refused.payload, "resources": [{"id": "gone-resource", "permissionRole": "WRITER"}]}
    refused.save()
    client, transport = recorder(cw.world)

    push_now(client)

    status = courses.course_import_status(imported=imported)
    assert status.needs_attention and (status.created, status.failed) == (7, 1)
    assert "the instructor's calendar resource no longer exists in Wix" in action_of(aqua).message
    cw.sb.state.put("resources", {"id": "gone-resource", "name": "Sam Okafor", "revision": "1"})

    courses.course_import_retry(user=None, imported=imported)
    push_now(client)

    assert courses.course_import_status(imported=imported).done
    assert [len(b["events"]) for b in transport.bodies(BULK)][-1] == 1  # only the refused session
    assert len(aqua_starts(cw)) == 3 and len(cw.starts_in_wix()) == 5
    with pytest.raises(BookingError) as excinfo:
        courses.course_import_retry(user=None, imported=imported)
    assert excinfo.value.code == "not_retryable"


def test_a_refused_session_made_since_by_a_new_upload_is_not_sent_again_by_retry(cw: CourseWorld) -> None:
    data = csv_bytes(swim_rows(cw))
    first = commit(data, "import-key-0017")
    (build,) = first.builds.all()
    refused = build.events.order_by("position").first()
    refused.payload = {**refused.payload, "resources": [{"id": "gone-resource", "permissionRole": "WRITER"}]}
    refused.save()
    cw.world.push()
    assert action_of(build).status == Status.NEEDS_ATTENTION and len(cw.starts_in_wix()) == 4

    second = commit(data, "import-key-0018")  # the admin uploads the file again instead of retrying
    assert second.sessions_new == 1
    cw.world.push()
    assert len(cw.starts_in_wix()) == 5

    courses.course_build_retry(user=None, build=build)  # and then presses Retry on the first one anyway
    recording = Recorder(SandboxTransport(cw.sb))
    push_now(trouble_client(cw.world, recording))

    assert recording.bodies(BULK) == []
    assert len(cw.starts_in_wix()) == len(set(cw.starts_in_wix())) == 5
    action = action_of(build)
    assert action.status == Status.SYNCED
    assert action.steps["message"] == "All 5 sessions are in Wix. (1 of them made by a later import or term.)"
    refused.refresh_from_db()
    assert refused.error_code == "MADE_ELSEWHERE" and refused.message.startswith("Made since by the import of term.csv")
    rows = courses.course_build_rows(build=build)
    assert sum(1 for r in rows if r.state == "ELSEWHERE") == 1


def test_a_refused_series_partly_made_since_is_not_sent_again_and_says_why(cw: CourseWorld) -> None:
    from datetime import time

    from bookings_app.services.courses import Slot

    first = next_weekday(TUE)
    build = cw.commit(cw.term(first=first, weeks=2, slots=(Slot(TUE, time(17), time(17, 45)),)))
    (series,) = build.events.all()
    series.payload = {**series.payload, "resources": [{"id": "gone-resource", "permissionRole": "WRITER"}]}
    series.save()
    cw.world.push()
    assert action_of(build).status == Status.NEEDS_ATTENTION and cw.starts_in_wix() == []
    commit(csv_bytes([["Learn to Swim", uk(first), "17:00", "17:45", "Lena Fischer", "", ""]]), "import-key-0019")
    cw.world.push()

    courses.course_build_retry(user=None, build=build)
    recording = Recorder(SandboxTransport(cw.sb))
    push_now(trouble_client(cw.world, recording))

    assert recording.bodies(BULK) == []  # re-sending the series would double its first session
    assert cw.starts_in_wix() == [f"{first.isoformat()}T17:00:00"]
    series.refresh_from_db()
    assert series.state == State.FAILED and series.error_code == "PARTLY_ELSEWHERE"
    assert series.message.startswith("1 of its 2 sessions were made since by the import of term.csv")
    assert action_of(build).status == Status.NEEDS_ATTENTION
