"""The worker that pushes desk actions to Wix (DESIGN.md §4, "The worker").

It claims the actions that are due (QUEUED, past the undo window and any backoff, whatever they
wait on already SYNCED — on PostgreSQL with ``SKIP LOCKED`` so several workers share the queue)
and pushes them in phases, with Wix's bulk endpoints where they exist, one module per phase:

1. ``contacts`` — ``CONTACT_CREATE``: Create Contact;
2. ``walk_ins`` — ``WALK_IN``: Bulk Create Booking (≤40 a call);
   ``plan_sales`` — ``PLAN_SALE``: Create Offline Order (paid), then the new pool and its
   balance read into the mirror, so a visit charged to the new plan can follow in the same round;
3. ``changes`` — ``RESCHEDULE``: Reschedule Booking (a class by ``slot.eventId``);
   ``WAITLIST_PROMOTE``: Confirm Booking with its availability check;
4. ``money`` — ecom mode (``money_ecom``): Cart V2 → Place Order (``order_place``, when the
   booking has no order) → Add Payments / Charge Memberships, whose asynchronous status is read
   for up to 100 orders a call; booking-only mode (``money_booking_only``): Redeem Benefit for
   plans, then Bulk Confirm Or Decline (≤300) with the payment status;
5. ``attendance`` — ``ATTENDANCE``: Bulk Set Attendance (≤8);
6. ``reversals`` — cancel booking, void a plan charge and refund (ecom: Refund Payments);
7. ``course_builds`` — ``COURSE_BUILD``: a course term's sessions, Bulk Create Event (≤50 a call),
   with the steps in ``services.courses.send``; ``course_cancels`` — ``COURSE_CANCEL``: sessions of a
   running course, Cancel Event each (``services.courses.cancel_send``).

``run`` is the loop over the phases; ``worker`` claims under a lease, makes the calls and records
the outcomes (through the ``DeskAction`` model methods); ``messages`` says in plain language what
Wix refused. What Wix answers is written to the mirror through ``services.mirror``.

Every step's result (booking id, cart id, order id, payment ids …) is saved in
``action.steps`` before the next step. Before a call that creates something or moves money, a
"sent" marker is saved too: if the answer is lost (timeout, dropped connection, crash), the next
attempt first looks in Wix for what the call did — the booking in Query Extended Bookings, the
contact by email, the order by checkout id, the payment in the order's transactions, the plan
order in the member's orders of that plan — and adopts
it rather than sending again. Nothing is created twice.

Transient failures (``err.transient``: timeouts, 5xx, 429) put the action back in the queue with
exponential backoff; business rejections become NEEDS_ATTENTION with a plain-language message.
"""

from bookings_app.services.push.messages import MESSAGES
from bookings_app.services.push.run import push_desk_actions_now, push_next_due
from bookings_app.services.push.worker import PushReport

__all__ = ["MESSAGES", "PushReport", "push_desk_actions_now", "push_next_due"]
