"""The one authentication backend: Django's ``ModelBackend`` behind the sign-in throttle.

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
from django.core.exceptions import PermissionDenied
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
