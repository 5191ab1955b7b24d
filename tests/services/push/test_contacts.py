"""Phase 1, contacts: a customer made at the desk reaches Wix once."""

from __future__ import annotations

import pytest

from bookings_app.services import desk
from tests.services.conftest import World, key
from tests.services.push.conftest import Trouble, push_now, trouble_client

pytestmark = pytest.mark.django_db


def test_a_lost_contact_create_is_found_by_email(world: World, desk_user) -> None:
    contact = desk.customer_create(user=desk_user, first_name="Nia", email="nia@example.com", idempotency_key=key())
    client = trouble_client(world, Trouble(world, "/contacts/v4/contacts", "lost"))
    push_now(client)
    push_now(client, ignore_backoff=True)
    contact.refresh_from_db()
    assert contact.wix_id and len(world.sb.state.all("contacts")) == 1
