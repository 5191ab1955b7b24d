from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from bookings_app import roles, selectors


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    url: str
    active: bool


# Screens in the top navigation: (URL name, label, permission). An entry appears only once its
# view exists (the name reverses) and the user holds the permission — no dead links.
NAVIGATION: list[tuple[str, str, str]] = [
    ("today", "Today", roles.USE_FRONT_DESK),
    ("owes", "Owes", roles.VIEW_REPORTS),
    ("reports", "Reports", roles.VIEW_REPORTS),
    ("audit", "Audit", roles.VIEW_AUDIT),
    ("imports", "Import", roles.IMPORT_DATA),
    ("courses", "Courses", roles.VIEW_COURSES),
    ("wix_settings", "Wix", roles.MANAGE_SETTINGS),
]

# Screens that belong under a navigation entry for highlighting.
_SECTION_OF = {
    "roster": "today",
    "roster_print": "today",
    "roster_row": "today",
    "home": "today",
    "desk_walk_in": "today",
    "desk_settle": "today",
    "desk_appointment": "today",
    "desk_sell_plan": "today",
    "desk_sell_plan_session": "today",
    "course_new": "courses",
    "course_commit": "courses",
    "course_build": "courses",
    "import_page": "imports",
}


def _navigation(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else None
    current = _SECTION_OF.get(current or "", current)
    items = []
    for url_name, label, permission in NAVIGATION:
        if not user.has_perm(permission):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append(NavItem(url_name, label, url, url_name == current))
    return items


def wix(request: HttpRequest) -> dict[str, Any]:
    """What every page needs: the Wix connection (sandbox banner), how fresh the mirror is,
    and the navigation for this user. Lazy, so a fragment that shows neither costs no query."""
    signed_in = getattr(request, "user", None) is not None and request.user.is_authenticated
    return {
        "wix_sandbox": settings.WIX.is_sandbox,
        "wix_mode": settings.WIX.mode,
        "sync_status": SimpleLazyObject(selectors.sync_status_get) if signed_in else None,
        "nav_items": SimpleLazyObject(lambda: _navigation(request)),
    }
