"""Django system checks of this app's configuration (``manage.py check``, and every start)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Warning, register

CHECKOUT_V1_REMOVAL = "2027-02-01"


@register()
def checkout_v1_is_deprecated(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """WIX_ECOM_CHECKOUT_V1 keeps the old checkout path: say loudly when Wix will remove it."""
    if not getattr(settings.WIX, "checkout_v1", False):
        return []
    return [
        Warning(
            f"WIX_ECOM_CHECKOUT_V1 is on: new orders go through Wix eCommerce Checkout V1, which Wix "
            f"removes on {CHECKOUT_V1_REMOVAL}. After that date every payment taken at the desk would fail.",
            hint="Unset WIX_ECOM_CHECKOUT_V1 to use Cart V2 (the default), then run `python manage.py wix_check`.",
            id="bookings_app.W001",
        )
    ]
