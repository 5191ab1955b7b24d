"""Roles, and a walk over EVERY URL pattern proving each one is guarded by login and permission.

New views are covered automatically: the walker reads the resolver, so a route added without
``@roles.require(...)`` fails here.
"""

import io
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import URLPattern, URLResolver, converters, get_resolver, reverse
from django.urls.resolvers import RoutePattern

from bookings_app import roles
from bookings_app.converters import IdConverter
from bookings_app.wix.config import WixConfig
from tests.factories import UserFactory

# --- roles -----------------------------------------------------------------------------------


def _codenames(group_name: str) -> set[str]:
    return set(
        Group.objects.get(name=group_name)
        .permissions.filter(content_type__app_label="bookings_app", codename__in=[c for c, _ in roles.PERMISSIONS])
        .values_list("codename", flat=True)
    )


@pytest.mark.django_db
def test_setup_roles_creates_the_three_groups_each_containing_the_one_below():
    call_command("setup_roles", stdout=io.StringIO())

    desk, manager, admin = _codenames(roles.FRONT_DESK), _codenames(roles.MANAGER), _codenames(roles.ADMIN)
    assert desk == {"use_front_desk"}
    assert desk < manager < admin
    assert {"view_reports", "view_audit", "override_capacity"} <= manager
    assert {"import_data", "manage_settings"} <= admin - manager
    assert admin == {c for c, _ in roles.PERMISSIONS}


@pytest.mark.django_db
def test_setup_roles_is_idempotent_and_repairs_drift():
    call_command("setup_roles", stdout=io.StringIO())
    Group.objects.get(name=roles.MANAGER).permissions.clear()  # someone fiddled in the admin site

    call_command("setup_roles", stdout=io.StringIO())

    assert Group.objects.filter(name__in=roles.ROLES).count() == 3
    assert Group.objects.count() == 3
    assert "view_reports" in _codenames(roles.MANAGER)


@pytest.mark.django_db
def test_demo_users_are_created_once_per_role_with_the_documented_passwords():
    out = io.StringIO()
    call_command("setup_roles", "--demo-users", stdout=out)
    call_command("setup_roles", "--demo-users", stdout=io.StringIO())

    User = get_user_model()
    assert User.objects.count() == 3
    for username, password, role in roles.DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.check_password(password)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert not user.is_superuser
        assert f"{username}" in out.getvalue() and password in out.getvalue()
    assert User.objects.get(username="admin").is_staff
    assert not User.objects.get(username="desk").is_staff


@pytest.mark.django_db
def test_demo_users_are_refused_against_a_live_wix_site(settings):
    settings.WIX = WixConfig(mode="api_key", api_key="key", site_id="site")

    with pytest.raises(CommandError, match="live Wix site"):
        call_command("setup_roles", "--demo-users", stdout=io.StringIO())

    assert not get_user_model().objects.exists()


# --- the URL walker --------------------------------------------------------------------------

PUBLIC = {"login", "logout", "healthz"}  # the way in and out; the health check (no secret in it)


def _is_webhook(name: str) -> bool:
    return name.split(":")[-1].startswith("webhook")


@dataclass(frozen=True)
class Route:
    name: str
    url: str
    view: object


def _dummy_kwargs(pattern: URLPattern) -> dict[str, str]:
    if isinstance(pattern.pattern, RoutePattern):
        dummies = {
            converters.IntConverter: "1",
            IdConverter: "1",
            converters.UUIDConverter: str(uuid.UUID(int=1)),
            converters.PathConverter: "dummy/path",
        }
        return {name: dummies.get(type(conv), "dummy") for name, conv in pattern.pattern.converters.items()}
    return {name: "1" for name in pattern.pattern.regex.groupindex}


def _walk(patterns: list, namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner)
        else:
            yield namespace + (entry.name or ""), entry


def _routes() -> list[Route]:
    routes = []
    for name, pattern in _walk(get_resolver().url_patterns):
        if name.startswith("admin:"):
            continue  # Django's own admin site: its own staff-only guard, tested below
        assert not name.endswith(":") and name, f"Every route needs a name: {pattern.pattern}"
        routes.append(Route(name, reverse(name, kwargs=_dummy_kwargs(pattern)), pattern.callback))
    return routes


ROUTES = _routes()


def test_the_walker_sees_the_screens():
    names = {r.name for r in ROUTES}
    assert {"home", "today", "roster", "roster_print", "login", "logout"} <= names


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.name not in PUBLIC and not _is_webhook(r.name)], ids=lambda r: r.name
)
def test_every_screen_needs_login_then_its_permission(route, client, staff_roles):
    permission = getattr(route.view, "required_permission", None)
    assert permission, f"{route.name} has no @roles.require(...) (put it outermost, above method decorators)"

    anonymous = client.get(route.url)
    assert anonymous.status_code == 302, f"{route.name}: anonymous got {anonymous.status_code}"
    assert anonymous.url.startswith(reverse("login") + "?next="), anonymous.url

    client.force_login(UserFactory(username="nobody"))
    assert client.get(route.url).status_code == 403

    role = roles.smallest_role_with(permission)
    client.force_login(UserFactory(username="holder", roles=[role]))
    allowed = client.get(route.url)
    assert allowed.status_code != 403, f"{route.name}: {role} got 403"
    assert not (allowed.status_code == 302 and allowed.url.startswith(reverse("login")))

    if role != roles.FRONT_DESK:  # and the role below it is refused
        below = list(roles.ROLES)[list(roles.ROLES).index(role) - 1]
        client.force_login(UserFactory(username="below", roles=[below]))
        assert client.get(route.url).status_code == 403


@pytest.mark.parametrize("route", [r for r in ROUTES if _is_webhook(r.name)], ids=lambda r: r.name)
def test_webhooks_refuse_anonymous_unsigned_requests(route, client, db):
    assert client.get(route.url).status_code in (401, 403, 405)
    assert client.post(route.url, data=b"", content_type="text/plain").status_code in (400, 401, 403)


@pytest.mark.django_db
def test_public_pages_are_only_the_way_in_and_out(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_admin_site_stays_staff_only(client, desk_user):
    assert client.get("/admin/").status_code == 302
    client.force_login(desk_user)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_an_admin_role_user_may_read_the_mirror_in_the_admin_site(client, staff_roles):
    call_command("setup_roles", "--demo-users", stdout=io.StringIO())
    client.force_login(get_user_model().objects.get(username="admin"))

    assert client.get("/admin/bookings_app/booking/").status_code == 200
    assert client.get("/admin/bookings_app/booking/add/").status_code == 403


def test_settings_keep_login_url_pointing_at_our_login_view():
    assert reverse(settings.LOGIN_URL) == reverse("login")
