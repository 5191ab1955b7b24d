"""Contacts keep their search columns in step (``models/people.py``)."""

import pytest

from bookings_app import models
from tests import factories

pytestmark = pytest.mark.django_db


def test_contact_keeps_normalised_search_fields():
    contact = factories.ContactFactory(
        first_name="Zoë", last_name="O'Neil", email=" Zoe.ONeil@Example.COM ", phone="+44 (0)7700 900-123"
    )

    assert contact.search_name == "zoe oneil"
    assert contact.search_email == "zoe.oneil@example.com"
    assert contact.search_phone == "4407700900123"

    contact.first_name = "Zoey"
    contact.save(update_fields=["first_name"])
    contact.refresh_from_db()
    assert contact.search_name == "zoey oneil"


def test_contact_search_fields_follow_a_wix_update():
    models.Contact.objects.upsert_from_wix("c-1", revision=1, defaults={"first_name": "Ann", "last_name": "Lee"})
    models.Contact.objects.upsert_from_wix("c-1", revision=2, defaults={"first_name": "Anne", "last_name": "Lee"})

    assert models.Contact.objects.get(wix_id="c-1").search_name == "anne lee"
