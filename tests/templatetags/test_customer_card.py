"""The customer card's template helpers."""

from __future__ import annotations

import pytest

from bookings_app.templatetags.customer_card import tel_href


@pytest.mark.parametrize(
    ("phone", "href"),
    [("+44 (0)7700 900123", "+447700900123"), ("07700 900123", "07700900123"), ("", ""), ("+1 555-0100", "+15550100")],
)
def test_tel_links_keep_only_what_is_dialled(phone, href):
    assert tel_href(phone) == href
