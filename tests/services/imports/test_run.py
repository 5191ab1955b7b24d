"""Committing an import (``services/imports/commit.py``, ``run.py``, ``results.py``): the rows written as
desk actions batch by batch and pushed with Wix's bulk endpoints — read back from the sandbox —; the
same file again changes nothing; Cancel stops after the batch and Resume goes on; a worker killed
mid-import is taken over with nothing doubled; what Wix refuses is reported row by row with what is
missing, retried, and downloaded to fix."""

from __future__ import annotations

import math
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from bookings_app.models import Contact, DeskAction, ImportRow, ParticipantImport
from bookings_app.services import exports
from bookings_app.services.errors import BookingError
from bookings_app.services.imports import commit, results, run
from bookings_app.services.imports.mapping import TEMPLATE_HEADERS
from tests.services.conftest import World, key
from tests.services.imports.helpers import ImportWorld, checked, committed, csv_bytes, run_all

pytestmark = pytest.mark.django_db


def wix_bookings(w: World, event: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        b for b in w.sb.state.all("bookings") if (b["bookedEntity"].get("slot") or {}).get("eventId") == event["id"]
    ]


def states(imported: ParticipantImport) -> list[str]:
    return list(imported.rows.order_by("number").values_list("state", flat=True))


def sheet(iw: ImportWorld) -> tuple[list[list[str]], dict[str, Any]]:
    """Eight people at yesterday's class: four cash, two on their pass, two owing, all checked in; one new."""
    w = iw.w
    people = [w.customer(f"P{i}") for i in range(5)]
    holders = [w.customer(f"H{i}", credits=4) for i in range(2)]
    w.mirror(*people, *holders)
    rows = [iw.row(p, paid="cash", attended="yes") for p in people[:3]]
    rows += [iw.row(first="Nia", last="New", email="nia@example.net", paid="cash", attended="yes")]
    rows += [iw.row(h, paid="plan", attended="yes") for h in holders]
    rows += [iw.row(p, paid="unpaid", attended="yes") for p in people[3:]]
    return rows, {"people": people, "holders": holders}


def test_a_sign_in_sheet_reaches_wix_with_the_bulk_calls_booking_only(iw: ImportWorld, desk_user, booking_only) -> None:
    w = iw.w
    rows, who = sheet(iw)
    imported = committed(desk_user, checked(desk_user, csv_bytes(rows), allow_new=True))
    before = w.calls()

    imported = run_all(w, imported)

    assert imported.status == "DONE" and (imported.rows_done, imported.rows_failed) == (8, 0)
    assert states(imported) == ["DONE"] * 8
    made = wix_bookings(w, iw.yesterday)
    assert len(made) == 8 and Counter(b["status"] for b in made) == {"CONFIRMED": 8}
    assert Counter(b["paymentStatus"] for b in made) == {"PAID": 6, "NOT_PAID": 2}
    attended = {a["bookingId"] for a in w.sb.state.all("attendances") if a["status"] == "ATTENDED"}
    assert {b["id"] for b in made} <= attended
    assert all(w.wix_credits(h) == "3" for h in who["holders"])
    # The fewest booking-only allows: Create Contact, 1 Bulk Create Booking, 2 Redeem Benefit, 1 Bulk Confirm
    # Or Decline, 1 Bulk Set Attendance — and the plan's benefit key, read once.
    calls = Counter(path for _, path, _ in w.sb.call_log[before:])
    assert calls["/bookings/v2/bulk/bookings/create"] == 1
    assert calls["/bookings/v2/bulk/attendance/set"] == 1
    assert calls["/bookings/v2/bulk/bookings/confirmOrDecline"] == 1
    fewest = 1 + 1 + 2 + 1 + 1
    assert w.calls() - before <= math.ceil(fewest * 1.1) + 1, dict(calls)


def test_ecom_mode_records_the_money_on_orders(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    amy, bo = w.customer("Amy"), w.customer("Bo")
    w.mirror(amy, bo)
    rows = [iw.row(amy, paid="card", amount="12", attended="yes"), iw.row(bo, paid="unpaid")]
    imported = run_all(w, committed(desk_user, checked(desk_user, csv_bytes(rows))))

    assert states(imported) == ["DONE", "DONE"]
    paid, owing = sorted(wix_bookings(w, iw.yesterday), key=lambda b: b["paymentStatus"], reverse=True)
    assert w.wix_order(paid["id"])["paymentStatus"] == "PAID"
    assert w.wix_order(owing["id"])["paymentStatus"] == "NOT_PAID"


def test_the_same_file_again_is_already_done_and_changes_nothing(iw: ImportWorld, desk_user, booking_only) -> None:
    w = iw.w
    rows, _ = sheet(iw)
    data = csv_bytes(rows)
    run_all(w, committed(desk_user, checked(desk_user, data, allow_new=True)))
    wix_before = (len(w.sb.state.all("bookings")), len(w.sb.state.all("contacts")), w.calls())
    actions_before = DeskAction.objects.count()

    again = checked(desk_user, data, allow_new=True)

    assert states(again) == ["SKIP"] * 8 and again.diff["planned"] == 0
    assert "already imported (sheet.csv, row 2)" in again.rows.get(number=2).plan["notes"]
    with pytest.raises(BookingError) as excinfo:
        committed(desk_user, again)
    assert excinfo.value.code == "nothing_new"
    assert (len(w.sb.state.all("bookings")), len(w.sb.state.all("contacts")), w.calls()) == wix_before
    assert DeskAction.objects.count() == actions_before
    assert Contact.objects.filter(search_email="nia@example.net").count() == 1


def test_the_same_commit_form_twice_commits_once_and_a_stale_one_is_refused(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    amy = w.customer("Amy")
    w.mirror(amy)
    imported = checked(desk_user, csv_bytes([iw.row(amy, paid="cash")]))
    token = key("form")

    first = commit.import_commit(user=desk_user, imported=imported, idempotency_key=token, digest=imported.plan_digest)
    second = commit.import_commit(user=desk_user, imported=imported, idempotency_key=token, digest=imported.plan_digest)

    assert first.pk == second.pk and first.status == "RUNNING"
    with pytest.raises(BookingError) as excinfo:
        commit.import_commit(user=desk_user, imported=imported, idempotency_key=key("other"), digest="x")
    assert excinfo.value.code == "already_committed"
    fresh = checked(desk_user, csv_bytes([iw.row(amy, paid="card")]))
    with pytest.raises(BookingError) as excinfo:
        commit.import_commit(user=desk_user, imported=fresh, idempotency_key=key("f"), digest="not-the-dry-run")
    assert excinfo.value.code == "plan_changed"


def test_cancel_stops_after_the_batch_and_resume_goes_on(iw: ImportWorld, desk_user, booking_only, monkeypatch) -> None:
    w = iw.w
    people = [w.customer(f"P{i}") for i in range(7)]
    w.mirror(*people)
    monkeypatch.setattr(run, "BATCH", 3)
    imported = committed(desk_user, checked(desk_user, csv_bytes([iw.row(p, paid="cash") for p in people])))
    real_release = commit.batch_release

    def release_then_cancel(**kwargs: Any) -> list[ImportRow]:
        out = real_release(**kwargs)
        run.import_cancel(user=desk_user, imported=kwargs["imported"])  # the admin clicks Cancel meanwhile
        return out

    monkeypatch.setattr(run, "batch_release", release_then_cancel)
    imported = run_all(w, imported)

    assert imported.status == "CANCELLED"
    assert states(imported) == ["DONE"] * 3 + ["PLANNED"] * 4  # the batch on its way was finished, no more
    assert len(wix_bookings(w, iw.yesterday)) == 3

    monkeypatch.setattr(run, "batch_release", real_release)
    run.import_resume(user=desk_user, imported=imported)
    imported = run_all(w, imported)

    assert imported.status == "DONE" and states(imported) == ["DONE"] * 7
    assert len(wix_bookings(w, iw.yesterday)) == 7


class Crash(BaseException):
    """The worker process dies: nothing it could catch."""


def test_a_worker_killed_mid_import_is_taken_over_and_nothing_is_doubled(
    iw: ImportWorld, desk_user, booking_only
) -> None:
    w = iw.w
    people = [w.customer(f"P{i}") for i in range(5)]
    w.mirror(*people)
    imported = committed(desk_user, checked(desk_user, csv_bytes([iw.row(p, paid="cash") for p in people])))
    crashes = []

    def die_after_wix_applied(response: Any) -> None:
        if response.request.url.path.endswith("/bulk/bookings/create") and not crashes:
            crashes.append(response.status_code)
            raise Crash

    http = w.wix._http
    http.event_hooks = {**http.event_hooks, "response": [*http.event_hooks["response"], die_after_wix_applied]}
    with pytest.raises(Crash):
        run.imports_run_due(wix=w.wix)

    imported.refresh_from_db()
    assert imported.lease_until is not None and run.imports_run_due(wix=w.wix) is not None  # held: nobody runs
    assert len(wix_bookings(w, iw.yesterday)) == 5  # Wix made them; the answer was never kept
    # The leases run out (the import's and the push's); the watchdog run takes over.
    past = timezone.now() - timezone.timedelta(seconds=1)
    ParticipantImport.objects.update(lease_until=past)
    DeskAction.objects.filter(status="RUNNING").update(next_attempt_at=past)
    imported = run_all(w, imported)

    assert imported.status == "DONE" and states(imported) == ["DONE"] * 5
    made = wix_bookings(w, iw.yesterday)
    assert len(made) == 5 and Counter(b["paymentStatus"] for b in made) == {"PAID": 5}
    assert len({b["contactDetails"]["contactId"] for b in made}) == 5


def test_a_row_wix_refuses_says_what_is_missing_and_retry_sends_it_again(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    amy, bo = w.customer("Amy"), w.customer("Bo", credits=2)
    w.mirror(amy, bo)
    # In Wix the pass was used up meanwhile (the mirror doesn't know yet).
    pool = w.sb.state.get("balances", bo["sold"]["pool"]["id"])
    pool["amount"]["available"] = "0"
    with w.sb.state.transaction():
        w.sb.state.put("balances", pool)
    rows = [iw.row(amy, paid="cash", attended="yes"), iw.row(bo, paid="plan", attended="yes")]

    imported = run_all(w, committed(desk_user, checked(desk_user, csv_bytes(rows))))

    assert imported.status == "DONE" and (imported.rows_done, imported.rows_failed) == (1, 1)
    failed = imported.rows.get(number=3)
    assert failed.state == "FAILED"
    assert failed.message.startswith("Wix refused the plan charge: ")
    assert failed.message.endswith("Done: the booking, the check-in. Not done: the plan charge.")
    table = results.failed_rows_table(imported)
    (only,) = list(table.rows)
    assert only[:3] == ["Bo", "Swimmer", bo["contact"]["primaryInfo"]["email"]]
    assert only[-1].startswith("Row 3: Wix refused the plan charge")

    pool["amount"]["available"] = "2"  # the desk sorted the pass out in Wix
    with w.sb.state.transaction():
        w.sb.state.put("balances", pool)
    assert run.import_retry(user=desk_user, imported=imported) == 1
    imported = run_all(w, imported)

    assert imported.status == "DONE" and states(imported) == ["DONE", "DONE"]
    assert w.wix_credits(bo) == "1"


def test_a_session_that_filled_up_since_the_dry_run_refuses_the_row_when_its_batch_goes(
    iw: ImportWorld, desk_user
) -> None:
    from bookings_app.services import desk

    w = iw.w
    amy, bo = w.customer("Amy"), w.customer("Bo")
    w.mirror(amy, bo)
    session = w.session(iw.yesterday)
    session.capacity = 1
    session.save(update_fields=["capacity"])
    imported = checked(desk_user, csv_bytes([iw.row(amy, paid="cash")]))
    desk.walk_in_create(user=desk_user, contact=w.contact(bo), session=session, idempotency_key=key())  # the desk

    imported = run_all(w, committed(desk_user, imported))

    row = imported.rows.get()
    assert row.state == "INVALID" and row.batch == 1
    assert row.message == "The session is full: 1 of 1 places are taken."
    assert (imported.rows_done, imported.rows_failed) == (0, 1)
    assert not DeskAction.objects.filter(booking__contact__wix_id=amy["contact"]["id"]).exists()


def test_the_failed_rows_download_keeps_the_files_columns_and_neutralises_formulas(iw: ImportWorld, desk_user) -> None:
    w = iw.w
    w.mirror()
    rows = [iw.row(first="=cmd|' /C calc'!A0", last="X", email="x@example.net"), ["", "", "", "", "Yoga"]]
    imported = checked(desk_user, csv_bytes(rows))

    table = results.failed_rows_table(imported)
    body = b"".join(exports.csv_chunks(table)).decode("utf-8-sig").splitlines()

    assert body[0] == "First name,Surname,Email,Phone,Class,Date,Time,Paid,Amount,Plan,Attended,Error"
    assert body[1].startswith("'=cmd|' /C calc'!A0,X,x@example.net,")
    assert body[1].endswith('looks like a spreadsheet formula, not a name."')
    assert ",Yoga,,,,,,," in body[2] and "Row 3, column A “First name”: No customer matches" in body[2]


def test_the_counts_and_the_time_left_follow_the_rows(iw: ImportWorld, desk_user, booking_only) -> None:
    w = iw.w
    people = [w.customer(f"P{i}") for i in range(3)]
    w.mirror(*people)
    imported = committed(desk_user, checked(desk_user, csv_bytes([iw.row(p, paid="cash") for p in people])))

    assert (imported.rows_planned, imported.rows_to_import, imported.rows_finished) == (3, 3, 0)
    assert imported.calls_left == imported.diff["calls"] and results.seconds_left(imported) >= 0
    imported = run_all(w, imported)

    assert (imported.rows_done, imported.rows_waiting, imported.rows_planned, imported.calls_left) == (3, 0, 0, 0)
    assert imported.finished_at is not None
    assert Decimal(w.sb.state.all("bookings")[0]["totalParticipants"]) == 1


def test_a_session_by_its_wix_id_and_a_course_enrolment_reach_wix(iw: ImportWorld, desk_user, booking_only) -> None:
    w = iw.w
    amy, bo = w.customer("Amy"), w.customer("Bo")
    w.mirror(amy, bo)
    by_id = iw.row(amy, service="", event=None, paid="cash", attended="yes")
    headers = [*TEMPLATE_HEADERS, "Session id"]
    rows = [[*by_id, iw.yesterday["id"]], [*iw.row(bo, service="Learn to Swim", event=None, paid="unpaid"), ""]]

    imported = run_all(w, committed(desk_user, checked(desk_user, csv_bytes(rows, headers=headers))))

    assert states(imported) == ["DONE", "DONE"]
    (class_booking,) = wix_bookings(w, iw.yesterday)
    assert class_booking["contactDetails"]["contactId"] == amy["contact"]["id"]
    assert class_booking["paymentStatus"] == "PAID"
    (enrolment,) = [b for b in w.sb.state.all("bookings") if b["bookedEntity"].get("schedule")]
    assert enrolment["bookedEntity"]["schedule"]["scheduleId"] == iw.course["schedule"]["id"]
    assert enrolment["contactDetails"]["contactId"] == bo["contact"]["id"]
    assert enrolment["paymentStatus"] == "NOT_PAID"
