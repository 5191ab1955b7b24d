"""Phase 3, booking-only mode: no eCommerce order — Redeem Benefit for a plan, then Bulk Confirm Or
Decline (≤300 a call) with the booking's payment status. The fewest calls.

A plan charge redeems one item per participant (``count``). Before the redeem goes out the action's
steps remember when and on which pool (``redeem_sent``); an attempt whose answer was lost is found
again in Query Transactions (by pool and time, the idempotency key matched on the page) before
anything is sent again.

``flush_confirm`` also sends the payment status of a reversal in this mode.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from bookings_app.models import BenefitBalance, DeskAction
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.messages import message
from bookings_app.services.push.worker import Attention, Later, Push, booking_absorb, chunks
from bookings_app.wix import WixConflict, WixError, benefit_programs, bookings
from bookings_app.wix.dates import wix_timestamp, wix_timestamp_parse
from bookings_app.wix.ids import BOOKINGS_APP_ID

Kind = DeskAction.Kind

BULK_CONFIRM = bookings.BULK_CONFIRM_OR_DECLINE_LIMIT  # 300
# How far before our "sent" time a redemption may carry Wix's createdDate (the two clocks differ).
CLOCK_SKEW = timedelta(minutes=15)
LOOKUP_PAGES = 20  # of 100 transactions: a pool's redemptions since a redeem was sent


def benefit_keys(push: Push, actions: list[DeskAction]) -> dict[str, str]:
    """Pool id → the benefit key Redeem Benefit needs: from the mirrored pool, else one Query
    Pools for all the pools of this batch."""
    keys: dict[str, str] = {}
    wanted: set[str] = set()
    for action in actions:
        pool_id = action.params.get("pool_id") or ""
        if not pool_id or action.steps.get("redemption_id"):
            continue
        balance = BenefitBalance.objects.filter(wix_id=pool_id).first()
        key = _benefit_key((balance.raw or {}).get("pool") if balance else None)
        if key:
            keys[pool_id] = key
        else:
            wanted.add(pool_id)
    for batch in chunks(sorted(wanted), 100):
        try:
            answer = push.call(
                benefit_programs.query_pools,
                query={"filter": {"id": {"$in": batch}}, "cursorPaging": {"limit": 100}},
            )
        except WixError:
            continue  # the redeem step will say what is missing, and retry
        for pool in answer.get("pools") or []:
            key = _benefit_key(pool)
            if key:
                keys[pool["id"]] = key
    return keys


def booking_only_money(
    push: Push, action: DeskAction, confirm: list[tuple[DeskAction, str]], keys: dict[str, str]
) -> None:
    """One money action: a plan's credit redeemed first, then the payment status queued in ``confirm``."""
    assert action.booking is not None
    if action.kind == Kind.PLAN_CHARGE and not action.steps.get("redemption_id"):
        push.save_steps(action, redemption_id=redeem(push, action, keys))
    if action.kind == Kind.PAYMENT:
        status = "PAID" if action.params.get("full") else "PARTIALLY_PAID"
    elif action.kind == Kind.PLAN_CHARGE:
        status = "PAID"
    else:
        status = "NOT_PAID"
    confirm.append((action, status))


def redeem(push: Push, action: DeskAction, keys: dict[str, str]) -> str:
    """The id of the transaction that took this plan charge's credits: found again if an earlier
    attempt reached Wix, else redeemed now."""
    booking = action.booking
    assert booking is not None
    sent = action.steps.get("redeem_sent")
    if sent:
        # An earlier attempt went out and its answer was never kept: Wix may have taken the credits.
        found = _redemption_of(push, action, sent)
        if found:
            return found
    pool_id = action.params.get("pool_id") or ""
    key = keys.get(pool_id)
    if not key:
        raise Later(f"The benefit of pool {pool_id} could not be read from Wix")
    # Remembered before the call: the earliest moment, and every pool, a redeem of this action went to.
    pools = [*((sent or {}).get("pool_ids") or []), pool_id]
    sent = {"at": (sent or {}).get("at") or wix_timestamp(timezone.now()), "pool_ids": list(dict.fromkeys(pools))}
    push.save_steps(action, redeem_sent=sent)
    try:
        # RedeemBenefitRequest (SDK benefit-programs_pools): poolId, itemReference{externalId,
        # providerAppId}, benefitKey, idempotencyKey, namespace (default) required; count = the
        # booking's participants ("Amount of items to redeem", @min 1); beneficiary the member.
        answer = push.call(
            benefit_programs.redeem_benefit,
            pool_id=pool_id,
            item_reference={"externalId": booking.service.wix_id, "providerAppId": BOOKINGS_APP_ID},
            benefit_key=key,
            idempotency_key=action.idempotency_key,
            count=max(int(booking.total_participants or 1), 1),
            beneficiary={"memberId": action.params.get("member_id")},
        )
    except WixConflict:
        # A repeat of a redeem Wix already made: BENEFIT_ALREADY_REDEEMED, or a 409 saying less
        # (UNCONFIRMED which). Either way the credits were taken once: find that transaction.
        found = _redemption_of(push, action, sent)
        if not found:
            raise Later("Wix says this plan charge was redeemed already; its transaction isn't listed yet") from None
        return found
    transaction_id = answer.get("transactionId")
    if not transaction_id:
        raise Later("Redeem Benefit answered without a transaction id")
    # A repeat may also be answered with the first redemption's transactionId (UNCONFIRMED): the same.
    return transaction_id


def _redemption_of(push: Push, action: DeskAction, sent: Json) -> str | None:
    """The transaction a redeem of ``action`` made, if Wix has one: Query Transactions filtered on
    documented fields only (TransactionQuerySpec: ``pool.id``, ``createdDate``) from a little before
    the first redeem was sent, the idempotency key matched on each page (it is not filterable)."""
    since = wix_timestamp_parse(sent.get("at")) or timezone.now()
    query: Json = {
        "filter": {
            "pool.id": {"$in": list(sent.get("pool_ids") or [])},
            "createdDate": {"$gte": wix_timestamp(since - CLOCK_SKEW)},
        },
        "sort": [{"fieldName": "createdDate", "order": "ASC"}],
        "cursorPaging": {"limit": 100},
    }
    for _ in range(LOOKUP_PAGES):
        answer = push.call(benefit_programs.query_transactions, query=query)
        for transaction in answer.get("transactions") or []:
            if transaction.get("idempotencyKey") != action.idempotency_key or not transaction.get("id"):
                continue
            if transaction.get("status") != "FAILED":  # a FAILED one took nothing
                return transaction["id"]
        cursor = ((answer.get("metadata") or {}).get("cursors") or {}).get("next")
        if not cursor:
            return None
        query = {"cursorPaging": {"limit": 100, "cursor": cursor}}
    raise Attention(
        "REDEMPTION_UNKNOWN",
        "Couldn't tell whether Wix took this plan credit (too many transactions on the plan to look "
        "through). Check the member's plan in Wix, then retry or remove this.",
    )


def flush_confirm(push: Push, items: list[tuple[DeskAction, str]]) -> None:
    """Send the payment statuses of this round: Bulk Confirm Or Decline, 300 bookings a call."""
    # One detail per booking per call (Wix refuses DUPLICATED_BOOKINGS): extras wait a round.
    seen: set[str] = set()
    batch: list[tuple[DeskAction, str]] = []
    for action, status in items:
        booking_id = action.booking.wix_id if action.booking else ""
        if booking_id in seen:
            push.later(action, "another payment of this booking went first", count=False)
            continue
        seen.add(booking_id)
        batch.append((action, status))
    for chunk in chunks(batch, BULK_CONFIRM):
        actions = [a for a, _ in chunk]
        push.extend_lease(actions)
        details = [{"bookingId": a.booking.wix_id, "paymentStatus": s} for a, s in chunk]  # type: ignore[union-attr]
        try:
            answer = push.call(bookings.bulk_confirm_or_decline_booking, details=details, return_entity=True)
        except Exception as err:  # noqa: BLE001 - sorted by fail(); repeating it is harmless
            for action in actions:
                push.fail(action, err)
            continue
        by_index = {
            (r.get("itemMetadata") or {}).get("originalIndex", i): r for i, r in enumerate(answer.get("results") or [])
        }
        for index, (action, status) in enumerate(chunk):
            result = by_index.get(index)
            meta = (result or {}).get("itemMetadata") or {}
            if result is None:
                push.later(action, "Bulk Confirm Or Decline gave no result for this booking")
            elif meta.get("success"):
                item = result.get("item") or {}
                if item:
                    booking_absorb(action.booking, item)
                if item.get("status") == "DECLINED":
                    # Confirm Or Decline declines an unpaid booking that overbooks its session.
                    push.attention(
                        action,
                        "DECLINED",
                        "Wix declined the booking: the session is over capacity. Book them in again as manager, "
                        "or remove this.",
                    )
                    continue
                push.synced(action, confirmed_payment_status=status)
            else:
                error = meta.get("error") or {}
                code = str(error.get("code") or "REJECTED")
                push.attention(action, code, message(code, action, None, error.get("description")), str(error))


def _benefit_key(pool: Json | None) -> str | None:
    for benefit in ((pool or {}).get("details") or {}).get("benefits") or []:
        if benefit.get("benefitKey") and benefit.get("providerAppId", BOOKINGS_APP_ID) == BOOKINGS_APP_ID:
            return benefit["benefitKey"]
    return None
