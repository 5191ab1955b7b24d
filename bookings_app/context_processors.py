from typing import Any

from django.conf import settings
from django.http import HttpRequest


def wix(request: HttpRequest) -> dict[str, Any]:
    """What every page needs to know about the Wix connection (the sandbox banner)."""
    return {"wix_sandbox": settings.WIX.is_sandbox, "wix_mode": settings.WIX.mode}
