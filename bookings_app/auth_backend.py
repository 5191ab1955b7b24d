"""The one authentication backend: Django's ``ModelBackend`` behind the sign-in throttle.

It also reads a user's permissions in one query instead of Django's two (their own, their
groups'), which every page asks for (``roles.require``): a round trip less per request.

Throttling in a backend, not in a form, covers every way in — the desk's sign-in page,
``/admin/login/``, and any ``authenticate()`` added later — with one rule
(``services.sign_ins``). Refused attempts raise ``PermissionDenied``, which makes
``authenticate()`` stop and answer "no" without checking the password.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest

from bookings_app.services import sign_ins


class ThrottledModelBackend(ModelBackend):
    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> AbstractBaseUser | None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = sign_ins.request_address(request)
        if not sign_ins.sign_in_attempt_allowed(username=str(username), address=address):
            raise PermissionDenied("too many sign-in attempts")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            sign_ins.sign_in_succeeded(username=str(username), address=address)
        return user

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """What ``ModelBackend`` answers (a user's own permissions and their groups', every
        permission for a superuser, none for an inactive user), in one query, kept on the user
        object for the request as Django keeps it (``_perm_cache``)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            perms = Permission.objects.all()
            if not user_obj.is_superuser:
                perms = perms.filter(Q(user=user_obj) | Q(group__user=user_obj))
            pairs = perms.values_list("content_type__app_label", "codename").order_by().distinct()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in pairs}
        return user_obj._perm_cache
