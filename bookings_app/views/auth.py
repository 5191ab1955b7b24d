"""Sign in and out: Django's own views, with failed sign-ins throttled per username and address; and
the page a stale form (an old CSRF token) gets instead of a bare 403."""

import hashlib
from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from bookings_app import roles

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _throttle_key(username: str, request: HttpRequest | None) -> str:
    # REMOTE_ADDR, not X-Forwarded-For: a client can forge the header. Behind a proxy, have the
    # proxy set REMOTE_ADDR (gunicorn --forwarded-allow-ips) rather than trusting the header here.
    address = request.META.get("REMOTE_ADDR", "") if request is not None else ""
    digest = hashlib.sha256(f"{username.strip().casefold()}|{address}".encode()).hexdigest()
    return f"login-failures:{digest}"


def failed_attempts(username: str, request: HttpRequest | None) -> int:
    return cache.get(_throttle_key(username, request), 0)


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": (
            "Too many failed sign-in attempts for this username from this device. "
            "Wait 15 minutes and try again, or ask a manager to reset your password."
        ),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username") or ""
        key = _throttle_key(username, self.request)
        if cache.get(key, 0) >= MAX_FAILURES:
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            cache.add(key, 0, WINDOW_SECONDS)  # the window starts at the first failure
            try:
                failures = cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, WINDOW_SECONDS)
                failures = 1
            if failures >= MAX_FAILURES:
                raise ValidationError(self.error_messages["throttled"], code="throttled") from None
            raise
        cache.delete(key)
        return cleaned


class LoginView(auth_views.LoginView):
    template_name = "auth/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response


login = LoginView.as_view()
logout = auth_views.LogoutView.as_view()


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form from a page opened before someone signed in or out on this
    device (its token is an old one). Nothing was done. htmx: a 403 the page shows above itself
    (``roles.session_problem``), keeping what was typed; else a page saying so, with a way back."""
    if getattr(request, "htmx", None):
        return roles.session_problem(request, roles.STALE_PAGE)
    back = roles.came_from(request)
    context = {
        "back": back or reverse("home"),
        "sign_in": redirect_to_login(back or "/").url,
    }
    return TemplateResponse(request, "auth/csrf_failure.html", context, status=403)
