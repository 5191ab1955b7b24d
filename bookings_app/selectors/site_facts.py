"""What ``manage.py wix_check`` found out about this Wix site, for the code that adapts to it.

``site_fact("cart_channel", "BACKOFFICE_MERCHANT")`` is the stored answer, or the default when the
check has not settled it. The facts are one small table, read whole and kept for a few seconds
per process; saving or deleting a fact in this process forgets them at once (another process
sees the change within ``CACHE_SECONDS``).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db.models.signals import post_delete, post_save

from bookings_app.models import WixSiteFact

CACHE_SECONDS = 10.0

_lock = threading.Lock()
_cache: tuple[float, dict[str, Any]] | None = None


def site_fact(key: str, default: Any) -> Any:
    """The settled answer for ``key``, else ``default``."""
    return site_facts_all().get(key, default)


def site_facts_all() -> dict[str, Any]:
    """Every settled answer, key → value (one query, then cached for ``CACHE_SECONDS``)."""
    global _cache
    now = time.monotonic()
    with _lock:
        if _cache is not None and _cache[0] > now:
            return dict(_cache[1])
    facts = dict(WixSiteFact.objects.values_list("key", "value"))
    with _lock:
        _cache = (now + CACHE_SECONDS, facts)
    return dict(facts)


def site_facts_forget(**_: Any) -> None:
    """Drop the cached facts: the next read asks the database (tests call it between cases)."""
    global _cache
    with _lock:
        _cache = None


post_save.connect(site_facts_forget, sender=WixSiteFact, dispatch_uid="site_facts_forget_on_save")
post_delete.connect(site_facts_forget, sender=WixSiteFact, dispatch_uid="site_facts_forget_on_delete")
