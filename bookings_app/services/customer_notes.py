"""Notes and check-in alerts staff keep about a customer, and their emergency contact.

Kept in Front Desk, not in Wix: Contacts v4 as the app uses it has no call that could write
them (see ``models/notes.py``), so these are local writes only — no desk action, nothing pushed.
Every change is audited against the contact (``object_type="contact"``), before and after.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from bookings_app.models import Contact, CustomerNote, EmergencyContact, normalise_phone
from bookings_app.services.audit import audit_record
from bookings_app.services.errors import BookingError

MIN_PHONE_DIGITS = 5


def customer_note_add(
    *, user: Any, contact: Contact, text: str, alert: str = "", idempotency_key: str = ""
) -> CustomerNote:
    """A new note (an alert when ``alert`` names one). A form sent twice with the same
    ``idempotency_key`` adds it once. Raises ``BookingError`` ``note_invalid``."""
    text, alert = _checked(text, alert)
    with transaction.atomic():
        if idempotency_key:
            existing = CustomerNote.objects.filter(form_key=idempotency_key).first()
            if existing is not None:
                return existing
        now = timezone.now()
        note = CustomerNote.objects.create(
            contact=contact,
            text=text,
            alert=alert,
            form_key=idempotency_key or None,
            created_at=now,
            created_by=_person(user),
            updated_at=now,
            updated_by=_person(user),
        )
        audit_record(
            user=user,
            action="customer_note.add",
            obj_type="contact",
            obj_id=contact.pk,
            summary=f"Added a {_kind(note)} for {contact}",
            after=_state(note),
        )
    return note


def customer_note_edit(*, user: Any, note: CustomerNote, text: str, alert: str = "") -> CustomerNote:
    """Change a current note's text or alert. Raises ``BookingError`` ``note_invalid``, or
    ``note_archived`` (restore it first)."""
    text, alert = _checked(text, alert)
    with transaction.atomic():
        note = CustomerNote.objects.select_for_update().select_related("contact").get(pk=note.pk)
        if note.is_archived:
            raise BookingError("This note is archived: restore it to change it.", code="note_archived")
        before = _state(note)
        if (note.text, note.alert) == (text, alert):
            return note
        note.text, note.alert = text, alert
        note.updated_at, note.updated_by = timezone.now(), _person(user)
        note.save(update_fields=["text", "alert", "updated_at", "updated_by"])
        audit_record(
            user=user,
            action="customer_note.edit",
            obj_type="contact",
            obj_id=note.contact_id,
            summary=f"Changed a {_kind(note)} for {note.contact}",
            before=before,
            after=_state(note),
        )
    return note


def customer_note_archive(*, user: Any, note: CustomerNote, archived: bool = True) -> CustomerNote:
    """Archive a note (it stays on the card under "Earlier notes" and alerts nobody), or with
    ``archived=False`` bring it back. Doing it twice changes nothing. Raises nothing."""
    with transaction.atomic():
        note = CustomerNote.objects.select_for_update().select_related("contact").get(pk=note.pk)
        if note.is_archived == archived:
            return note
        before = _state(note)
        now = timezone.now()
        note.archived_at = now if archived else None
        note.updated_at, note.updated_by = now, _person(user)
        note.save(update_fields=["archived_at", "updated_at", "updated_by"])
        audit_record(
            user=user,
            action="customer_note.archive" if archived else "customer_note.restore",
            obj_type="contact",
            obj_id=note.contact_id,
            summary=f"{'Archived' if archived else 'Restored'} a {_kind(note)} for {note.contact}",
            before=before,
            after=_state(note),
        )
    return note


def emergency_contact_set(
    *, user: Any, contact: Contact, name: str, phone: str, relationship: str = ""
) -> EmergencyContact | None:
    """Set the customer's emergency contact, or remove it when every field is blank (returns
    None then). Raises ``BookingError`` ``emergency_invalid`` (a name and a phone number are
    needed)."""
    name, phone, relationship = (name or "").strip(), (phone or "").strip(), (relationship or "").strip()
    with transaction.atomic():
        current = EmergencyContact.objects.select_for_update().filter(contact=contact).first()
        before = _emergency_state(current)
        if not (name or phone or relationship):
            if current is None:
                return None
            current.delete()
            audit_record(
                user=user,
                action="emergency_contact.remove",
                obj_type="contact",
                obj_id=contact.pk,
                summary=f"Removed the emergency contact of {contact}",
                before=before,
            )
            return None
        if not name or not phone:
            raise BookingError("Give the emergency contact's name and phone number.", code="emergency_invalid")
        if len(normalise_phone(phone)) < MIN_PHONE_DIGITS:
            raise BookingError(f"“{phone}” doesn't look like a phone number.", code="emergency_invalid")
        after = {"name": name, "phone": phone, "relationship": relationship}
        if before == after:
            return current
        emergency = current or EmergencyContact(contact=contact)
        emergency.name, emergency.phone, emergency.relationship = name, phone, relationship
        emergency.updated_at, emergency.updated_by = timezone.now(), _person(user)
        emergency.save()
        audit_record(
            user=user,
            action="emergency_contact.set",
            obj_type="contact",
            obj_id=contact.pk,
            summary=f"{'Changed' if current else 'Added'} the emergency contact of {contact}",
            before=before,
            after=after,
        )
    return emergency


def _checked(text: str, alert: str) -> tuple[str, str]:
    text, alert = (text or "").strip(), (alert or "").strip()
    if not text:
        raise BookingError("Write the note.", code="note_invalid")
    if len(text) > CustomerNote.MAX_LENGTH:
        raise BookingError(f"Keep the note under {CustomerNote.MAX_LENGTH} characters.", code="note_invalid")
    if alert not in CustomerNote.Alert.values:
        raise BookingError("Choose one of the alerts offered.", code="note_invalid")
    return text, alert


def _person(user: Any) -> Any:
    return user if getattr(user, "is_authenticated", False) else None


_KINDS = {
    CustomerNote.Alert.MEDICAL: "medical alert",
    CustomerNote.Alert.WAIVER: "waiver alert",
    CustomerNote.Alert.PAYMENT: "payment alert",
    CustomerNote.Alert.OTHER: "check-in alert",
}


def _kind(note: CustomerNote) -> str:
    return _KINDS.get(note.alert, "note")


def _state(note: CustomerNote) -> dict[str, Any]:
    return {
        "note": note.pk,
        "text": note.text,
        "alert": note.alert,
        "archived": note.is_archived,
    }


def _emergency_state(emergency: EmergencyContact | None) -> dict[str, str] | None:
    if emergency is None:
        return None
    return {"name": emergency.name, "phone": emergency.phone, "relationship": emergency.relationship}
