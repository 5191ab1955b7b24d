"""Bytes on the wire for the roster's 6-second refresh while rows wait for Wix (issue 10, item 16).

    .venv/bin/python bench/roster_refresh.py

A 100-person class (£12; a third paid by cash or card, a fifth on a plan, the rest unpaid, some
with a plan pass that covers the class, a third checked in) of which five rows wait for Wix (a
desk payment queued). Its own SQLite database, ``var/bench-roster-refresh.sqlite3``, deleted and
migrated again on every run; Wix is an empty in-memory sandbox.

Through Django's test client as a signed-in Front desk user it requests, as the roster's periodic
refresh does (``HX-Request``, ``HX-Trigger: roster-rows``, the page's rows in ``X-Roster-Rows``):

* nothing changed since the page was drawn;
* one waiting row confirmed by Wix meanwhile (its desk action SYNCED);
* the whole list, as a refresh gets it when someone came or went (and every refresh did before);

each without and with ``Accept-Encoding: gzip``; and the full page once, for scale. It prints
the status and the body's bytes of each. Figures, never asserts.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import sys
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
SQLITE_PATH = BASE_DIR / "var" / "bench-roster-refresh.sqlite3"
PEOPLE = 100
WAITING = 5


def main() -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    SQLITE_PATH.parent.mkdir(exist_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")
    import django

    django.setup()

    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client
    from django.urls import reverse

    from bookings_app import wix
    from bookings_app.models import Booking, DeskAction
    from tests import factories

    settings.WIX = dataclasses.replace(settings.WIX, mode="sandbox", sandbox_state="", sandbox_faults="")
    wix.clear_cached_state()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("setup_roles", stdout=io.StringIO())
    user = factories.UserFactory(username="bench-desk", roles=["Front desk"])

    session = factories.SessionFactory(title="Lido open swim", capacity=120, service__price=Decimal("12.00"))
    waiting: list[DeskAction] = []
    for n in range(PEOPLE):
        contact = factories.ContactFactory(
            first_name=f"Swimmer{n:03d}",
            last_name=f"Lake{n % 37:02d}",
            email=f"swimmer{n:03d}@example.com",
            phone=f"+44 7700 9{n:05d}",
        )
        kind = n % 15
        if kind < 5:  # paid at the desk, in Wix
            booking = factories.BookingFactory(session=session, contact=contact, payment_status="PAID")
            item = factories.OrderLineItemFactory(booking=booking, order__balance=Decimal("0"), order__contact=contact)
            factories.PaymentFactory(
                order=item.order, method="CASH" if n % 2 else "CARD", line_item_id=item.line_item_id
            )
        elif kind < 8:  # on a plan
            booking = factories.BookingFactory(
                session=session, contact=contact, payment_status="PAID", selected_payment_option="MEMBERSHIP"
            )
        else:  # unpaid; some hold a pass that covers the class
            booking = factories.BookingFactory(session=session, contact=contact, payment_status="NOT_PAID")
            if kind < 11:
                member = factories.MemberFactory(contact=contact)
                factories.BenefitBalanceFactory(
                    member=member, remaining_credits=Decimal("5"), covered_service_ids=[session.service.wix_id]
                )
        if n % 3 == 0:
            factories.AttendanceFactory(booking=booking, session=session)
        if len(waiting) < WAITING and kind >= 11:
            Booking.objects.filter(pk=booking.pk).update(pending_sync=True)
            waiting.append(factories.DeskActionFactory(booking=booking))

    client = Client()
    client.force_login(user)
    url = reverse("roster", args=[session.ref])
    page = client.get(url)
    html = page.content.decode()
    rows = ",".join(
        f"{pk}.{digest}" for pk, digest in re.findall(r'id="roster-row-(\d+)"[^>]*?data-digest="([^"]+)"', html)
    )
    refresh = {"HX-Request": "true", "HX-Trigger": "roster-rows", "HX-Current-URL": f"http://testserver{url}"}
    if rows:
        refresh["X-Roster-Rows"] = rows

    def fetch(gzip: bool, headers: dict[str, str]) -> tuple[int, int]:
        response = client.get(url, headers={**headers, **({"Accept-Encoding": "gzip"} if gzip else {})})
        return response.status_code, len(response.content)

    print(f"{PEOPLE}-person roster, {WAITING} rows waiting for Wix; full page {len(page.content):,} bytes")
    sent = f"yes, {len(rows):,} bytes in X-Roster-Rows" if rows else "no (this version sends none)"
    print(f"the page's rows sent with the refresh: {sent}")
    print(f"{'refresh':<44}{'status':>7}{'bytes':>10}{'gzip':>9}")
    whole = {k: v for k, v in refresh.items() if k != "X-Roster-Rows"}
    for label, change, headers in (
        ("nothing changed", None, refresh),
        ("one waiting row confirmed by Wix", waiting[0], refresh),
        ("the whole list (as when someone came or went)", None, whole),
    ):
        if change is not None:
            change.status = DeskAction.Status.SYNCED
            change.save(update_fields=["status"])
            DeskAction.refresh_pending(change.booking_id)
        status, plain = fetch(False, headers)
        _, packed = fetch(True, headers)
        print(f"{label:<44}{status:>7}{plain:>10,}{packed:>9,}")


if __name__ == "__main__":
    main()
