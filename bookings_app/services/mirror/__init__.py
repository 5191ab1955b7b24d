"""The mirror of Wix (DESIGN.md §3.1): one Wix-JSON -> row writer per entity, used alike by the
sync (``services.sync``), the desk-action worker (``services.push``) and webhooks.

* ``upsert`` — the newer-wins bulk upsert (``revision``, else ``updatedDate``; see
  ``models.is_newer``): an older payload never overwrites a newer one.
* ``run`` — ``MirrorRun``, the context of one write (Wix client, actor, calls made, rows
  written), and paging; a sync run extends it.
* ``values`` — reading values out of Wix JSON.
* one module per entity: ``services``, ``staff``, ``sessions`` (events and appointment
  sessions), ``bookings``, ``attendance``, ``contacts``, ``orders`` (with order summaries and
  line items), ``payments``, ``members``, ``plan_orders``, ``balances``.

The functions below are what webhooks and desk searches call: each makes its own ``MirrorRun``
and raises ``WixError`` when a Wix call it needs fails.
"""

from bookings_app.services.mirror import (
    attendance,
    balances,
    bookings,
    contacts,
    members,
    orders,
    payments,
    plan_orders,
    run,
    services,
    sessions,
    staff,
    upsert,
    values,
)
from bookings_app.services.mirror.attendance import mirror_attendance
from bookings_app.services.mirror.bookings import mirror_bookings
from bookings_app.services.mirror.contacts import mirror_contacts
from bookings_app.services.mirror.members import member_plans_refresh
from bookings_app.services.mirror.orders import mirror_orders
from bookings_app.services.mirror.services import mirror_services

__all__ = [
    "attendance",
    "balances",
    "bookings",
    "contacts",
    "member_plans_refresh",
    "members",
    "mirror_attendance",
    "mirror_bookings",
    "mirror_contacts",
    "mirror_orders",
    "mirror_services",
    "orders",
    "payments",
    "plan_orders",
    "run",
    "services",
    "sessions",
    "staff",
    "upsert",
    "values",
]
