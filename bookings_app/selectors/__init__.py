"""Read queries for the screens — reads only: they return model instances and plain values;
``bookings_app.roster_rows`` makes the roster's rows of them, the services change things.

Each screen costs a fixed number of queries, whatever the number of sessions or participants:
counts come from SQL aggregates, related rows from ``select_related``/``prefetch_related`` or
one lookup by id, never from a query per row. One module per area: ``sessions`` (Today, a
session's header), ``roster`` (a roster's bookings, their desk actions and plans),
``customers``, ``desk`` (the desk's lookups), ``plan_sales`` (selling a plan at the desk),
``sync`` (the header's sync status), ``site_facts`` (what ``manage.py wix_check`` settled about the live site);
``queries`` holds the query pieces they share.
"""

from bookings_app.selectors.customers import contact_search
from bookings_app.selectors.desk import (
    appointment_service_list,
    desk_action_get,
    desk_action_key_used,
    roster_booking_get,
    roster_contact_ids,
)
from bookings_app.selectors.plan_sales import (
    KnownPlan,
    customer_get,
    member_of,
    plan_sale_balances,
    plan_sale_get,
    plan_sales_recent,
    plans_known,
    visit_bookings,
)
from bookings_app.selectors.roster import (
    OPEN_ACTION_STATUSES,
    REVERSIBLE_KINDS,
    OrderLine,
    RosterRead,
    booking_orders_read,
    roster_balances,
    roster_desk_actions,
    roster_read,
)
from bookings_app.selectors.sessions import day_bounds, session_day_list, session_get
from bookings_app.selectors.site_facts import site_fact, site_facts_all, site_facts_forget
from bookings_app.selectors.sync import DEFAULT_SYNC_INTERVAL_SECONDS, SyncStatus, sync_status_get

__all__ = [
    "DEFAULT_SYNC_INTERVAL_SECONDS",
    "KnownPlan",
    "OPEN_ACTION_STATUSES",
    "REVERSIBLE_KINDS",
    "OrderLine",
    "RosterRead",
    "SyncStatus",
    "appointment_service_list",
    "booking_orders_read",
    "contact_search",
    "customer_get",
    "day_bounds",
    "desk_action_get",
    "desk_action_key_used",
    "member_of",
    "plan_sale_balances",
    "plan_sale_get",
    "plan_sales_recent",
    "plans_known",
    "roster_balances",
    "roster_booking_get",
    "roster_contact_ids",
    "roster_desk_actions",
    "roster_read",
    "session_day_list",
    "session_get",
    "site_fact",
    "site_facts_all",
    "site_facts_forget",
    "sync_status_get",
    "visit_bookings",
]
