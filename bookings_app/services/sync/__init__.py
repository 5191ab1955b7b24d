"""Mirror Wix into the local database (DESIGN.md §6): a full sync, and an incremental poll.

What is mirrored: services and staff; the sessions of a window from 7 days back to 60 days ahead
(class and course sessions are Calendar V3 events; an appointment has no event we can query, so
its session is made from its booking); the bookings of that window (Query Extended Bookings with
attendance and eCommerce order) with their orders, line items and payments (Order Transactions);
the contacts of those bookings, their site members, and the members' plan orders and benefit
balances.

This package is the run only; how Wix JSON becomes rows is ``services.mirror``, which webhooks
and the desk-action worker write through too.

* ``state`` — ``SyncState``: the lock, the cursors, ``SyncRun`` (a ``MirrorRun`` that records
  its progress), the phases and their labels;
* ``progress`` — what the widget and the scheduler ask (progress, running, failing, due);
* ``window`` — the window and its filters;
* ``full`` / ``incremental`` (with ``reads``, what both read) — the two kinds of run;
* ``run`` — a run from lock to report.

How it stays cheap and safe:

* Every read is a page of at most 100, every lookup by id a batch of at most 100, so the number of
  Wix calls grows with pages, never with rows (no N+1 against Wix).
* All Wix calls of a page are made first; then the page is written in one transaction through the
  mirror's newer-wins bulk upsert. An older payload never overwrites a newer one, so a poll racing
  a webhook, or a replayed page, is harmless.
* Incremental: a cursor per entity kind (see ``incremental``); what comes back unchanged is
  dropped before any further call is made for it.
* A booking with a desk change not yet pushed (``pending_sync``) is left alone: the desk-action
  worker owns it until Wix has the change.
* Progress (``progress_done/total``) and errors go to ``SyncState``; ``running`` is always cleared
  (``finally``), and a run whose flag was left by a killed process is considered dead after
  ``STALE_RUN`` (see ``state``).

Public functions take the Wix client explicitly; ``sync_full``/``sync_incremental`` record
failures and return them in the report, never raising ``WixError``.
"""

from bookings_app.services.sync.progress import (
    SyncProgress,
    sync_is_running,
    sync_needs_full,
    sync_progress_get,
    sync_record_error,
)
from bookings_app.services.sync.run import SyncReport, sync_full, sync_incremental
from bookings_app.services.sync.state import ALL_KINDS, LABELS, PHASES, STALE_RUN, sync_states_ensure
from bookings_app.services.sync.window import Window, sync_window

__all__ = [
    "ALL_KINDS",
    "LABELS",
    "PHASES",
    "STALE_RUN",
    "SyncProgress",
    "SyncReport",
    "Window",
    "sync_full",
    "sync_incremental",
    "sync_is_running",
    "sync_needs_full",
    "sync_progress_get",
    "sync_record_error",
    "sync_states_ensure",
    "sync_window",
]
