"""Django's admin site, for staff with is_staff: a read-mostly window on the mirror and ledger.

Mirror rows come from Wix; editing them here would be overwritten by the next sync, so the
Wix-owned fields are read-only.
"""

from django.contrib import admin

from bookings_app import models
from bookings_app.views import auth

# The admin's sign-in says "too many attempts" like the desk's (the backend throttles both).
admin.site.login_form = auth.ThrottledAdminAuthenticationForm

MIRROR_READONLY = ("wix_id", "revision", "wix_updated_at", "synced_at", "raw")


class MirrorAdmin(admin.ModelAdmin):
    readonly_fields = MIRROR_READONLY
    search_fields = ("wix_id",)


@admin.register(models.Service)
class ServiceAdmin(MirrorAdmin):
    list_display = ("name", "type", "price", "currency", "default_capacity", "pricing_plan_enabled", "hidden")
    list_filter = ("type", "pricing_plan_enabled", "hidden")
    search_fields = ("name", "wix_id", "schedule_id")


@admin.register(models.StaffMember)
class StaffMemberAdmin(MirrorAdmin):
    list_display = ("name", "email", "phone", "resource_id")
    search_fields = ("name", "email", "wix_id", "resource_id")


@admin.register(models.Session)
class SessionAdmin(MirrorAdmin):
    list_display = ("start", "end", "service", "staff", "capacity", "status", "location_name")
    list_filter = ("service__type", "status")
    list_select_related = ("service", "staff")
    date_hierarchy = "start"
    search_fields = ("wix_id", "title", "service__name")
    raw_id_fields = ("service", "staff")


@admin.register(models.Contact)
class ContactAdmin(MirrorAdmin):
    list_display = ("__str__", "email", "phone")
    search_fields = ("search_name", "search_email", "search_phone", "wix_id")


@admin.register(models.Member)
class MemberAdmin(MirrorAdmin):
    list_display = ("__str__", "contact", "status")
    search_fields = ("login_email", "wix_id", "contact__search_name")
    raw_id_fields = ("contact",)


@admin.register(models.PlanOrder)
class PlanOrderAdmin(MirrorAdmin):
    list_display = ("plan_name", "member", "status", "last_payment_status", "start", "end")
    list_filter = ("status",)
    raw_id_fields = ("member",)


@admin.register(models.BenefitBalance)
class BenefitBalanceAdmin(MirrorAdmin):
    list_display = ("name", "member", "remaining_credits", "total_credits", "unlimited", "status")
    raw_id_fields = ("member", "plan_order")


class OrderLineItemInline(admin.TabularInline):
    model = models.OrderLineItem
    extra = 0
    raw_id_fields = ("booking",)


class PaymentInline(admin.TabularInline):
    model = models.Payment
    extra = 0
    fields = ("wix_id", "method", "amount", "currency", "status", "membership_id")
    readonly_fields = ("wix_id",)


@admin.register(models.Booking)
class BookingAdmin(MirrorAdmin):
    list_display = ("__str__", "contact", "service", "session", "status", "payment_status", "pending_sync")
    list_filter = ("status", "payment_status", "pending_sync", "service__type")
    list_select_related = ("contact", "service", "session")
    search_fields = ("wix_id", "contact__search_name", "contact__search_email")
    raw_id_fields = ("session", "service", "contact")


@admin.register(models.Order)
class OrderAdmin(MirrorAdmin):
    list_display = ("__str__", "contact", "status", "payment_status", "total", "balance", "currency")
    list_filter = ("status", "payment_status")
    search_fields = ("wix_id", "number")
    raw_id_fields = ("contact",)
    inlines = (OrderLineItemInline, PaymentInline)


@admin.register(models.Attendance)
class AttendanceAdmin(MirrorAdmin):
    list_display = ("booking", "session", "status", "number_of_attendees")
    list_filter = ("status",)
    raw_id_fields = ("booking", "session")


@admin.register(models.AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_id", "summary")
    list_filter = ("action", "object_type")
    search_fields = ("actor", "summary", "object_id")
    date_hierarchy = "at"

    def has_add_permission(self, request, obj=None) -> bool:  # append-only, written by the app
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ("received_at", "event_type", "entity_id", "sequence", "processed_at", "error")
    search_fields = ("event_id", "entity_id", "event_type")
    readonly_fields = ("payload",)


@admin.register(models.SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = ("kind", "last_success_at", "last_incremental_at", "last_full_at", "running", "last_error_at")


@admin.register(models.CustomerNote)
class CustomerNoteAdmin(admin.ModelAdmin):
    """Notes and check-in alerts staff keep in Front Desk (not in Wix)."""

    list_display = ("contact", "alert", "text", "created_at", "created_by", "archived_at")
    list_filter = ("alert",)
    search_fields = ("text", "contact__first_name", "contact__last_name", "contact__email")
    raw_id_fields = ("contact",)
    readonly_fields = ("created_at", "created_by", "updated_at", "updated_by")


@admin.register(models.EmergencyContact)
class EmergencyContactAdmin(admin.ModelAdmin):
    """Emergency contacts printed on the sign-in sheet (kept in Front Desk, not in Wix)."""

    list_display = ("contact", "name", "phone", "relationship", "updated_at")
    search_fields = ("name", "phone", "contact__first_name", "contact__last_name")
    raw_id_fields = ("contact",)
    readonly_fields = ("updated_at", "updated_by")
