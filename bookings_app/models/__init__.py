"""The local mirror of Wix, and our own ledger.

Mirror rows (``WixMirror`` subclasses) carry the Wix id, the Wix ``revision`` and
``updatedDate`` and the last payload (``raw``); they are written through
``Model.objects.upsert_from_wix(...)``, which never lets an older update overwrite a newer one.
``wix_id`` is nullable so a row created at the desk can exist before Wix has given it an id
(several NULLs do not collide in a unique column).

Times are aware (UTC in the database); templates show them in the business time zone.
Money is ``Decimal`` with two places, in the row's ``currency``.

One module per area, all re-exported here (``from bookings_app.models import Booking``):
``mirror`` (the base and its upsert), ``catalogue`` (services, staff, sessions), ``people``
(contacts, members, plans, credits), ``bookings`` (bookings, orders, payments, attendance) and
``ledger`` (desk actions, audit, webhooks, sync state and whether Wix answers, permissions); ``courses`` (course terms
built here and the Calendar V3 events they send); ``site_facts`` holds what
``manage.py wix_check`` settled about the live Wix site; ``notes`` what the desk keeps about a
customer that Wix cannot hold (notes and check-in alerts, an emergency contact); ``packages`` the
multi-service packages booked at the desk (2–8 appointments back to back, paid once);
``imports`` the participant imports (a spreadsheet's rows, what the dry run planned, what the commit made);
``exports`` the files a manager asked for that are written in the background;
``workers`` the background workers' heartbeats.
``write_offs`` a manager's decision not to collect what a booking owes (never sent to Wix);
``cashup`` the money counted at the end of a session, a staff member's day or the day.
``report_figures`` the payment report's figures kept per session and the marks that date them.
``sign_ins`` counts sign-in attempts per username and address (the throttle).
"""

from .bookings import Attendance, Booking, Order, OrderLineItem, Payment
from .cashup import CashUp
from .catalogue import Service, Session, StaffMember
from .courses import CourseBuild, CourseBuildEvent, CourseCancel, CourseCancelSession, CourseImport
from .exports import ExportChunk, ExportJob
from .imports import ImportMapping, ImportRow, ParticipantImport
from .ledger import AuditEntry, DeskAction, StaffPermissions, SyncState, WebhookEvent
from .mirror import MONEY, UpsertResult, WixMirror, WixMirrorQuerySet, is_newer, parse_revision
from .notes import CustomerNote, EmergencyContact
from .packages import Package, PackageItem
from .people import BenefitBalance, Contact, Member, PlanOrder, normalise_phone, normalise_text
from .report_figures import ReportMark, ReportSessionFigures
from .sign_ins import SignInAttempts
from .site_facts import WixSiteFact
from .workers import WorkerHeartbeat
from .write_offs import WriteOff

__all__ = [
    "MONEY",
    "Attendance",
    "AuditEntry",
    "BenefitBalance",
    "Booking",
    "CashUp",
    "Contact",
    "CourseBuild",
    "CourseBuildEvent",
    "CourseCancel",
    "CourseCancelSession",
    "CourseImport",
    "CustomerNote",
    "DeskAction",
    "EmergencyContact",
    "ExportChunk",
    "ExportJob",
    "ImportMapping",
    "ImportRow",
    "Member",
    "Order",
    "OrderLineItem",
    "Package",
    "PackageItem",
    "ParticipantImport",
    "Payment",
    "PlanOrder",
    "ReportMark",
    "ReportSessionFigures",
    "Service",
    "Session",
    "SignInAttempts",
    "StaffMember",
    "StaffPermissions",
    "SyncState",
    "UpsertResult",
    "WebhookEvent",
    "WixMirror",
    "WixMirrorQuerySet",
    "WixSiteFact",
    "WorkerHeartbeat",
    "WriteOff",
    "is_newer",
    "normalise_phone",
    "normalise_text",
    "parse_revision",
]
