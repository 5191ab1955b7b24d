"""Notes, check-in alerts and emergency contacts: local writes, each change audited once, bad
input refused with a stable code."""

from __future__ import annotations

import pytest

from bookings_app.models import AuditEntry, CustomerNote, EmergencyContact
from bookings_app.services import customer_notes
from bookings_app.services.errors import BookingError
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(desk_user):
    return desk_user


def test_a_note_is_added_once_per_form_token(user):
    contact = factories.ContactFactory()

    first = customer_notes.customer_note_add(
        user=user, contact=contact, text="  Waiver missing  ", alert="WAIVER", idempotency_key="k-12345678"
    )
    again = customer_notes.customer_note_add(
        user=user, contact=contact, text="Waiver missing", alert="WAIVER", idempotency_key="k-12345678"
    )

    assert first == again and first.text == "Waiver missing"
    assert (first.created_by, first.updated_by) == (user, user)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.summary) == ("customer_note.add", f"Added a waiver alert for {contact}")


@pytest.mark.parametrize(("text", "alert"), [("", ""), ("x" * 1001, ""), ("fine", "VIP")])
def test_a_bad_note_is_refused(user, text, alert):
    with pytest.raises(BookingError) as excinfo:
        customer_notes.customer_note_add(user=user, contact=factories.ContactFactory(), text=text, alert=alert)

    assert excinfo.value.code == "note_invalid"
    assert not CustomerNote.objects.exists() and not AuditEntry.objects.exists()


def test_an_edit_that_changes_nothing_is_not_audited(user):
    note = factories.CustomerNoteFactory(text="Same", alert="PAYMENT")

    customer_notes.customer_note_edit(user=user, note=note, text="Same ", alert="PAYMENT")

    assert not AuditEntry.objects.exists()


def test_archiving_twice_archives_once(user):
    note = factories.CustomerNoteFactory(alert="MEDICAL")

    customer_notes.customer_note_archive(user=user, note=note)
    customer_notes.customer_note_archive(user=user, note=note)

    note.refresh_from_db()
    assert note.is_archived and note.updated_by == user
    assert AuditEntry.objects.get().before["archived"] is False


def test_an_archived_note_is_restored_before_it_is_edited(user):
    note = factories.CustomerNoteFactory()
    customer_notes.customer_note_archive(user=user, note=note)

    with pytest.raises(BookingError) as excinfo:
        customer_notes.customer_note_edit(user=user, note=note, text="New text")

    assert excinfo.value.code == "note_archived"


def test_the_emergency_contact_is_set_changed_and_removed_each_audited(user):
    contact = factories.ContactFactory()

    customer_notes.emergency_contact_set(user=user, contact=contact, name="Bob", phone="07700 900999")
    customer_notes.emergency_contact_set(user=user, contact=contact, name="Bob", phone="07700 900999")  # no change
    customer_notes.emergency_contact_set(
        user=user, contact=contact, name="Bob", phone="07700 900999", relationship="Son"
    )
    assert EmergencyContact.objects.get().relationship == "Son"
    assert customer_notes.emergency_contact_set(user=user, contact=contact, name="", phone="") is None

    assert not EmergencyContact.objects.exists()
    assert list(AuditEntry.objects.order_by("pk").values_list("action", flat=True)) == [
        "emergency_contact.set",
        "emergency_contact.set",
        "emergency_contact.remove",
    ]


@pytest.mark.parametrize(("name", "phone"), [("Bob", ""), ("", "07700 900999"), ("Bob", "123")])
def test_an_emergency_contact_needs_a_name_and_a_phone_number(user, name, phone):
    with pytest.raises(BookingError) as excinfo:
        customer_notes.emergency_contact_set(user=user, contact=factories.ContactFactory(), name=name, phone=phone)

    assert excinfo.value.code == "emergency_invalid"
    assert not EmergencyContact.objects.exists()
