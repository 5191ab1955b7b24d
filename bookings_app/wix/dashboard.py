"""Links into the site's Wix dashboard, for "open in Wix" (the drift watchdog): no HTTP, just URLs.

Every dashboard page lives under ``https://manage.wix.com/dashboard/{metaSiteId}/`` (Wix's
"Bookings Dashboard Navigation": ``bookings/bookings/bookings-list``, ``bookings/calendar``). The
eCommerce order page (``ecom-platform/order-details/{orderId}``) and a contact's page
(``contacts/view/{contactId}``) are UNCONFIRMED: the documented route table lists the
``ecom-platform/`` namespace and the contacts app, not these two paths; a wrong one lands on the
dashboard's home, which still works.

Only API-key mode knows the site id (``WIX_SITE_ID``). The sandbox has no dashboard, and a Wix app
knows its instance, not the site: there, every function answers None and the page offers no link.
"""

from __future__ import annotations

from urllib.parse import quote

from .config import WixConfig

DASHBOARD = "https://manage.wix.com/dashboard"


def _page(config: WixConfig, route: str) -> str | None:
    if config.is_sandbox or not config.site_id:
        return None
    return f"{DASHBOARD}/{quote(config.site_id, safe='')}/{route}"


def bookings_list_url(config: WixConfig) -> str | None:
    """The Booking List (all bookings in a table)."""
    return _page(config, "bookings/bookings/bookings-list")


def calendar_url(config: WixConfig) -> str | None:
    """The booking calendar: sessions and their participants."""
    return _page(config, "bookings/calendar")


def order_url(config: WixConfig, order_id: str | None) -> str | None:
    """One eCommerce order (UNCONFIRMED path, see the module docstring)."""
    if not order_id:
        return None
    return _page(config, f"ecom-platform/order-details/{quote(order_id, safe='')}")


def contact_url(config: WixConfig, contact_id: str | None) -> str | None:
    """One contact, with their plans (UNCONFIRMED path, see the module docstring)."""
    if not contact_id:
        return None
    return _page(config, f"contacts/view/{quote(contact_id, safe='')}")
