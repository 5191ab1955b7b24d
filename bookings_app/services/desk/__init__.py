"""Front-desk actions, local first (DESIGN.md §4).

A desk click never waits on Wix. Each service here, in one transaction:

1. returns the earlier result when its ``idempotency_key`` (a token rendered into the form) was
   used already — a double click or a retried POST cannot act twice;
2. checks the business rules against the mirror, under row locks where two desks could race
   (the session for its last place, the booking for its money);
3. writes a :class:`DeskAction` (what the worker will push to Wix, after the undo window);
4. changes the mirror optimistically (``booking.pending_sync = True``, payment status, credits,
   attendance) and records an audit entry (before → after).

The worker (``services.push``) does the Wix calls. The only desk functions that talk to Wix are
:func:`appointment_slots` (free slots must come from Wix) and :func:`customer_search`'s optional
contact lookup.

One module per flow: ``walk_ins`` (walk-ins, courses, appointments, the one-tap
:func:`walk_in_book`), ``payments``, ``plan_sales`` (a plan sold at the desk, used at once for
today's visit), ``attendance``, ``settle``, ``corrections`` (undo, resolve, reverse), ``changes`` (reschedule,
cancel with the business's policy shown, move someone off the waiting list), ``packages`` and
``package_changes`` (2–8 appointments back to back, paid once; cancelled as a whole), ``owes``
(settle many people's debts in one commit, from the owes list) and ``write_offs`` (a manager's
decision not to collect, never sent to Wix). They
write their actions through ``services.ledger`` (idempotency keys, new actions, what an action
waits for, row locks), as ``services.customers`` does for a new customer. The amounts due and
plan rules are ``bookings_app.money``'s.

Every function raises ``BookingError(message, code=…)``; ``message`` is for staff, ``code`` is
stable: ``contact_invalid``, ``contact_duplicate``, ``session_full``, ``slot_taken``,
``session_required``, ``booking_cancelled``, ``amount_invalid``, ``method_invalid``,
``already_paid``, ``plan_not_eligible``, ``no_credits``, ``status_invalid``, ``settle_invalid``,
``too_late_to_undo``, ``not_needing_attention``, ``choice_invalid``, ``forbidden``,
``not_reversible``, ``already_reversed``, ``wix_unreachable``, ``duplicate_request``,
``participants_invalid``, ``idempotency_missing``, ``batch_not_found``, ``not_a_member``,
``plan_invalid``, ``course_not_reschedulable``, ``not_in_wix``, ``already_checked_in``,
``refund_waiting``, ``reason_required``, ``already_written_off``, ``not_written_off``.
"""

from bookings_app.services.customers import CustomerHit, CustomerHits, NewCustomer, customer_create, customer_search
from bookings_app.services.desk.attendance import attendance_mark, attendance_mark_all
from bookings_app.services.desk.changes import booking_cancel, booking_reschedule, cancel_refusal, waitlist_promote
from bookings_app.services.desk.corrections import (
    action_resolve,
    action_reverse,
    action_undo,
    batch_reverse,
    batch_undo,
)
from bookings_app.services.desk.owes import Preview as OwesPreview
from bookings_app.services.desk.owes import owes_choices, owes_settle, owes_settle_check
from bookings_app.services.desk.package_changes import package_cancel, package_cancel_refusal, package_retry
from bookings_app.services.desk.packages import (
    ChainRead,
    package_book,
    package_chain_check,
    package_chain_read,
    package_chains,
    plans_covering,
)
from bookings_app.services.desk.payments import pay_later, payment_record, plan_charge
from bookings_app.services.desk.plan_sales import plan_sale
from bookings_app.services.desk.settle import (
    SettleChoice,
    SettleRow,
    bookings_settle_check,
    bookings_settle_commit,
    settle_check,
    settle_commit,
    settle_suggestions,
)
from bookings_app.services.desk.walk_ins import appointment_slots, walk_in_book, walk_in_create
from bookings_app.services.desk.write_offs import write_off, write_off_reverse
from bookings_app.services.errors import BookingError

__all__ = [
    "BookingError",
    "ChainRead",
    "CustomerHit",
    "CustomerHits",
    "NewCustomer",
    "OwesPreview",
    "SettleChoice",
    "SettleRow",
    "action_resolve",
    "action_reverse",
    "action_undo",
    "appointment_slots",
    "attendance_mark",
    "attendance_mark_all",
    "batch_reverse",
    "batch_undo",
    "booking_cancel",
    "booking_reschedule",
    "bookings_settle_check",
    "bookings_settle_commit",
    "cancel_refusal",
    "customer_create",
    "customer_search",
    "owes_choices",
    "owes_settle",
    "owes_settle_check",
    "package_book",
    "package_cancel",
    "package_cancel_refusal",
    "package_chain_check",
    "package_chain_read",
    "package_chains",
    "package_retry",
    "pay_later",
    "payment_record",
    "plan_charge",
    "plan_sale",
    "plans_covering",
    "settle_check",
    "settle_commit",
    "settle_suggestions",
    "walk_in_book",
    "waitlist_promote",
    "walk_in_create",
    "write_off",
    "write_off_reverse",
]
