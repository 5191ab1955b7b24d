"""Create or update the staff roles (groups and their permissions); optionally the demo users."""

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from bookings_app import roles


class Command(BaseCommand):
    help = "Create or update the Front desk, Manager and Admin groups (safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--demo-users",
            action="store_true",
            help="Also create one user per role with a known password (sandbox only).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["demo_users"] and not settings.WIX.is_sandbox:
            raise CommandError(
                "Refusing to create demo users with known passwords: this install talks to a live Wix site. "
                "Create real accounts with `manage.py createsuperuser` and the admin site instead."
            )
        # Permissions are normally created after migrate; make sure they exist either way.
        create_permissions(apps.get_app_config(roles.APP_LABEL), verbosity=0)
        with transaction.atomic():
            groups = self._groups()
            if options["demo_users"]:
                self._demo_users(groups)

    def _groups(self) -> dict[str, Group]:
        known = {p.codename: p for p in Permission.objects.filter(content_type__app_label=roles.APP_LABEL)}
        missing = {c for c, _ in roles.PERMISSIONS} - known.keys()
        if missing:
            raise CommandError(f"Permissions missing from the database: {', '.join(sorted(missing))}. Run migrate.")
        # Admin may also read the mirror in Django's admin site (view only: Wix is the source of truth).
        mirror_views = list(
            Permission.objects.filter(content_type__app_label=roles.APP_LABEL, codename__startswith="view_").exclude(
                codename__in=[c for c, _ in roles.PERMISSIONS]
            )
        )
        groups = {}
        for role, codenames in roles.ROLES.items():
            group, created = Group.objects.get_or_create(name=role)
            permissions = [known[c] for c in codenames]
            if role == roles.ADMIN:
                permissions += mirror_views
            group.permissions.set(permissions)
            groups[role] = group
            verb = "Created" if created else "Updated"
            self.stdout.write(f"{verb} group {role!r}: {', '.join(codenames)}")
        return groups

    def _demo_users(self, groups: dict[str, Group]) -> None:
        User = get_user_model()
        self.stdout.write("Demo users (sandbox only):")
        for username, password, role in roles.DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            user.set_password(password)
            user.is_active = True
            user.is_staff = role == roles.ADMIN  # may open Django's admin site
            user.is_superuser = False
            user.save()
            user.groups.set([groups[role]])
            self.stdout.write(f"  {username:<8} password {password:<18} role {role}")
