"""factory_boy factories for every model. Mirror rows get a Wix-looking id and revision 1."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from bookings_app import models


class WixMirrorFactory(factory.django.DjangoModelFactory):
    wix_id = factory.Faker("uuid4")
    revision = 1
    wix_updated_at = factory.LazyFunction(timezone.now)
    synced_at = factory.LazyFunction(timezone.now)
    raw = factory.LazyFunction(dict)

    class Meta:
        abstract = True


class ServiceFactory(WixMirrorFactory):
    type = models.Service.Type.CLASS
    name = factory.Sequence(lambda n: f"Open-water swim {n}")
    price = Decimal("12.00")
    currency = "GBP"
    default_capacity = 20
    schedule_id = factory.Faker("uuid4")
    pricing_plan_enabled = True

    class Meta:
        model = models.Service


class StaffMemberFactory(WixMirrorFactory):
    name = factory.Faker("name")
    email = factory.Faker("email")
    phone = factory.Faker("phone_number")
    resource_id = factory.Faker("uuid4")

    class Meta:
        model = models.StaffMember


class SessionFactory(WixMirrorFactory):
    service = factory.SubFactory(ServiceFactory)
    title = factory.SelfAttribute("service.name")
    start = factory.LazyFunction(lambda: timezone.now().replace(minute=0, second=0, microsecond=0))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(hours=1))
    timezone = "Europe/London"
    capacity = factory.SelfAttribute("service.default_capacity")
    status = "CONFIRMED"
    staff = factory.SubFactory(StaffMemberFactory)
    location_name = "Lakeside"
    schedule_id = factory.SelfAttribute("service.schedule_id")

    class Meta:
        model = models.Session


class ContactFactory(WixMirrorFactory):
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.first_name}.{o.last_name}@example.com".lower())
    phone = factory.Sequence(lambda n: f"+44 7700 9{n:05d}")

    class Meta:
        model = models.Contact


class CustomerNoteFactory(factory.django.DjangoModelFactory):
    """A note the desk keeps about a customer (``alert="MEDICAL"`` … for a check-in alert)."""

    contact = factory.SubFactory(ContactFactory)
    text = "Prefers the slow lane"
    alert = ""

    class Meta:
        model = models.CustomerNote


class EmergencyContactFactory(factory.django.DjangoModelFactory):
    contact = factory.SubFactory(ContactFactory)
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+44 7700 8{n:05d}")
    relationship = "Partner"

    class Meta:
        model = models.EmergencyContact


class MemberFactory(WixMirrorFactory):
    contact = factory.SubFactory(ContactFactory)
    login_email = factory.SelfAttribute("contact.email")
    status = "APPROVED"

    class Meta:
        model = models.Member


class PlanOrderFactory(WixMirrorFactory):
    member = factory.SubFactory(MemberFactory)
    plan_id = factory.Faker("uuid4")
    plan_name = "10-swim pass"
    status = models.PlanOrder.Status.ACTIVE
    last_payment_status = "PAID"
    start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    end = factory.LazyFunction(lambda: timezone.now() + timedelta(days=80))

    class Meta:
        model = models.PlanOrder


class BenefitBalanceFactory(WixMirrorFactory):
    member = factory.SubFactory(MemberFactory)
    plan_order = factory.SubFactory(PlanOrderFactory, member=factory.SelfAttribute("..member"))
    name = "10-swim pass"
    status = "ACTIVE"
    total_credits = Decimal("10")
    remaining_credits = Decimal("7")
    unlimited = False
    covered_service_ids = factory.LazyFunction(list)

    class Meta:
        model = models.BenefitBalance


class BookingFactory(WixMirrorFactory):
    session = factory.SubFactory(SessionFactory)
    service = factory.LazyAttribute(lambda o: o.session.service if o.session else ServiceFactory())
    contact = factory.SubFactory(ContactFactory)
    status = models.Booking.Status.CONFIRMED
    payment_status = models.Booking.PaymentStatus.NOT_PAID
    selected_payment_option = models.Booking.PaymentOption.OFFLINE
    total_participants = 1
    wix_created_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = models.Booking


class OrderFactory(WixMirrorFactory):
    number = factory.Sequence(lambda n: str(10000 + n))
    contact = factory.SubFactory(ContactFactory)
    status = "APPROVED"
    payment_status = "NOT_PAID"
    total = Decimal("12.00")
    paid = Decimal("0.00")
    balance = Decimal("12.00")
    currency = "GBP"
    wix_created_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = models.Order


class OrderLineItemFactory(factory.django.DjangoModelFactory):
    order = factory.SubFactory(OrderFactory)
    line_item_id = factory.Faker("uuid4")
    booking = factory.SubFactory(BookingFactory)
    catalog_item_id = factory.LazyAttribute(lambda o: o.booking.wix_id if o.booking else "")
    name = "Open-water swim"
    quantity = 1
    price = Decimal("12.00")
    payment_option = "FULL_PAYMENT_OFFLINE"

    class Meta:
        model = models.OrderLineItem


class PaymentFactory(WixMirrorFactory):
    order = factory.SubFactory(OrderFactory)
    amount = Decimal("12.00")
    currency = "GBP"
    method = models.Payment.Method.CASH
    status = models.Payment.Status.APPROVED
    wix_created_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = models.Payment


class AttendanceFactory(WixMirrorFactory):
    booking = factory.SubFactory(BookingFactory)
    session = factory.LazyAttribute(lambda o: o.booking.session)
    status = models.Attendance.Status.ATTENDED
    number_of_attendees = 1

    class Meta:
        model = models.Attendance


class AuditEntryFactory(factory.django.DjangoModelFactory):
    actor = "desk"
    action = "payment.cash"
    object_type = "booking"
    object_id = factory.Faker("uuid4")
    summary = "Took 12.00 GBP cash"
    before = factory.LazyFunction(lambda: {"payment_status": "NOT_PAID"})
    after = factory.LazyFunction(lambda: {"payment_status": "PAID"})

    class Meta:
        model = models.AuditEntry


class WebhookEventFactory(factory.django.DjangoModelFactory):
    event_id = factory.Faker("uuid4")
    event_type = "wix.bookings.v2.booking_updated"
    entity_id = factory.Faker("uuid4")
    entity_fqdn = "wix.bookings.v2.booking"
    sequence = factory.Sequence(int)
    payload = factory.LazyFunction(lambda: {"id": "evt", "entityFqdn": "wix.bookings.v2.booking"})

    class Meta:
        model = models.WebhookEvent


class SyncStateFactory(factory.django.DjangoModelFactory):
    kind = models.SyncState.Kind.BOOKINGS
    last_success_at = factory.LazyFunction(timezone.now)
    last_incremental_at = factory.LazyFunction(timezone.now)

    class Meta:
        model = models.SyncState
        django_get_or_create = ("kind",)


class SignInAttemptsFactory(factory.django.DjangoModelFactory):
    """Failed sign-ins for one username from one address, in an open window."""

    key = factory.Sequence(lambda n: f"{n:064x}")
    attempts = 3
    window_ends = factory.LazyFunction(lambda: timezone.now() + timedelta(minutes=15))

    class Meta:
        model = models.SignInAttempts


class DeskActionFactory(factory.django.DjangoModelFactory):
    """A desk payment waiting for Wix (past its undo window unless ``run_after`` says otherwise)."""

    idempotency_key = factory.Sequence(lambda n: f"desk-{n}")
    kind = models.DeskAction.Kind.PAYMENT
    status = models.DeskAction.Status.QUEUED
    run_after = factory.LazyFunction(timezone.now)
    booking = factory.SubFactory(BookingFactory, wix_id=None, pending_sync=True)
    session = factory.SelfAttribute("booking.session")
    contact = factory.SelfAttribute("booking.contact")
    params = factory.LazyFunction(lambda: {"method": "CASH", "amount": "12.00", "full": True, "due": "12.00"})

    class Meta:
        model = models.DeskAction


class WixSiteFactFactory(factory.django.DjangoModelFactory):
    """An answer ``manage.py wix_check`` settled about the live site."""

    key = factory.Sequence(lambda n: f"fact_{n}")
    value = "BACKOFFICE_MERCHANT"
    detail = "Create Cart and Place Order answered 200"

    class Meta:
        model = models.WixSiteFact
        django_get_or_create = ("key",)


class CourseBuildFactory(factory.django.DjangoModelFactory):
    """A course term committed in the builder: ten Tuesdays at 17:00, one weekly series."""

    idempotency_key = factory.Sequence(lambda n: f"course-{n:08d}")
    service = factory.SubFactory(ServiceFactory, type=models.Service.Type.COURSE, schedule_id=factory.Faker("uuid4"))
    instructor = factory.SubFactory(StaffMemberFactory, resource_id=factory.Faker("uuid4"))
    resource_id = factory.SelfAttribute("instructor.resource_id")
    capacity = 12
    timezone = "Europe/London"
    first_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=7))
    last_date = factory.LazyAttribute(lambda o: o.first_date + timedelta(weeks=10, days=-1))
    slots = factory.LazyAttribute(lambda o: [{"weekday": o.first_date.weekday(), "start": "17:00", "end": "17:45"}])
    sessions_planned = 10
    plan_digest = "0" * 32

    class Meta:
        model = models.CourseBuild


class CourseBuildEventFactory(factory.django.DjangoModelFactory):
    build = factory.SubFactory(CourseBuildFactory)
    position = factory.Sequence(int)
    payload = factory.LazyAttribute(
        lambda o: {
            "type": "COURSE",
            "scheduleId": o.build.service.schedule_id,
            "externalScheduleId": o.build.service.wix_id,
            "start": {"localDate": f"{o.build.first_date}T17:00:00"},
            "end": {"localDate": f"{o.build.first_date}T17:45:00"},
            "resources": [{"id": o.build.resource_id, "permissionRole": "WRITER"}],
        }
    )
    sessions = factory.LazyAttribute(lambda o: [f"{o.build.first_date}T17:00:00"])

    class Meta:
        model = models.CourseBuildEvent


class PackageFactory(factory.django.DjangoModelFactory):
    """A package booked at the desk tomorrow at 10:00 (add its bookings with PackageItemFactory)."""

    idempotency_key = factory.Sequence(lambda n: f"package-{n:08d}")
    contact = factory.SubFactory(ContactFactory)
    location_id = factory.Faker("uuid4")
    location_name = "The Boathouse Spa"
    location_type = "BUSINESS"
    timezone = "Europe/London"
    start = factory.LazyFunction(lambda: timezone.now().replace(microsecond=0) + timedelta(days=1))
    end = factory.LazyAttribute(lambda o: o.start + timedelta(minutes=105))
    total = Decimal("95.00")
    currency = "GBP"
    pay = models.Package.Pay.CASH

    class Meta:
        model = models.Package


class PackageItemFactory(factory.django.DjangoModelFactory):
    package = factory.SubFactory(PackageFactory)
    position = factory.Sequence(lambda n: n + 1)
    service = factory.SubFactory(ServiceFactory, type=models.Service.Type.APPOINTMENT)
    booking = factory.SubFactory(
        BookingFactory, contact=factory.SelfAttribute("..package.contact"), service=factory.SelfAttribute("..service")
    )
    start = factory.LazyAttribute(lambda o: o.package.start)
    end = factory.LazyAttribute(lambda o: o.package.start + timedelta(minutes=60))
    price = Decimal("55.00")

    class Meta:
        model = models.PackageItem


class CourseImportFactory(factory.django.DjangoModelFactory):
    """A timetable file committed (its builds are made by ``course_import_commit``)."""

    idempotency_key = factory.Sequence(lambda n: f"course-import-{n:08d}")
    file_name = "spring-term.csv"
    file_sha256 = "0" * 64
    file_kind = "CSV"
    rows = 2
    sessions_new = 2
    sessions_existing = 0
    plan_digest = "0" * 32

    class Meta:
        model = models.CourseImport


class CourseCancelFactory(factory.django.DjangoModelFactory):
    """Sessions of a running course cancelled from its page: one session."""

    idempotency_key = factory.Sequence(lambda n: f"course-cancel-{n:08d}")
    service = factory.SubFactory(ServiceFactory, type=models.Service.Type.COURSE)
    reason = models.CourseCancel.Reason.SESSION
    plan_digest = "0" * 32

    class Meta:
        model = models.CourseCancel


class CourseCancelSessionFactory(factory.django.DjangoModelFactory):
    cancel = factory.SubFactory(CourseCancelFactory)
    session = factory.SubFactory(SessionFactory, service=factory.SelfAttribute("..cancel.service"))
    event_id = factory.SelfAttribute("session.wix_id")

    class Meta:
        model = models.CourseCancelSession


class WriteOffFactory(factory.django.DjangoModelFactory):
    """A manager's write-off of what a booking owes (standing unless ``reversed_at``)."""

    booking = factory.SubFactory(BookingFactory)
    contact = factory.SelfAttribute("booking.contact")
    amount = Decimal("12.00")
    currency = "GBP"
    reason = "Goodwill"
    idempotency_key = factory.Sequence(lambda n: f"write-off-{n:08d}:1")

    class Meta:
        model = models.WriteOff


class CashUpFactory(factory.django.DjangoModelFactory):
    """The count of one session's takings on its day."""

    scope = models.CashUp.Scope.SESSION
    session = factory.SubFactory(SessionFactory)
    day = factory.LazyAttribute(lambda o: timezone.localdate(o.session.start) if o.session else timezone.localdate())
    currency = "GBP"

    class Meta:
        model = models.CashUp


class ParticipantImportFactory(factory.django.DjangoModelFactory):
    """A participants' file uploaded, its columns recognised (not checked yet)."""

    file_name = "sign-in.csv"
    file_sha256 = factory.Faker("sha256")
    file_kind = "CSV"
    headers = factory.LazyFunction(lambda: ["Name", "Email", "Class", "Date", "Time", "Paid"])
    mapping = factory.LazyFunction(lambda: {"name": 0, "email": 1, "service": 2, "date": 3, "time": 4, "payment": 5})
    rows_total = 1

    class Meta:
        model = models.ParticipantImport


class ImportRowFactory(factory.django.DjangoModelFactory):
    participant_import = factory.SubFactory(ParticipantImportFactory)
    number = factory.Sequence(lambda n: n + 2)
    values = factory.LazyFunction(
        lambda: ["Ann Lee", "ann@example.com", "Open Water Swim", "02/03/2027", "07:00", "cash"]
    )

    class Meta:
        model = models.ImportRow


class ImportMappingFactory(factory.django.DjangoModelFactory):
    signature = factory.Faker("sha256")
    headers = factory.LazyFunction(lambda: ["Name", "Email"])
    mapping = factory.LazyFunction(lambda: {"name": 0, "email": 1})

    class Meta:
        model = models.ImportMapping


class UserFactory(factory.django.DjangoModelFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_active = True

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        """``UserFactory(password="…")`` to sign in with a form; hashing is slow, so only then."""
        if extracted:
            self.set_password(extracted)
        else:
            self.set_unusable_password()
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        """``UserFactory(roles=["Front desk"])`` — the groups must exist (``setup_roles``)."""
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))


class WorkerHeartbeatFactory(factory.django.DjangoModelFactory):
    """A background worker that beat a moment ago."""

    worker_id = factory.Sequence(lambda n: f"worker-{n}")
    place = "desk-host:4026531836"
    pid = 4242

    class Meta:
        model = models.WorkerHeartbeat


class ExportJobFactory(factory.django.DjangoModelFactory):
    """A manager's export waiting for the worker to write its file."""

    name = "audit"
    fmt = "csv"
    created_by = factory.SubFactory(UserFactory)

    class Meta:
        model = models.ExportJob


class ExportChunkFactory(factory.django.DjangoModelFactory):
    """The first (here the only) chunk of a written export's file."""

    job = factory.SubFactory(ExportJobFactory, status=models.ExportJob.Status.DONE, size=10)
    seq = 0
    data = b"a,b\r\n1,2\r\n"

    class Meta:
        model = models.ExportChunk


class ReportMarkFactory(factory.django.DjangoModelFactory):
    """A change at a session the report's kept figures have not taken in (triggers write these)."""

    session_id = factory.Sequence(lambda n: 1_000_000 + n)

    class Meta:
        model = models.ReportMark


class ReportSessionFiguresFactory(factory.django.DjangoModelFactory):
    """A session's kept report figures: one confirmed booking paid £12 cash."""

    session_id = factory.Sequence(lambda n: 2_000_000 + n)
    groups = factory.LazyFunction(
        lambda: [["CONFIRMED", "CASH", "NOT_SET", "PAID", 1, 1, 1, 0, 1200, 1200, 0, 0, 0, 0, 0]]
    )

    class Meta:
        model = models.ReportSessionFigures
