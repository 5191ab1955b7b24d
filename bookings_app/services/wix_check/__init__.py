"""``manage.py wix_check``: is this Wix site ready for the app, and how does it behave?

One room per job: ``operations`` (every Wix operation the app uses, and the side-effect-free
request that proves it reachable), ``probes`` (the read-only half: credentials, installed apps,
the operations, what a read can settle), ``write`` with ``cart_order`` and ``plan_charge`` (the
``--write`` round trip: book, pay, plan-charge one test booking, read it back), ``undo`` (take
it all back, list what could not be), ``report`` (plain text), ``facts`` (store the answers the
app adapts to, read with ``selectors.site_fact``), ``outcome`` (what a check and an answer are).
"""

from __future__ import annotations

from datetime import datetime

from bookings_app.wix import WixClient

from .facts import site_facts_store
from .outcome import Answer, Check, CheckReport, Leftover, Status
from .probes import run_probes
from .report import render, summary
from .undo import Clock
from .write import WriteTarget, run_write

# What only the --write round trip can settle (key, question), listed as "not settled" without it.
WRITE_QUESTIONS = (
    ("cart_channel", "Does Cart V2 take an order on BACKOFFICE_MERCHANT from these credentials?"),
    ("membership_id_kind", "Which membership id does Charge Memberships want?"),
    ("charge_memberships_async", "Does Charge Memberships charge at once, or answer PENDING first?"),
    ("charge_offline_line", "Does Charge Memberships charge a line sold to be paid offline?"),
    ("add_payments_paid_at_once", "Does Add Payments mark the order PAID at once?"),
    ("booking_payment_follows_order", "Does the booking's payment status follow its order?"),
    ("refund_returns_credit", "Does refunding a plan payment give the credit back?"),
    ("status.CART_ALREADY_ORDERED", "What does placing the same cart twice answer?"),
    ("status.DUPLICATE_CONTACT_EXISTS", "What does creating a contact with an existing email answer?"),
    ("status.BENEFIT_ALREADY_REDEEMED", "What does redeeming a credit twice with one idempotency key answer?"),
    ("status.stale_revision", "What does Cancel Booking answer for a stale revision?"),
    ("confirm_or_decline_on_confirmed", "What does Confirm Or Decline do to a booking that is already CONFIRMED?"),
)


def wix_check_run(
    *,
    wix: WixClient,
    target: str,
    time_zone: str,
    now: datetime,
    write: WriteTarget | None = None,
    clock: Clock | None = None,
    store: bool = True,
) -> CheckReport:
    """Run the check against ``wix``; ``write`` adds the round trip. Stores the settled answers
    (``store``) and returns the report (``report.ok`` is False when a required check failed)."""
    report = CheckReport(target=target, write=write is not None)
    probes = run_probes(wix, report, time_zone=time_zone, today=now.date())
    if not probes.access_ok:
        pass
    elif write is None:
        report.unsettled += [f"{question} — run with --write to settle it." for _, question in WRITE_QUESTIONS]
    elif report.problems:
        report.notes.append(
            "The --write round trip was not run: it needs every check above to pass, so that it can undo what it makes."
        )
    else:
        run_write(wix, report, write, time_zone=time_zone, now=now, clock=clock or Clock())
        settled = {a.key for a in report.answers}
        report.unsettled += [
            f"{question} — the round trip did not get that far."
            for key, question in WRITE_QUESTIONS
            if key not in settled and not any(question in item for item in report.unsettled)
        ]
    if store:
        report.stored = site_facts_store(answers=report.answers)
    return report


__all__ = [
    "WRITE_QUESTIONS",
    "Answer",
    "Check",
    "CheckReport",
    "Clock",
    "Leftover",
    "Status",
    "WriteTarget",
    "render",
    "summary",
    "wix_check_run",
]
