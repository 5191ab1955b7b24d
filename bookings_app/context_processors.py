from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject

from bookings_app import roles, selectors
from bookings_app.selectors import drift


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    url: str
    active: bool
    count: int = 0  # a number to look at, shown beside the label (the drift watchdog's cases)


# Screens in the top navigation: (URL name, label, permission). An entry appears only once its
# view exists (the name reverses) and the user holds the permission — no dead links.
NAVIGATION: list[tuple[str, str, str]] = [
    ("today", "Today", roles.USE_FRONT_DESK),
    ("owes", "Owes", roles.VIEW_REPORTS),
    ("reports", "Reports", roles.VIEW_REPORTS),
    ("audit", "Audit", roles.VIEW_AUDIT),
    ("drift", "Drift", roles.VIEW_REPORTS),
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
    "report_rows": "reports",
    "report_rows_export": "reports",
    "owes_settle": "owes",
    "owes_print": "owes",
    "owes_write_off": "owes",
    "owes_written_off": "owes",
    "owes_write_off_reverse": "owes",
    "owes_batch_undo": "owes",
    "cashups": "owes",
    "cashup_day": "owes",
    "cashup_staff": "owes",
    "cashup_session": "today",
    "cashup_sign_off": "owes",
    "audit_export": "audit",
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
        # The drift count: kept a minute (``drift_total_cached``), so a page costs no query for it
        # but once a minute per process, and only for those who may open the drift page.
        count = drift.drift_total_cached() if url_name == "drift" else 0
        items.append(NavItem(url_name, label, url, url_name == current, count))
    return items


def wix(request: HttpRequest) -> dict[str, Any]:
    """What every page needs: the Wix connection (sandbox banner), how fresh the mirror is,
    whether desk actions wait too long for Wix, and the navigation for this user. Lazy, so a
    fragment that shows none of them costs no query."""
    signed_in = getattr(request, "user", None) is not None and request.user.is_authenticated
    return {
        "wix_sandbox": settings.WIX.is_sandbox,
        "wix_mode": settings.WIX.mode,
        "sync_status": SimpleLazyObject(selectors.sync_status_header) if signed_in else None,
        "desk_backlog": SimpleLazyObject(selectors.desk_backlog_get) if signed_in else None,
        "nav_items": SimpleLazyObject(lambda: _navigation(request)),
    }
