"""Contacts: Wix JSON -> ``Contact`` rows; a desk-made contact given its Wix identity."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bookings_app.models import Booking, Contact, DeskAction, Member, Order
from bookings_app.services.mirror.run import PAGE, MirrorRun, batches
from bookings_app.services.mirror.upsert import Row, Upserted
from bookings_app.services.mirror.values import Json, first_item, integer, text
from bookings_app.wix import WixClient
from bookings_app.wix import contacts as wix_contacts
from bookings_app.wix.dates import wix_timestamp_parse


def contacts_fetch(run: MirrorRun, ids: set[str], *, refresh: bool) -> list[Json]:
    """Contacts by id, in batches: all not yet fetched in this run (``refresh``), else only those
    not mirrored yet (contacts change rarely; the contacts poll catches edits)."""
    wanted = ids - run.seen_contacts
    if not refresh:
        wanted -= set(Contact.objects.filter(wix_id__in=wanted).values_list("wix_id", flat=True))
    found: list[Json] = []
    for batch in batches(wanted):
        answer = run.call(
            wix_contacts.query_contacts, query={"filter": {"id": {"$in": batch}}, "paging": {"limit": PAGE}}
        )
        found.extend(answer.get("contacts") or [])
    run.seen_contacts |= wanted
    return found


def contacts_write(run: MirrorRun, contacts: list[Json]) -> dict[str, Contact]:
    rows = []
    for c in contacts:
        info = c.get("info") or {}
        name = info.get("name") or {}
        primary = c.get("primaryInfo") or {}
        rows.append(
            Row(
                c["id"],
                c.get("revision"),
                wix_timestamp_parse(c.get("updatedDate")),
                {
                    "first_name": text(name.get("first"), 200),
                    "last_name": text(name.get("last"), 200),
                    "email": text(primary.get("email") or first_item(info.get("emails"), "email"), 320),
                    "phone": text(primary.get("phone") or first_item(info.get("phones"), "phone"), 50),
                    "raw": c,
                },
            )
        )
    # One by one: Contact.save() keeps the search columns in step.
    result = Upserted()
    for row in rows:
        upserted = Contact.objects.upsert_from_wix(
            row.wix_id, revision=row.revision, updated_at=row.updated_at, defaults=row.values
        )
        result.objects[row.wix_id] = upserted.instance
        if upserted.written:
            run.written["Contact"] += 1
    return result.objects


def mirror_contacts(*, wix: WixClient, contacts: list[Json], actor: str = "webhook") -> dict[str, Contact]:
    """Write contacts (as Wix sends them) into the mirror, newer-wins."""
    run = MirrorRun(wix=wix, actor=actor)
    with transaction.atomic():
        return contacts_write(run, contacts)


def contact_from_details(booking: Json) -> Contact:
    # UNCONFIRMED: Wix resolves a contact for every booking; should one come without, keep the
    # booking with a local contact made from its details rather than lose it.
    details = booking.get("contactDetails") or {}
    contact = Contact(
        first_name=text(details.get("firstName"), 200),
        last_name=text(details.get("lastName"), 200),
        email=text(details.get("email"), 320),
        phone=text(details.get("phone"), 50),
    )
    contact.save()
    return contact


def contact_adopt(*, contact: Contact, found: Json) -> Contact:
    """A contact made at the desk is ``found`` in Wix: the row that holds it from now on.

    When the mirror already has that Wix contact, the desk's row is merged into it; else the
    desk's row takes the Wix id, version and payload, keeping the names and email the desk typed
    until the sync reads Wix's. Call inside a transaction.
    """
    twin = Contact.objects.filter(wix_id=found["id"]).exclude(pk=contact.pk).first()
    if twin is not None:
        contact_merge(local=contact, into=twin)
        return twin
    contact.wix_id = found["id"]
    contact.revision = integer(found.get("revision"))
    contact.wix_updated_at = wix_timestamp_parse(found.get("updatedDate"))
    contact.raw = found
    contact.synced_at = timezone.now()
    contact.save()
    return contact


def contact_merge(*, local: Contact, into: Contact) -> None:
    """The local contact turned out to be one Wix (and the mirror) already had: move what hangs
    off the local row onto the mirrored one, then drop the local row."""
    Booking.objects.filter(contact=local).update(contact=into)
    DeskAction.objects.filter(contact=local).update(contact=into)
    Order.objects.filter(contact=local).update(contact=into)
    if not Member.objects.filter(contact=into).exists():
        Member.objects.filter(contact=local).update(contact=into)
    local.delete()
