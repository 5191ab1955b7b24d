"""Phase 1: ``CONTACT_CREATE`` — Create Contact for a customer made at the desk.

A lost answer is looked up by email (or phone) before sending again; a contact Wix already has
(``DUPLICATE_CONTACT_EXISTS``) is who this is, and the desk's row is merged into its mirror.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bookings_app.models import Contact, DeskAction
from bookings_app.services import mirror
from bookings_app.services.mirror.values import Json
from bookings_app.services.push.worker import Attention, Push
from bookings_app.wix import WixConflict, WixNotFound
from bookings_app.wix import contacts as wix_contacts
from bookings_app.wix.dates import wix_timestamp


def push_contacts(push: Push, actions: list[DeskAction]) -> None:
    for action in actions:
        push.guarded(action, lambda action=action: _contact(push, action))


def _contact(push: Push, action: DeskAction) -> None:
    contact = action.contact
    if contact is None:
        raise Attention("contact_missing", "The customer was deleted — remove this.")
    if contact.wix_id:
        push.synced(action, contact_id=contact.wix_id)
        return
    if action.steps.get("sent_at"):
        found = _contact_lookup(push, contact)
        if found is not None:
            _adopt_contact(push, action, contact, found)
            return
    push.save_steps(action, sent_at=wix_timestamp(timezone.now()))
    try:
        answer = push.call(wix_contacts.create_contact, info=_contact_info(contact))
    except WixConflict as err:
        if err.code != "DUPLICATE_CONTACT_EXISTS":
            raise
        # The email is in Wix already (a customer not mirrored yet): that is who this is.
        duplicate = ((err.details.get("applicationError") or {}).get("data") or {}).get("duplicateContactId")
        found = _contact_get(push, duplicate) if duplicate else _contact_lookup(push, contact)
        if found is None:
            raise Attention("DUPLICATE_CONTACT_EXISTS", "Wix already has a customer with this email.") from err
        _adopt_contact(push, action, contact, found)
        return
    _adopt_contact(push, action, contact, answer["contact"])


def _contact_get(push: Push, contact_id: str) -> Json | None:
    try:
        return push.call(wix_contacts.get_contact, contact_id=contact_id)["contact"]
    except WixNotFound:
        return None


def _contact_lookup(push: Push, contact: Contact) -> Json | None:
    if contact.email:
        flt: Json = {"info.emails.email": contact.email}
    elif contact.phone:
        flt = {"info.phones.phone": contact.phone}
    else:
        return None
    answer = push.call(wix_contacts.query_contacts, query={"filter": flt, "paging": {"limit": 10}})
    found = answer.get("contacts") or []
    same_name = [c for c in found if ((c.get("info") or {}).get("name") or {}).get("first", "") == contact.first_name]
    picked = same_name or found
    return picked[0] if picked else None


def _adopt_contact(push: Push, action: DeskAction, contact: Contact, found: Json) -> None:
    with transaction.atomic():
        held = mirror.contacts.contact_adopt(contact=contact, found=found)
        if held is not contact:  # merged into the contact the mirror had
            action.contact = held
            action.save(update_fields=["contact", "updated_at"])
        push.synced(action, contact_id=found["id"])


def _contact_info(contact: Contact) -> Json:
    info: Json = {"name": {k: v for k, v in (("first", contact.first_name), ("last", contact.last_name)) if v}}
    if contact.email:
        info["emails"] = {"items": [{"tag": "MAIN", "email": contact.email, "primary": True}]}
    if contact.phone:
        info["phones"] = {"items": [{"tag": "MOBILE", "phone": contact.phone, "primary": True}]}
    return info
