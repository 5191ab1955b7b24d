"""Sign in and out: Django's own views, with sign-in attempts throttled per username and address
(``services.sign_ins``, enforced by ``bookings_app.auth_backend`` on every way in, the admin's
too); and the page a stale form (an old CSRF token) gets instead of a bare 403."""

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from bookings_app import roles
from bookings_app.services import sign_ins

THROTTLED = (
    "Too many failed sign-in attempts for this username from this device. "
    "Wait 15 minutes and try again, or ask a manager to reset your password."
)


class ThrottleMessageMixin:
    """Says "too many attempts" instead of "wrong password" once the window's attempts are used
    up. The backend refuses the attempt itself; this only chooses the words."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]
    error_messages: dict[str, str]

    def _locked(self) -> bool:
        username = self.cleaned_data.get("username") or ""
        return sign_ins.sign_in_locked(username=username, address=sign_ins.request_address(self.request))

    def clean(self) -> dict[str, Any]:
        if self._locked():
            raise ValidationError(THROTTLED, code="throttled")
        try:
            return super().clean()  # type: ignore[misc]
        except ValidationError:
            if self._locked():
                raise ValidationError(THROTTLED, code="throttled") from None
            raise


class ThrottledAuthenticationForm(ThrottleMessageMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottleMessageMixin, AdminAuthenticationForm):
    pass


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
