"""Site members: Wix JSON -> ``Member`` rows; a member's plans and credits read again."""

from __future__ import annotations

from django.db import transaction

from bookings_app.models import Contact, Member
from bookings_app.services.mirror.balances import balances_of_members
from bookings_app.services.mirror.contacts import contacts_fetch, contacts_write
from bookings_app.services.mirror.plan_orders import plan_orders_of_members
from bookings_app.services.mirror.run import MirrorRun, batches, paged_offset
from bookings_app.services.mirror.upsert import Row, upsert
from bookings_app.services.mirror.values import Json, text
from bookings_app.wix import WixClient
from bookings_app.wix import members as wix_members
from bookings_app.wix.dates import wix_timestamp_parse


def members_write(run: MirrorRun, members: list[Json]) -> None:
    contacts = dict(
        Contact.objects.filter(wix_id__in={m.get("contactId") for m in members}).values_list("wix_id", "pk")
    )
    # Member.contact is one-to-one: a contact already claimed by another member row stays with it.
    claimed = dict(Member.objects.filter(contact_id__in=contacts.values()).values_list("contact_id", "wix_id"))
    rows = []
    for m in members:
        contact_pk = contacts.get(m.get("contactId") or "")
        if contact_pk is not None and claimed.get(contact_pk) not in (None, m["id"]):
            contact_pk = None
        rows.append(
            Row(
                m["id"],
                m.get("revision"),
                wix_timestamp_parse(m.get("updatedDate")),
                {
                    "contact_id": contact_pk,
                    "login_email": text(m.get("loginEmail"), 320),
                    "status": text(m.get("status"), 32),
                    "raw": m,
                },
            )
        )
    upsert(run, Member, rows)


def member_plans(run: MirrorRun, member_ids: set[str]) -> None:
    """The plan orders, then the benefit balances, of these members."""
    plan_orders_of_members(run, member_ids)
    balances_of_members(run, member_ids)


def member_plans_refresh(*, wix: WixClient, member_ids: list[str], actor: str = "webhook") -> None:
    """Re-read the plan orders and benefit balances of these members (a pricing-plans webhook);
    a member not mirrored yet is fetched with their contact first. Raises ``WixError``."""
    run = MirrorRun(wix=wix, actor=actor)
    ids = set(filter(None, member_ids))
    missing = ids - set(Member.objects.filter(wix_id__in=ids).values_list("wix_id", flat=True))
    for batch in batches(missing):
        found: list[Json] = []
        for page in paged_offset(run, wix_members.query_members, "members", {"id": {"$in": batch}}, fieldsets=["FULL"]):
            found.extend(page)
        contacts = contacts_fetch(run, {m.get("contactId") for m in found} - {None, ""}, refresh=False)
        with transaction.atomic():
            if contacts:
                contacts_write(run, contacts)
            members_write(run, found)
    member_plans(run, ids)
