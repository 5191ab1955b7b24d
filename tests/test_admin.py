"""The admin site lists what Front Desk keeps itself: customer notes and emergency contacts."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests import factories

pytestmark = pytest.mark.django_db


def test_notes_and_emergency_contacts_are_listed_in_the_admin(client) -> None:
    note = factories.CustomerNoteFactory(text="Asthma: inhaler in locker 4")
    emergency = factories.EmergencyContactFactory(name="Pat Partner <b>")
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-2026")
    client.force_login(admin)

    notes = client.get("/admin/bookings_app/customernote/")
    contacts = client.get("/admin/bookings_app/emergencycontact/")

    assert notes.status_code == 200 and note.text in notes.content.decode()
    assert contacts.status_code == 200 and "Pat Partner &lt;b&gt;" in contacts.content.decode()
    assert client.get(f"/admin/bookings_app/customernote/{note.pk}/change/").status_code == 200
    assert client.get(f"/admin/bookings_app/emergencycontact/{emergency.pk}/change/").status_code == 200
