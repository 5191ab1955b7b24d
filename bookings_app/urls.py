from django.urls import path, register_converter

from bookings_app import converters
from bookings_app.views import (
    appointment,
    appointment_week,
    audit,
    auth,
    batches,
    booking_change,
    cashup,
    course_edit,
    course_import,
    courses,
    customer,
    drift,
    export_jobs,
    health,
    home,
    imports,
    owes,
    packages,
    plan_sales,
    reports,
    roster,
    row_actions,
    settle,
    sync,
    today,
    walk_in,
    webhooks,
    write_offs,
)

# Ids are ASCII digits that fit a 64-bit key, references printable ASCII (converters.py): anything
# else is a 404 before a view or a query sees it.
register_converter(converters.IdConverter, "id")
register_converter(converters.RefConverter, "ref")

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("today/", today.today, name="today"),
    path("sessions/<ref:ref>/", roster.roster, name="roster"),
    path("sessions/<ref:ref>/print/", roster.roster_print, name="roster_print"),
    path("sessions/<ref:ref>/header/", roster.roster_header, name="roster_header"),
    # the front desk on a roster
    path("sessions/<ref:ref>/bookings/<id:booking_id>/", roster.roster_row, name="roster_row"),
    path("sessions/<ref:ref>/bookings/<id:booking_id>/pay/", row_actions.pay, name="desk_pay"),
    path("sessions/<ref:ref>/bookings/<id:booking_id>/plan/", row_actions.plan_charge, name="desk_plan"),
    path("sessions/<ref:ref>/bookings/<id:booking_id>/later/", row_actions.pay_later, name="desk_later"),
    path("sessions/<ref:ref>/bookings/<id:booking_id>/attendance/", row_actions.attendance, name="desk_attendance"),
    # one booking's change page: reschedule, cancel with the policy shown, off the waiting list
    path("sessions/<ref:ref>/bookings/<id:booking_id>/change/", booking_change.booking_change, name="booking_change"),
    path(
        "sessions/<ref:ref>/bookings/<id:booking_id>/reschedule/",
        booking_change.booking_reschedule,
        name="booking_reschedule",
    ),
    path("sessions/<ref:ref>/bookings/<id:booking_id>/cancel/", booking_change.booking_cancel, name="booking_cancel"),
    path(
        "sessions/<ref:ref>/bookings/<id:booking_id>/promote/", booking_change.waitlist_promote, name="booking_promote"
    ),
    path("sessions/<ref:ref>/check-in-all/", row_actions.check_in_all, name="desk_check_in_all"),
    path("sessions/<ref:ref>/actions/<id:action_id>/undo/", row_actions.action_undo, name="desk_action_undo"),
    path("sessions/<ref:ref>/actions/<id:action_id>/resolve/", row_actions.action_resolve, name="desk_action_resolve"),
    path("sessions/<ref:ref>/actions/<id:action_id>/reverse/", row_actions.action_reverse, name="desk_action_reverse"),
    path("sessions/<ref:ref>/walk-in/", walk_in.walk_in, name="desk_walk_in"),
    path("sessions/<ref:ref>/walk-in/new/", walk_in.walk_in_new, name="desk_walk_in_new"),
    path("sessions/<ref:ref>/settle/", settle.settle, name="desk_settle"),
    path("sessions/<ref:ref>/batches/<ref:batch_id>/undo/", batches.batch_undo, name="desk_batch_undo"),
    path("sessions/<ref:ref>/batches/<ref:batch_id>/reverse/", batches.batch_reverse, name="desk_batch_reverse"),
    path("appointments/new/", appointment.appointment, name="desk_appointment"),
    # the appointment week grid (free times per staff member, refreshed) and "next available"
    path("appointments/week/", appointment_week.appointment_week, name="desk_appointment_week"),
    path("appointments/next/", appointment_week.appointment_next, name="desk_appointment_next"),
    # multi-service packages: 2–8 appointments back to back, booked and paid at once; cancelled whole
    path("packages/new/", packages.package_new, name="package_new"),
    path("packages/<id:pk>/", packages.package_detail, name="package"),
    path("packages/<id:pk>/cancel/", packages.package_cancel, name="package_cancel"),
    path("packages/<id:pk>/retry/", packages.package_retry, name="package_retry"),
    # the customer card (by contact pk): notes and alerts, emergency contact, plans, visits, money
    path("customers/<id:contact_id>/", customer.customer_card, name="customer_card"),
    path("customers/<id:contact_id>/notes/", customer.customer_note_add, name="customer_note_add"),
    path("customers/<id:contact_id>/notes/<id:note_id>/", customer.customer_note_edit, name="customer_note_edit"),
    path(
        "customers/<id:contact_id>/notes/<id:note_id>/archive/",
        customer.customer_note_archive,
        name="customer_note_archive",
    ),
    path(
        "customers/<id:contact_id>/notes/<id:note_id>/restore/",
        customer.customer_note_restore,
        name="customer_note_restore",
    ),
    path("customers/<id:contact_id>/emergency/", customer.customer_emergency, name="customer_emergency"),
    path("sessions/<ref:ref>/sell-plan/", plan_sales.sell_plan, name="desk_sell_plan_session"),
    # selling a pricing plan at the desk (also from a session: used for the visit at once)
    path("plans/sell/", plan_sales.sell_plan, name="desk_sell_plan"),
    path("plans/sales/<id:action_id>/undo/", plan_sales.plan_sale_undo, name="desk_plan_sale_undo"),
    path("plans/sales/<id:action_id>/resolve/", plan_sales.plan_sale_resolve, name="desk_plan_sale_resolve"),
    # the course builder: a term of course sessions, previewed, then created in Wix by the worker
    path("courses/", courses.course_list, name="courses"),
    path("courses/new/", courses.course_new, name="course_new"),
    path("courses/new/commit/", courses.course_commit, name="course_commit"),
    path("courses/<id:build_id>/", courses.course_build, name="course_build"),
    path("courses/<id:build_id>/retry/", courses.course_retry, name="course_retry"),
    # a term imported from a spreadsheet: the same preview, one build per course, the same worker
    path("courses/import/", course_import.course_import, name="course_import"),
    path("courses/import/template.csv", course_import.course_import_template, name="course_import_template"),
    path("courses/import/commit/", course_import.course_import_commit, name="course_import_commit"),
    path("courses/imports/<id:import_id>/", course_import.course_import_page, name="course_import_page"),
    path("courses/imports/<id:import_id>/retry/", course_import.course_import_retry, name="course_import_retry"),
    # a running course: its sessions, one added, one cancelled, the last date moved (each previewed)
    path("courses/course/<id:service_id>/", course_edit.course_page, name="course_page"),
    path("courses/course/<id:service_id>/add/", course_edit.course_add, name="course_add"),
    path("courses/course/<id:service_id>/add/commit/", course_edit.course_add_commit, name="course_add_commit"),
    path(
        "courses/course/<id:service_id>/sessions/<id:session_id>/cancel/",
        course_edit.course_cancel,
        name="course_cancel",
    ),
    path(
        "courses/course/<id:service_id>/sessions/<id:session_id>/cancel/commit/",
        course_edit.course_cancel_commit,
        name="course_cancel_commit",
    ),
    path("courses/course/<id:service_id>/last-date/", course_edit.course_last_date, name="course_last_date"),
    path(
        "courses/course/<id:service_id>/last-date/commit/",
        course_edit.course_last_date_commit,
        name="course_last_date_commit",
    ),
    path(
        "courses/course/<id:service_id>/cancels/<id:cancel_id>/retry/",
        course_edit.course_cancel_retry,
        name="course_cancel_retry",
    ),
    # manager reports (issue 12): the payment report, the rows behind any of its numbers, their export
    path("reports/", reports.report, name="reports"),
    path("reports/rows/", reports.report_rows, name="report_rows"),
    path("reports/rows/export/", reports.report_rows_export, name="report_rows_export"),
    # issue 12 (h12b): the owes list (settle, write off, print, export) and the cash-up
    path("owes/", owes.owes, name="owes"),
    path("owes/settle/", owes.owes_settle, name="owes_settle"),
    path("owes/batches/<ref:batch_id>/undo/", owes.owes_batch_undo, name="owes_batch_undo"),
    path("owes/print/", owes.owes_print, name="owes_print"),
    path("owes/export/", owes.owes_export, name="owes_export"),
    path("owes/write-off/", write_offs.owes_write_off, name="owes_write_off"),
    path("owes/written-off/", write_offs.owes_written_off, name="owes_written_off"),
    path("owes/written-off/<id:pk>/reverse/", write_offs.owes_write_off_reverse, name="owes_write_off_reverse"),
    path("cash-up/", cashup.cashups, name="cashups"),
    path("cash-up/day/", cashup.cashup_day, name="cashup_day"),
    path("cash-up/sessions/<ref:ref>/", cashup.cashup_session, name="cashup_session"),
    path("cash-up/staff/<id:user_id>/", cashup.cashup_staff, name="cashup_staff"),
    path("cash-up/<id:pk>/sign-off/", cashup.cashup_sign_off, name="cashup_sign_off"),
    # managers: the drift watchdog and its one-click fixes, the audit trail (issue 12, h12c)
    path("drift/", drift.drift, name="drift"),
    path("drift/actions/<id:action_id>/retry/", drift.drift_retry, name="drift_retry"),
    path("drift/bookings/<id:booking_id>/resync/", drift.drift_resync, name="drift_resync"),
    path("drift/bookings/<id:booking_id>/pay/", drift.drift_pay, name="drift_pay"),
    path("audit/", audit.audit, name="audit"),
    path("audit/export/", audit.audit_export, name="audit_export"),
    # exports prepared in the background, with their progress (any screen's export can use them)
    path("exports/", export_jobs.export_job_start, name="export_job_start"),
    path("exports/<id:job_id>/", export_jobs.export_job, name="export_job"),
    path("exports/<id:job_id>/download/", export_jobs.export_job_download, name="export_job_download"),
    # participants imported from a spreadsheet: upload, columns, dry run, background import, results
    path("imports/", imports.imports, name="imports"),
    path("imports/template.csv", imports.import_template, name="import_template"),
    path("imports/practice.csv", imports.import_practice, name="import_practice"),
    path("imports/<id:import_id>/", imports.import_page, name="import_page"),
    path("imports/<id:import_id>/check/", imports.import_check, name="import_check"),
    path("imports/<id:import_id>/commit/", imports.import_commit, name="import_commit"),
    path("imports/<id:import_id>/cancel/", imports.import_cancel, name="import_cancel"),
    path("imports/<id:import_id>/resume/", imports.import_resume, name="import_resume"),
    path("imports/<id:import_id>/retry/", imports.import_retry, name="import_retry"),
    path("imports/<id:import_id>/failed/", imports.import_failed, name="import_failed"),
    # Wix: the sync with its progress, and the webhooks Wix sends a Wix app
    path("sync/now/", sync.sync_now, name="sync_now"),
    path("sync/status/", sync.sync_status, name="sync_status"),
    path("webhooks/wix/", webhooks.wix_webhook, name="webhook_wix"),
    # for a load balancer and monitoring: no sign-in, no secret (views/health.py)
    path("healthz/", health.healthz, name="healthz"),
]
