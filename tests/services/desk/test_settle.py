"""Settle a roster: the suggestions, the commit end to end, and the bulk commit doing what row-by-
row clicks do in a fixed number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bookings_app import money
from bookings_app.models import Attendance, AuditEntry, BenefitBalance, Booking, DeskAction, Session
from bookings_app.services import desk
from tests import factories
from tests.services.conftest import World, key
from tests.services.desk.helpers import assert_all_synced, settle_roster, settle_session

pytestmark = pytest.mark.django_db

Status = DeskAction.Status
Kind = DeskAction.Kind


def test_settle_suggests_plan_cash_or_paid_and_commits_every_row(world: World, desk_user) -> None:
    plan_person, cash_person, owes_person = (
        world.customer("Pat", credits=2),
        world.customer("Cas"),
        world.customer("Ow"),
    )
    paid_person = world.customer("Paid")
    for person in (plan_person, cash_person, owes_person, paid_person):
        world.online_booking(person)
    world.mirror(plan_person)
    session = world.session()
    already = world.booking(
        next(
            b
            for b in world.sb.state.all("bookings")
            if b["contactDetails"]["contactId"] == paid_person["contact"]["id"]
        )
    )
    desk.payment_record(user=desk_user, booking=already, method="CASH", amount=Decimal("12"), idempotency_key=key())

    rows = {r.booking.contact.first_name: r for r in desk.settle_suggestions(session=session)}
    assert {n: r.resolution for n, r in rows.items()} == {"Pat": "plan", "Cas": "cash", "Ow": "cash", "Paid": "paid"}
    assert rows["Pat"].balance == world.balance(plan_person)
    assert rows["Cas"].amount_due == Decimal("12.00")

    bad = [desk.SettleChoice(booking_id=rows["Cas"].booking.pk, resolution="cash", amount=Decimal("20"))]
    with pytest.raises(desk.BookingError) as excinfo:
        desk.settle_commit(user=desk_user, session=session, rows=bad, idempotency_key=key())
    assert excinfo.value.code == "settle_invalid" and rows["Cas"].booking.pk in excinfo.value.row_errors
    assert DeskAction.objects.filter(batch_id__gt="").count() == 0

    choices = [
        desk.SettleChoice(
            booking_id=rows["Pat"].booking.pk, resolution="plan", balance_id=rows["Pat"].balance.pk, check_in=True
        ),
        desk.SettleChoice(booking_id=rows["Cas"].booking.pk, resolution="cash", check_in=True),
        desk.SettleChoice(booking_id=rows["Ow"].booking.pk, resolution="owes", check_in=False),
        desk.SettleChoice(booking_id=rows["Paid"].booking.pk, resolution="skip", check_in=True),
    ]
    k = key()
    actions = desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=k)
    assert sorted(a.kind for a in actions) == ["ATTENDANCE"] * 4 + ["PAYMENT", "PAY_LATER", "PLAN_CHARGE"]
    assert desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=k) == actions

    world.push()
    assert_all_synced()
    by_name = {b.contact.first_name: b for b in Booking.objects.select_related("contact")}
    assert world.wix_order(by_name["Pat"])["paymentStatus"] == "PAID"
    assert world.wix_order(by_name["Cas"])["paymentStatus"] == "PAID"
    assert world.wix_order(by_name["Ow"])["paymentStatus"] == "NOT_PAID"
    assert world.wix_attendance(by_name["Ow"])["status"] == "NOT_ATTENDED"
    assert world.wix_attendance(by_name["Cas"])["status"] == "ATTENDED"
    assert world.wix_credits(plan_person) == "1"


def test_settle_suggestions_and_customer_search_cost_the_same_queries_for_3_or_30_people(world: World) -> None:
    people = [world.customer(f"Q{i:02d}", "Many", credits=3 if i % 2 else None) for i in range(30)]
    for person in people[:3]:
        world.online_booking(person)
    world.mirror(*people)
    session = world.session()

    def count(fn) -> int:
        with CaptureQueriesContext(connection) as ctx:
            fn()
        return len(ctx.captured_queries)

    few_settle = count(lambda: desk.settle_suggestions(session=session))
    few_search = count(lambda: desk.customer_search(query="many", limit=3))
    for person in people[3:]:
        world.online_booking(person)
    world.mirror()
    assert count(lambda: desk.settle_suggestions(session=session)) == few_settle
    assert count(lambda: desk.customer_search(query="many", limit=30)) == few_search
    assert len(desk.settle_suggestions(session=session)) == 30


def test_settle_commit_costs_the_same_queries_for_10_or_100_rows(desk_user) -> None:
    counts = []
    for hours, n in ((1, 10), (3, 100)):
        session = settle_session(hours)
        choices = settle_roster(session, n)
        with CaptureQueriesContext(connection) as ctx:
            actions = desk.settle_commit(user=desk_user, session=session, rows=choices, idempotency_key=key("settle"))
        counts.append(len(ctx.captured_queries))
        assert len(actions) > n
    # Bulk writes: only SQLite's cap on query variables splits 100 rows' inserts into a few batches.
    assert counts[1] - counts[0] <= (0 if connection.vendor == "postgresql" else 6), counts
    assert counts[1] <= 35, counts


def _settle_outcome(session: Session, choices: list[desk.SettleChoice], actions: list[DeskAction]) -> dict:
    """What a settle left behind, by row number (not ids), to compare two twin rosters."""
    row_of = {c.booking_id: i for i, c in enumerate(choices)}
    balance_of = {c.balance_id: i for i, c in enumerate(choices) if c.balance_id}
    balances = BenefitBalance.objects.select_related("member").in_bulk(list(balance_of))
    bookings = Booking.objects.in_bulk(list(row_of))

    def action(a: DeskAction) -> tuple:
        params = dict(a.params)
        params.pop("settle_choices", None)  # the settle form's own digest (a repeat with other choices is refused)
        if a.kind == Kind.PLAN_CHARGE:
            balance = balances[params.pop("balance_id")]
            assert (params.pop("pool_id"), params.pop("member_id")) == (balance.wix_id, balance.member.wix_id)
            params["balance"] = balance_of[balance.pk]
        assert a.contact_id == bookings[a.booking_id].contact_id
        assert a.session_id == session.pk
        waits = a.depends_on
        return (
            row_of[a.booking_id],
            a.kind,
            params,
            a.before,
            (row_of[waits.booking_id], waits.kind, waits.status) if waits else None,
        )

    attendance = {a.booking_id: a for a in Attendance.objects.filter(session=session)}
    return {
        "actions": sorted((action(a) for a in actions), key=repr),
        "bookings": {
            row_of[b.pk]: (b.status, b.payment_status, b.selected_payment_option, b.pending_sync)
            for b in bookings.values()
        },
        "attendance": {row_of[pk]: (a.status, a.number_of_attendees) for pk, a in attendance.items() if pk in row_of},
        "credits": {i: balances[pk].remaining_credits for pk, i in balance_of.items()},
        "audit": sorted(
            (
                (
                    row_of[int(e.object_id)],
                    e.action,
                    e.before,
                    {n: v for n, v in e.after.items() if n not in ("action", "batch", "credits")},
                )
                for e in AuditEntry.objects.filter(action__startswith="payment.", object_id__in=list(map(str, row_of)))
            ),
            key=repr,
        ),
    }


def test_settle_commit_does_what_row_by_row_clicks_do(desk_user, settings) -> None:
    """One commit, and the per-row services on a twin roster: the same desk actions (kinds,
    params, before, what each waits for), the same mirror and the same audited changes."""
    settled_session, by_hand_session = settle_session(1), settle_session(3)
    settled_rows, by_hand_rows = settle_roster(settled_session, 33), settle_roster(by_hand_session, 33)
    k = key("settle")
    actions = desk.settle_commit(user=desk_user, session=settled_session, rows=settled_rows, idempotency_key=k)

    assert [a.pk for a in actions] == sorted(a.pk for a in actions)
    assert desk.settle_commit(user=desk_user, session=settled_session, rows=settled_rows, idempotency_key=k) == actions
    assert all(a.batch_id == k and a.status == Status.QUEUED for a in actions)
    assert all(a.run_after - a.created_at == timedelta(seconds=settings.DESK_UNDO_SECONDS) for a in actions)
    assert AuditEntry.objects.filter(action="settle.commit", object_id=str(settled_session.pk)).count() == 1

    clicked: list[DeskAction] = []
    for choice in by_hand_rows:  # what staff would click, one row at a time
        b = Booking.objects.get(pk=choice.booking_id)
        if choice.resolution in ("cash", "card", "check"):
            amount = money.amount_due(b) if choice.amount is None else choice.amount
            clicked.append(
                desk.payment_record(
                    user=desk_user, booking=b, method=choice.resolution, amount=amount, idempotency_key=key()
                )
            )
        elif choice.resolution == "plan":
            balance = BenefitBalance.objects.get(pk=choice.balance_id)
            clicked.append(desk.plan_charge(user=desk_user, booking=b, balance=balance, idempotency_key=key()))
        elif choice.resolution == "owes":
            clicked.append(desk.pay_later(user=desk_user, booking=b, idempotency_key=key()))
        if choice.check_in is not None and b.status in Booking.ACTIVE_STATUSES:
            wanted = "ATTENDED" if choice.check_in else "NOT_ATTENDED"
            if not Attendance.objects.filter(booking=b, session=by_hand_session, status=wanted).exists():
                clicked.append(desk.attendance_mark(user=desk_user, booking=b, status=wanted, idempotency_key=key()))

    settled = _settle_outcome(settled_session, settled_rows, actions)
    assert settled == _settle_outcome(by_hand_session, by_hand_rows, clicked)
    assert {a[1] for a in settled["actions"]} == {Kind.PAYMENT, Kind.PLAN_CHARGE, Kind.PAY_LATER, Kind.ATTENDANCE}
    waits_for = {(a[1], a[4][1] if a[4] else None) for a in settled["actions"]}
    assert {(Kind.PAYMENT, Kind.WALK_IN), (Kind.ATTENDANCE, Kind.WALK_IN), (Kind.PAYMENT, Kind.PAYMENT)} <= waits_for
    payments = {
        (a[2]["method"], a[2]["amount"], a[2]["due"], a[2]["full"]) for a in settled["actions"] if a[1] == "PAYMENT"
    }
    # a walk-in, money on its way (12 - 5), part paid in Wix (12 - 4), an order (its balance), two people
    assert payments == {
        ("CASH", "12.00", "12.00", True),
        ("CARD", "7.00", "7.00", True),
        ("CASH", "3", "8.00", False),
        ("CHECK", "10.00", "10.00", True),
        ("CASH", "24.00", "24.00", True),
    }
    assert set(settled["credits"].values()) == {Decimal("0"), None}  # each pass charged twice; unlimited


def test_settle_suggests_what_the_desk_chose_before(desk_user) -> None:
    """A row staff marked "Later" stays "owes" (even with a plan that could pay), a part payment
    offers its balance with the same method, a plan chosen stays plan; an undone "Later" is
    forgotten."""
    session = settle_session(1)
    ps = Booking.PaymentStatus

    def person(first: str, *, credits: str | None = None, **fields) -> Booking:
        b = factories.BookingFactory(
            session=session, contact=factories.ContactFactory(first_name=first, last_name="Before"), **fields
        )
        if credits is not None:
            factories.BenefitBalanceFactory(
                member=factories.MemberFactory(contact=b.contact),
                remaining_credits=Decimal(credits),
                covered_service_ids=[b.service.wix_id],
            )
        return b

    later, later_synced, undone = person("Lat", credits="5"), person("Syn"), person("Und")
    part, chose_plan = person("Par", credits="5"), person("Pla", credits="2")
    person("Fre")
    Booking.objects.filter(pk=chose_plan.pk).update(selected_payment_option="MEMBERSHIP")
    desk.pay_later(user=desk_user, booking=later, idempotency_key=key())
    desk.pay_later(user=desk_user, booking=later_synced, idempotency_key=key())
    DeskAction.objects.filter(booking=later_synced).update(status=Status.SYNCED)
    desk.action_undo(user=desk_user, action=desk.pay_later(user=desk_user, booking=undone, idempotency_key=key()))
    desk.payment_record(user=desk_user, booking=part, method="CARD", amount=Decimal("5"), idempotency_key=key())

    rows = {r.booking.contact.first_name: r for r in desk.settle_suggestions(session=session)}

    assert {n: (r.resolution, r.amount_due) for n, r in rows.items()} == {
        "Lat": ("owes", Decimal("12.00")),
        "Syn": ("owes", Decimal("12.00")),
        "Und": ("cash", Decimal("12.00")),
        "Par": ("card", Decimal("7.00")),
        "Pla": ("plan", Decimal("12.00")),
        "Fre": ("cash", Decimal("12.00")),
    }
    assert rows["Lat"].balance is not None  # the plan stays on offer; "owes" is only the suggestion
    assert (rows["Lat"].earlier, rows["Par"].earlier, rows["Fre"].earlier) == ("later", "part", "")
    assert Booking.objects.get(pk=part.pk).payment_status == ps.PARTIALLY_PAID


def test_owes_on_a_row_already_marked_later_adds_no_second_pay_later(desk_user) -> None:
    session = settle_session(1)
    b = factories.BookingFactory(session=session)
    first = desk.pay_later(user=desk_user, booking=b, idempotency_key=key())

    actions = desk.settle_commit(
        user=desk_user,
        session=session,
        rows=[desk.SettleChoice(booking_id=b.pk, resolution="owes", check_in=True)],
        idempotency_key=key("settle"),
    )

    assert [a.kind for a in actions] == [Kind.ATTENDANCE]
    assert list(DeskAction.objects.filter(kind=Kind.PAY_LATER)) == [first]


def test_a_settle_form_sent_again_with_other_choices_is_refused_not_answered_as_done(desk_user) -> None:
    session = settle_session(2)
    a, b = factories.BookingFactory(session=session), factories.BookingFactory(session=session)
    form_key = key("settle")
    chose = [
        desk.SettleChoice(booking_id=a.pk, resolution="cash", check_in=True),
        desk.SettleChoice(booking_id=b.pk, resolution="owes", check_in=False),
    ]
    first = desk.settle_commit(user=desk_user, session=session, rows=chose, idempotency_key=form_key)

    # The same form again (a double tap): the first commit, nothing new.
    again = desk.settle_commit(user=desk_user, session=session, rows=list(chose), idempotency_key=form_key)
    assert [x.pk for x in again] == [x.pk for x in first]

    # The same key with other choices: refused loudly, nothing written.
    before = DeskAction.objects.count()
    changed = [chose[0], desk.SettleChoice(booking_id=b.pk, resolution="card", check_in=True)]
    with pytest.raises(desk.BookingError) as excinfo:
        desk.settle_commit(user=desk_user, session=session, rows=changed, idempotency_key=form_key)
    assert excinfo.value.code == "key_reused"
    assert "already committed with other choices" in str(excinfo.value)
    assert DeskAction.objects.count() == before
