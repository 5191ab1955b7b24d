"""Read queries for the screens — reads only: they return model instances and plain values;
``bookings_app.roster_rows`` makes the roster's rows of them, the services change things.

Each screen costs a fixed number of queries, whatever the number of sessions or participants:
counts come from SQL aggregates, related rows from ``select_related``/``prefetch_related`` or
one lookup by id, never from a query per row. One module per area: ``sessions`` (Today, a
session's header), ``roster`` (a roster's bookings, their desk actions and plans),
``customers``, ``customer_card`` (the customer card, and check-in alerts of many customers),
``desk`` (the desk's lookups), ``booking_changes`` (the booking change page, the
waiting list), ``batches`` (a settle or a check in all, read as one), ``courses`` (the course
builder), ``course_page`` (a running course's sessions, and its changes on their way),
``plan_sales`` (selling a plan at the desk), ``sync`` (the header's sync status), ``site_facts``
(what ``manage.py wix_check`` settled about the live site), ``appointments`` (the appointment
week grid and "next available": Wix's free slots from ``appointment_slots`` with the desk's own
bookings laid over them); ``packages`` (multi-service packages: a booking's package, a package's
page, the start times offered); ``queries`` holds the query pieces they share.
"""

from bookings_app.selectors.appointment_slots import FreeSlot, appointment_availability_forget, free_slot
from bookings_app.selectors.appointments import (
    AppointmentWeek,
    NextFree,
    Week,
    appointment_next_free,
    appointment_slots_untaken,
    appointment_staff_list,
    appointment_week_read,
    appointments_taken,
)
from bookings_app.selectors.batches import (
    Batch,
    BatchTotals,
    reversed_action_ids,
    session_batches,
    session_batches_undoable,
)
from bookings_app.selectors.booking_changes import (
    BookingChangeRead,
    BookingMoney,
    ServicePolicy,
    WaitingEntry,
    WaitingList,
    booking_change_read,
    booking_changes_live,
    booking_money_read,
    booking_walk_in,
    reschedule_sessions,
    service_policy,
    waitlist_read,
)
from bookings_app.selectors.course_page import (
    CoursePage,
    CourseSessionRow,
    course_cancel_by_key,
    course_cancel_get,
    course_page_read,
    course_page_service,
    course_session_get,
)
from bookings_app.selectors.courses import (
    Place,
    course_build_by_key,
    course_build_get,
    course_build_sessions,
    course_builds_recent,
    course_clash_sessions,
    course_instructors,
    course_places,
    course_services,
    service_place_id,
)
from bookings_app.selectors.customer_card import (
    CustomerCardRead,
    PaymentLine,
    SheetNotes,
    Visit,
    customer_alerts,
    customer_card_read,
    customer_contact_get,
    customer_note_get,
    sign_in_sheet_notes,
)
from bookings_app.selectors.customers import contact_search
from bookings_app.selectors.desk import (
    appointment_service_list,
    desk_action_by_key,
    desk_action_get,
    roster_booking_get,
    roster_contact_ids,
)
from bookings_app.selectors.packages import (
    PackageInfo,
    PackageRead,
    booking_packages,
    package_chains_untaken,
    package_read,
    package_session_ids,
    package_url,
    packages_recent,
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
    roster_arrivals,
    roster_balances,
    roster_desk_actions,
    roster_read,
)
from bookings_app.selectors.sessions import Numbers as SessionNumbers
from bookings_app.selectors.sessions import day_bounds, session_day_list, session_get, session_upcoming_list
from bookings_app.selectors.site_facts import site_fact, site_facts_all, site_facts_forget
from bookings_app.selectors.sync import DEFAULT_SYNC_INTERVAL_SECONDS, SyncStatus, sync_status_get

__all__ = [
    "AppointmentWeek",
    "FreeSlot",
    "NextFree",
    "Week",
    "appointment_availability_forget",
    "appointment_next_free",
    "appointment_slots_untaken",
    "appointment_staff_list",
    "appointment_week_read",
    "appointments_taken",
    "free_slot",
    "DEFAULT_SYNC_INTERVAL_SECONDS",
    "KnownPlan",
    "OPEN_ACTION_STATUSES",
    "REVERSIBLE_KINDS",
    "Batch",
    "BatchTotals",
    "BookingChangeRead",
    "BookingMoney",
    "CoursePage",
    "CourseSessionRow",
    "CustomerCardRead",
    "OrderLine",
    "PackageInfo",
    "PackageRead",
    "PaymentLine",
    "Place",
    "RosterRead",
    "ServicePolicy",
    "SheetNotes",
    "SyncStatus",
    "Visit",
    "WaitingEntry",
    "WaitingList",
    "appointment_service_list",
    "booking_change_read",
    "booking_changes_live",
    "booking_money_read",
    "booking_orders_read",
    "booking_packages",
    "booking_walk_in",
    "contact_search",
    "course_build_by_key",
    "course_cancel_by_key",
    "course_cancel_get",
    "course_page_read",
    "course_page_service",
    "course_session_get",
    "course_build_get",
    "course_build_sessions",
    "course_builds_recent",
    "course_clash_sessions",
    "course_instructors",
    "course_places",
    "course_services",
    "customer_alerts",
    "customer_card_read",
    "customer_contact_get",
    "customer_get",
    "customer_note_get",
    "day_bounds",
    "desk_action_by_key",
    "desk_action_get",
    "member_of",
    "package_chains_untaken",
    "package_read",
    "package_session_ids",
    "package_url",
    "packages_recent",
    "plan_sale_balances",
    "plan_sale_get",
    "plan_sales_recent",
    "plans_known",
    "reschedule_sessions",
    "reversed_action_ids",
    "roster_arrivals",
    "roster_balances",
    "roster_booking_get",
    "roster_contact_ids",
    "roster_desk_actions",
    "roster_read",
    "session_batches",
    "session_batches_undoable",
    "session_day_list",
    "service_policy",
    "service_place_id",
    "SessionNumbers",
    "session_get",
    "session_upcoming_list",
    "sign_in_sheet_notes",
    "site_fact",
    "site_facts_all",
    "site_facts_forget",
    "sync_status_get",
    "visit_bookings",
    "waitlist_read",
]
