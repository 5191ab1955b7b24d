"""The plan half of the ``--write`` round trip: which membership id Charge Memberships wants,
whether it charges at once or answers PENDING first, and what happens to the member's credits.

``prepare`` finds the member's pool that pays for the test service (Benefit Programs eligible
pools), reads its credits and settles BENEFIT_ALREADY_REDEEMED's status (redeem one credit twice
with one key, then cancel the redemption at once). ``charge`` charges the placed order's line
with the pool id — and, if Wix refuses that, with the member's pricing-plan order id — then
follows the payment in the order's transactions until it leaves PENDING (a bounded wait).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bookings_app.wix import WixError, WixUnavailable, benefit_programs, order_transactions, orders, pricing_plans
from bookings_app.wix.ids import BOOKINGS_APP_ID, PRICING_PLANS_APP_ID, PRICING_PLANS_NAMESPACE

from .outcome import Answer, describe
from .undo import booking_now, credit_back, credits

if TYPE_CHECKING:
    from .write import RoundTrip

PENDING = ("PENDING", "PENDING_MERCHANT")


class PlanCharge:
    def __init__(self, trip: RoundTrip, service: dict[str, Any], member: dict[str, Any]) -> None:
        self.trip, self.wix, self.report, self.made = trip, trip.wix, trip.report, trip.made
        self.service, self.member = service, member
        self.pool_id = ""
        self.benefit_key = ""
        self.plan_order_id: str | None = None

    def prepare(self) -> None:
        """The pool that pays for the service, its credits, and the redeem-twice question."""
        item = {"externalId": self.service["id"], "providerAppId": BOOKINGS_APP_ID}
        try:
            eligible = (
                benefit_programs.get_eligible_benefits(
                    self.wix, item_reference=item, beneficiary={"memberId": self.member["id"]}
                ).get("eligibleBenefits")
                or []
            )
        except WixError as err:
            raise self.trip.fail("Member's plan", err) from err
        if not eligible:
            raise self.trip.fail(
                "Member's plan",
                f"the member has no active plan with a session left that covers {self.service.get('name')}.",
                "Give the test member such a plan (or pick another member), then run the check again.",
            )
        self.pool_id = eligible[0].get("poolId") or ""
        self.benefit_key = eligible[0].get("benefitKey") or ""
        self.made.pool_id = self.pool_id
        self.made.credits_at_start = credits(self.wix, self.pool_id)
        self.plan_order_id = self._plan_order()
        left = "unlimited" if self.made.credits_at_start is None else f"{self.made.credits_at_start} credits left"
        self.trip.ok("Member's plan", f"pool {self.pool_id} ({left}); plan order {self.plan_order_id or 'not found'}.")
        if self.made.credits_at_start is None or self.made.credits_at_start >= 2:
            self._redeem_twice(item)
        else:
            self.report.unsettled.append(
                "What does redeeming one credit twice with one key answer? — the plan has one credit left, "
                "which the plan charge needs."
            )

    def _plan_order(self) -> str | None:
        """The member's pricing-plan order behind the pool (the program's external id, else by plan)."""
        try:
            pools = (
                benefit_programs.query_pools(
                    self.wix,
                    query={
                        "filter": {"beneficiary.memberId": self.member["id"], "namespace": PRICING_PLANS_NAMESPACE},
                        "cursorPaging": {"limit": 100},
                    },
                ).get("pools")
                or []
            )
        except WixError:
            pools = []
        pool = next((p for p in pools if p.get("id") == self.pool_id), {})
        plan_id = (pool.get("programDefinition") or {}).get("externalId")
        try:
            plan_orders = (
                pricing_plans.list_plan_orders(
                    self.wix, buyer_ids=[self.member["id"]], order_statuses=["ACTIVE"], limit=50
                ).get("orders")
                or []
            )
        except WixError:
            return (pool.get("program") or {}).get("externalId")
        ids = {o.get("id") for o in plan_orders}
        external = (pool.get("program") or {}).get("externalId")
        if external in ids:
            return external
        return next((o.get("id") for o in plan_orders if plan_id and o.get("planId") == plan_id), external)

    def _redeem_twice(self, item: dict[str, Any]) -> None:
        question = "What does redeeming a credit twice with one idempotency key answer?"
        key = f"front-desk-wix-check-{uuid.uuid4()}"
        try:
            first = benefit_programs.redeem_benefit(
                self.wix,
                pool_id=self.pool_id,
                item_reference=item,
                benefit_key=self.benefit_key,
                idempotency_key=key,
                beneficiary={"memberId": self.member["id"]},
            )
        except WixError as err:
            self.report.unsettled.append(f"{question} — the first redemption failed: {describe(err)}.")
            return
        self.made.redemption = first.get("transactionId") or None
        try:
            again = benefit_programs.redeem_benefit(
                self.wix,
                pool_id=self.pool_id,
                item_reference=item,
                benefit_key=self.benefit_key,
                idempotency_key=key,
                beneficiary={"memberId": self.member["id"]},
            )
        except WixError as err:
            key_name = f"status.{err.code}" if err.code == "BENEFIT_ALREADY_REDEEMED" else "status.redeemed_twice"
            self.report.answer(Answer(question, describe(err), key=key_name, value=err.status))
        else:
            same = again.get("transactionId") == self.made.redemption
            said = "HTTP 200 with the same transaction" if same else f"HTTP 200 with another transaction (!) {again}"
            if not same and again.get("transactionId"):
                self.report.notes.append(f"A second redemption {again['transactionId']} was made and is not undone.")
            self.report.answer(Answer(question, said, key="status.BENEFIT_ALREADY_REDEEMED", value=200))
        # Give the credit back now, so the plan charge below starts from the same balance.
        try:
            if self.made.redemption:
                credit_back(self.wix, self.pool_id, self.made.redemption)
                self.made.redemption = None
        except WixError as err:
            self.report.notes.append(f"Giving the credit back failed for now ({describe(err)}); the undo tries again.")

    def offline_line(self, order: dict[str, Any], booking: dict[str, Any]) -> None:
        """Settle whether Charge Memberships charges a line sold to be paid offline (the app then
        charges a plan on a booking made online "pay in person" instead of Redeem Benefit + a
        recorded plan payment). A charge Wix takes is refunded at once, before the cash payment."""
        question = "Does Charge Memberships charge a line sold to be paid offline?"
        line_id = next(
            (
                li.get("id")
                for li in order.get("lineItems") or []
                if (li.get("catalogReference") or {}).get("catalogItemId") == booking["id"]
            ),
            None,
        )
        if not line_id or not self.pool_id:
            return
        try:
            answer = orders.charge_memberships(
                self.wix,
                order_id=order["id"],
                member_id=self.member["id"],
                memberships=[
                    {
                        "lineItemId": line_id,
                        "membershipIdentifier": {
                            "existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": self.pool_id}
                        },
                    }
                ],
            )
        except WixError as err:
            if isinstance(err, WixUnavailable) or err.status in (401, 403):
                return  # not settled; the plan charge below reports the trouble
            self.report.answer(Answer(question, f"no — {describe(err)}", key="charge_offline_line", value=False))
            return
        payment, _first, final, waited = self._follow(order["id"], line_id, answer)
        if payment is None:
            return
        try:
            orders.refund_payments(self.wix, order_id=order["id"], payment_refunds=[{"paymentId": payment["id"]}])
        except WixError as err:
            self.made.plan_payment = (order["id"], payment["id"])  # the undo refunds it
            self.report.notes.append(f"The offline-line test charge {payment['id']} is refunded by the undo ({err}).")
        took = final == "APPROVED"
        self.report.answer(
            Answer(
                question,
                f"yes (payment {final} after {waited:.0f} s; refunded at once)" if took else f"no — it ended {final}",
                key="charge_offline_line",
                value=took,
            )
        )

    def charge(self, order: dict[str, Any], booking: dict[str, Any]) -> None:
        """Charge Memberships for the booking's line, pool id first, then the plan order id."""
        line_id = next(
            (
                li.get("id")
                for li in order.get("lineItems") or []
                if (li.get("catalogReference") or {}).get("catalogItemId") == booking["id"]
            ),
            None,
        )
        if not line_id:
            raise self.trip.fail("Plan charge", f"the booking is not a line of order {order.get('id')}.")
        before = credits(self.wix, self.pool_id)
        tries = [("pool", self.pool_id)]
        if self.plan_order_id and self.plan_order_id != self.pool_id:
            tries.append(("plan_order", self.plan_order_id))
        refusals: list[str] = []
        for kind, membership_id in tries:
            try:
                answer = orders.charge_memberships(
                    self.wix,
                    order_id=order["id"],
                    member_id=self.member["id"],
                    memberships=[
                        {
                            "lineItemId": line_id,
                            "membershipIdentifier": {
                                "existingMembership": {"appId": PRICING_PLANS_APP_ID, "membershipId": membership_id}
                            },
                        }
                    ],
                )
            except WixError as err:
                if isinstance(err, WixUnavailable) or err.status in (401, 403):
                    raise self.trip.fail("Plan charge", err) from err
                refusals.append(f"{_kind_name(kind)} {membership_id}: {describe(err)}")
                continue
            payment, first_status, final, waited = self._follow(order["id"], line_id, answer)
            if payment is None:
                raise self.trip.fail("Plan charge", f"no membership payment appeared on order {order['id']}.")
            self.made.plan_payment = (order["id"], payment["id"])
            if final in PENDING:
                raise self.trip.fail("Plan charge", f"the membership payment is still {final} after {waited:.0f} s.")
            if final != "APPROVED":
                refusals.append(f"{_kind_name(kind)} {membership_id}: the payment ended {final}")
                continue
            self._settled(kind, refusals, first_status, waited)
            after = credits(self.wix, self.pool_id)
            if before is not None:
                took = _one_less(before, after)
                self.report.answer(
                    Answer(
                        "Does a plan charge take one credit?",
                        f"yes: {before} → {after}" if took else f"no: {before} → {after}",
                        key="membership_charge_takes_credit",
                        value=took,
                    )
                )
            self.trip.ok(
                "Plan charge",
                f"{_kind_name(kind)} accepted; payment {payment and payment['id']} "
                f"{final}; credits {before} → {after}.",
            )
            now = booking_now(self.wix, booking["id"]) or {}
            paid = orders.get_order(self.wix, order_id=order["id"])["order"].get("paymentStatus")
            self.trip.ok(
                "Read the plan booking back", f"{now.get('status')}, payment {now.get('paymentStatus')}; order {paid}."
            )
            return
        raise self.trip.fail("Plan charge", "Wix refused both membership ids: " + "; ".join(refusals))

    def _follow(
        self, order_id: str, line_id: str, answer: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, str, str, float]:
        """The membership payment of ``line_id``: (payment, status in the answer, final status, seconds)."""
        mine = _payment_of(answer.get("payments") or [], line_id)
        first_status = (mine or {}).get("status") or ""

        def read() -> dict[str, Any] | None:
            record = order_transactions.list_transactions_for_single_order(self.wix, order_id=order_id)
            payments = (record.get("orderTransactions") or {}).get("payments") or []
            if mine is not None:
                return next((p for p in payments if p.get("id") == mine.get("id")), mine)
            return _payment_of(payments, line_id)

        found, waited = self.trip.clock.poll(read, lambda p: p is not None and p.get("status") not in PENDING)
        return found, first_status, (found or {}).get("status") or "", waited

    def _settled(self, kind: str, refusals: list[str], first_status: str, waited: float) -> None:
        said = "the Benefit Programs pool id" if kind == "pool" else "the member's pricing-plan order id"
        if refusals:
            said += f" (refused: {'; '.join(refusals)})"
        self.report.answer(
            Answer("Which membership id does Charge Memberships want?", said, key="membership_id_kind", value=kind)
        )
        pending_first = first_status in PENDING
        self.report.answer(
            Answer(
                "Does Charge Memberships charge at once, or answer PENDING first?",
                f"PENDING first, APPROVED after {waited:.0f} s"
                if pending_first
                else "at once (APPROVED in its answer)",
                key="charge_memberships_async",
                value=pending_first,
                detail=f"first status {first_status or '(no payment in the answer)'}; settled after {waited:.1f} s",
            )
        )


def _payment_of(payments: list[dict[str, Any]], line_id: str) -> dict[str, Any] | None:
    return next(
        (p for p in payments if (p.get("membershipPaymentDetails") or {}).get("lineItemId") == line_id),
        None,
    )


def _kind_name(kind: str) -> str:
    return "pool id" if kind == "pool" else "plan order id"


def _one_less(before: Decimal | None, after: Decimal | None) -> bool:
    return before is not None and after is not None and after == before - 1
