"""The sign-in throttle: at most ``MAX_ATTEMPTS`` passwords tried per username and address in a
window of ``WINDOW_SECONDS``, counted in the database (``models.SignInAttempts``).

An attempt is counted *before* its password is checked, under a row lock: however many web
processes or threads try at once, no more than ``MAX_ATTEMPTS`` passwords are ever checked in a
window, and once it is used up even the right password is refused until the window ends. A
successful sign-in clears the count. Every way in goes through here — the desk's sign-in page,
``/admin/login/`` and any other ``authenticate()`` — because the authentication backend
(``bookings_app.auth_backend``) asks first.

Keyed on ``REMOTE_ADDR``, not X-Forwarded-For: a client can forge the header. Behind a proxy,
have the proxy set the address (gunicorn ``--forwarded-allow-ips``).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from bookings_app.models import SignInAttempts

MAX_ATTEMPTS = 5
WINDOW_SECONDS = 15 * 60


def sign_in_key(*, username: str, address: str) -> str:
    return hashlib.sha256(f"{username.strip().casefold()}|{address}".encode()).hexdigest()


def request_address(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def sign_in_attempt_allowed(*, username: str, address: str) -> bool:
    """Count one attempt; ``False`` when the window's attempts are used up (check no password)."""
    now = timezone.now()
    key = sign_in_key(username=username, address=address)
    with transaction.atomic():
        row = SignInAttempts.objects.select_for_update().filter(key=key).first()
        if row is None:
            try:
                with transaction.atomic():
                    SignInAttempts.objects.create(key=key, attempts=1, window_ends=now + _window())
            except IntegrityError:  # another process made it first: count on its row
                row = SignInAttempts.objects.select_for_update().get(key=key)
            else:
                SignInAttempts.objects.filter(window_ends__lt=now).delete()  # sweep expired windows
                return True
        if row.window_ends <= now:  # the window starts at the first attempt after the last one ended
            row.attempts, row.window_ends = 0, now + _window()
        row.attempts += 1
        row.save(update_fields=["attempts", "window_ends"])
        return row.attempts <= MAX_ATTEMPTS


def sign_in_locked(*, username: str, address: str) -> bool:
    """Are this window's attempts used up (the next one would be refused)? Counts nothing."""
    return SignInAttempts.objects.filter(
        key=sign_in_key(username=username, address=address),
        attempts__gte=MAX_ATTEMPTS,
        window_ends__gt=timezone.now(),
    ).exists()


def sign_in_succeeded(*, username: str, address: str) -> None:
    """A right password within the limit: earlier failures are forgotten."""
    SignInAttempts.objects.filter(key=sign_in_key(username=username, address=address)).delete()


def _window() -> timedelta:
    return timedelta(seconds=WINDOW_SECONDS)
