"""Links into the site's Wix dashboard ("open in Wix"): built from the site id in API-key mode,
none in the sandbox or as a Wix app (no site id)."""

from __future__ import annotations

from bookings_app.wix import dashboard
from bookings_app.wix.config import WixConfig

LIVE = WixConfig(mode="api_key", api_key="key", site_id="site-1")


def test_api_key_mode_links_to_the_site_dashboard():
    assert (
        dashboard.bookings_list_url(LIVE) == "https://manage.wix.com/dashboard/site-1/bookings/bookings/bookings-list"
    )
    assert dashboard.calendar_url(LIVE) == "https://manage.wix.com/dashboard/site-1/bookings/calendar"
    assert (
        dashboard.order_url(LIVE, "o/1") == "https://manage.wix.com/dashboard/site-1/ecom-platform/order-details/o%2F1"
    )
    assert dashboard.contact_url(LIVE, "c-1") == "https://manage.wix.com/dashboard/site-1/contacts/view/c-1"


def test_no_link_without_an_id_in_the_sandbox_or_as_a_wix_app():
    app = WixConfig(mode="app", app_id="a", app_secret="s", instance_id="i")
    assert dashboard.order_url(LIVE, None) is None and dashboard.contact_url(LIVE, "") is None
    assert dashboard.bookings_list_url(WixConfig(mode="sandbox")) is None
    assert dashboard.calendar_url(app) is None
