"""Staff roles: Front desk ⊂ Manager ⊂ Admin, as Django groups holding explicit permissions.

Views ask for a permission, never for a group name, so a site can hand one person an extra
permission without inventing a role. ``python manage.py setup_roles`` writes the groups.
The permissions themselves hang off ``models.StaffPermissions`` (a table-less model).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

APP_LABEL = "bookings_app"

# (codename, description) — the source of truth for models.StaffPermissions.Meta.permissions.
PERMISSIONS: list[tuple[str, str]] = [
    ("use_front_desk", "Use the front desk: Today, rosters, walk-ins, take payments, check in"),
    ("view_reports", "See payment state reports, the owes list, drift and cash counts"),
    ("export_data", "Export reports as CSV or XLSX"),
    ("override_capacity", "Book people into a full session"),
    ("void_payments", "Void or undo a recorded payment or plan charge"),
    ("cancel_bookings", "Cancel any booking (without it: only today's unpaid walk-ins made at the desk)"),
    ("view_audit", "Read the audit trail of staff actions"),
    ("run_sync", "Start a sync with Wix now"),
    ("import_data", "Import participants from a spreadsheet"),
    ("view_courses", "See course terms built here: their previews, progress and results"),
    ("manage_courses", "Create recurring course sessions and multi-service packages"),
    ("manage_settings", "Change the Wix connection settings"),
    ("write_off", "Write off what a customer owes (with a reason), and take a write-off back"),
    ("sign_off_cashups", "Sign off a cash-up: its count becomes read-only"),
]

FRONT_DESK = "Front desk"
MANAGER = "Manager"
ADMIN = "Admin"

_DESK_PERMS = ["use_front_desk"]
_MANAGER_PERMS = [
    *_DESK_PERMS,
    "view_reports",
    "export_data",
    "override_capacity",
    "void_payments",
    "cancel_bookings",
    "view_audit",
    "run_sync",
    "view_courses",
    "write_off",
    "sign_off_cashups",
]
_ADMIN_PERMS = [*_MANAGER_PERMS, "import_data", "manage_courses", "manage_settings"]

# Role → codenames, smallest role first (each role holds everything the one before it holds).
ROLES: dict[str, list[str]] = {FRONT_DESK: _DESK_PERMS, MANAGER: _MANAGER_PERMS, ADMIN: _ADMIN_PERMS}

# Demo accounts for the sandbox only (setup_roles --demo-users refuses against a live site).
DEMO_USERS: list[tuple[str, str, str]] = [
    ("desk", "desk-demo-2026", FRONT_DESK),
    ("manager", "manager-demo-2026", MANAGER),
    ("admin", "admin-demo-2026", ADMIN),
]

# Full permission names, for views: ``@roles.require(roles.USE_FRONT_DESK)``.
USE_FRONT_DESK = f"{APP_LABEL}.use_front_desk"
VIEW_REPORTS = f"{APP_LABEL}.view_reports"
EXPORT_DATA = f"{APP_LABEL}.export_data"
OVERRIDE_CAPACITY = f"{APP_LABEL}.override_capacity"
VOID_PAYMENTS = f"{APP_LABEL}.void_payments"
CANCEL_BOOKINGS = f"{APP_LABEL}.cancel_bookings"
VIEW_AUDIT = f"{APP_LABEL}.view_audit"
RUN_SYNC = f"{APP_LABEL}.run_sync"
IMPORT_DATA = f"{APP_LABEL}.import_data"
VIEW_COURSES = f"{APP_LABEL}.view_courses"
MANAGE_COURSES = f"{APP_LABEL}.manage_courses"
MANAGE_SETTINGS = f"{APP_LABEL}.manage_settings"
WRITE_OFF = f"{APP_LABEL}.write_off"
SIGN_OFF_CASHUPS = f"{APP_LABEL}.sign_off_cashups"


def smallest_role_with(permission: str) -> str:
    """The first role (Front desk, then Manager, then Admin) that holds ``app_label.codename``."""
    codename = permission.split(".", 1)[1]
    for role, codenames in ROLES.items():
        if codename in codenames:
            return role
    raise KeyError(permission)


V = TypeVar("V", bound=Callable[..., HttpResponse])


def require(permission: str) -> Callable[[V], V]:
    """Decorate a view: anonymous → login page, signed in without ``permission`` → 403.

    The permission is kept on the view as ``required_permission`` so the URL walker test can
    prove every route is guarded. An htmx request whose session ended is answered 401 with a
    message and a sign-in link back to the page (app.js shows it, and the page keeps what was
    typed); a plain POST signs in back to the page the form was on, not to the POST-only URL.
    """

    def decorator(view: V) -> V:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if getattr(request, "htmx", None):
                    return session_problem(request, SIGNED_OUT)
                if request.method in ("GET", "HEAD"):
                    return redirect_to_login(request.get_full_path())
                return redirect_to_login(came_from(request) or "/")
            if not request.user.has_perm(permission):
                raise PermissionDenied(f"Needs the {permission} permission.")
            return view(request, *args, **kwargs)

        guarded.required_permission = permission  # type: ignore[attr-defined]
        return guarded  # type: ignore[return-value]

    return decorator


# --- signed out, or a page out of date (a shift change on a shared iPad) ------------------------------

SIGNED_OUT = "signed-out"  # the session ended (or someone signed out on this device): 401
STALE_PAGE = "stale-page"  # the page's CSRF token is an old one (someone signed in or out since): 403


def came_from(request: HttpRequest) -> str | None:
    """The page of this site the request was sent from (htmx: the page; else the Referer), as a
    local path with its query, or None (no such header, or another site's)."""
    htmx = getattr(request, "htmx", None)
    page = (htmx.current_url if htmx else None) or request.headers.get("Referer") or ""
    if not page or not url_has_allowed_host_and_scheme(
        page, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    parts = urlsplit(page)
    if not parts.path.startswith("/"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def session_problem(request: HttpRequest, problem: str) -> HttpResponse:
    """The answer to an htmx request that can't be served as things stand: 401 (signed out) or
    403 (a stale page), its words and a sign-in link back to the page; swapped nowhere — app.js
    shows it above the page (``X-Desk-Problem``) and keeps what was typed."""
    back = came_from(request) or "/"
    context = {"problem": problem, "sign_in": redirect_to_login(back).url}
    response = HttpResponse(
        render_to_string("auth/session_problem.html", context, request=request),
        status=401 if problem == SIGNED_OUT else 403,
    )
    response["X-Desk-Problem"] = problem
    return response
