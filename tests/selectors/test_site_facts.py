"""What ``wix_check`` settled about the site (``selectors.site_facts``): defaults, and fresh values."""

from __future__ import annotations

import pytest

from bookings_app.models import WixSiteFact
from bookings_app.selectors import site_fact, site_facts_all, site_facts_forget
from tests import factories

pytestmark = pytest.mark.django_db


def test_an_unsettled_fact_is_its_default() -> None:
    assert site_fact("cart_channel", "BACKOFFICE_MERCHANT") == "BACKOFFICE_MERCHANT"
    assert site_fact("membership_id_kind", "pool") == "pool"


def test_a_settled_fact_is_read_in_one_query_then_from_the_cache(django_assert_num_queries) -> None:
    factories.WixSiteFactFactory(key="membership_id_kind", value="plan_order")
    factories.WixSiteFactFactory(key="status.CART_ALREADY_ORDERED", value=428)
    site_facts_forget()
    with django_assert_num_queries(1):
        assert site_fact("membership_id_kind", "pool") == "plan_order"
        assert site_fact("status.CART_ALREADY_ORDERED", None) == 428
        assert site_fact("cart_channel", "BACKOFFICE_MERCHANT") == "BACKOFFICE_MERCHANT"


def test_saving_or_deleting_a_fact_is_seen_at_once() -> None:
    assert site_fact("cart_channel", "BACKOFFICE_MERCHANT") == "BACKOFFICE_MERCHANT"  # now cached
    fact = WixSiteFact.objects.create(key="cart_channel", value="POS")
    assert site_fact("cart_channel", "BACKOFFICE_MERCHANT") == "POS"
    fact.value = "WEB"
    fact.save()
    assert site_fact("cart_channel", "BACKOFFICE_MERCHANT") == "WEB"
    fact.delete()
    assert site_fact("cart_channel", "BACKOFFICE_MERCHANT") == "BACKOFFICE_MERCHANT"


def test_the_cached_facts_cannot_be_changed_by_a_caller() -> None:
    factories.WixSiteFactFactory(key="cart_channel", value="POS")
    site_facts_all()["cart_channel"] = "WEB"
    assert site_fact("cart_channel", None) == "POS"
