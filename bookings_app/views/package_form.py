"""The "Book a package" page's forms: where the page is (?s=&day=&chain=&q=), the list of services
edited with buttons (add, up, down, remove), the chosen start time as a signed token, and the
book-and-pay POST for a known or a new customer."""

from __future__ import annotations

from typing import Any

from django import forms as django_forms
from django.core import signing

from bookings_app import forms
from bookings_app.converters import id_or_none
from bookings_app.models import Contact, Package, Service

CHAIN_SALT = "desk.package-chain"
CHAIN_MAX_AGE = 60 * 60 * 12  # a start time offered this morning is still a fair offer this afternoon
STALE_CHAIN = "That start time is no longer on offer: pick a start time again."


def chain_sign(chain: dict[str, Any]) -> str:
    """A chain (``services.package_slots``) as an opaque, tamper-proof URL value."""
    return signing.dumps(chain, salt=CHAIN_SALT, compress=True)


def chain_unsign(value: str) -> dict[str, Any] | None:
    try:
        chain = signing.loads(value, salt=CHAIN_SALT, max_age=CHAIN_MAX_AGE)
    except signing.BadSignature:
        return None
    return chain if isinstance(chain, dict) and isinstance(chain.get("items"), list) else None


def _services() -> Any:
    return Service.objects.filter(type=Service.Type.APPOINTMENT, hidden=False)


class ServicesField(django_forms.ModelMultipleChoiceField):
    """Services by pk, repeated: a value that is no 64-bit id is refused before the ``pk__in``
    query (SQLite cannot hold ``99999999999999999999`` and answered it with a 500)."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if id_or_none(str(pk)) is None:
                raise django_forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


class PackageStepForm(django_forms.Form):
    """Where the page is: the services in order (``s``, repeated), the day, the start time, the
    customer search; and one edit of the list (``add`` a service pk; ``up``/``down``/``remove``
    a position, 1-based)."""

    s = ServicesField(
        queryset=_services(),
        required=False,
        error_messages={
            "invalid_choice": "That service is not an appointment.",
            "invalid_pk_value": "Choose a service.",
        },
    )
    day = forms.DayField(required=False)
    chain = django_forms.CharField(required=False)
    q = django_forms.CharField(required=False, max_length=100)
    add = django_forms.ModelChoiceField(
        queryset=_services(), required=False, error_messages={"invalid_choice": "That service is not an appointment."}
    )
    up = django_forms.IntegerField(required=False, min_value=1, max_value=Package.MAX_SERVICES)
    down = django_forms.IntegerField(required=False, min_value=1, max_value=Package.MAX_SERVICES)
    remove = django_forms.IntegerField(required=False, min_value=1, max_value=Package.MAX_SERVICES)

    def ordered_services(self) -> list[Service]:
        """The chosen services in the order the request named them (a service may come twice)."""
        wanted = [v for v in self.data.getlist("s") if v]
        found = {str(s.pk): s for s in self.cleaned_data.get("s") or []}
        return [found[v] for v in wanted if v in found]

    def clean_chain(self) -> dict[str, Any] | None:
        value = self.cleaned_data.get("chain")
        if not value:
            return None
        chain = chain_unsign(value)
        if chain is None:
            raise django_forms.ValidationError(STALE_CHAIN)
        return chain

    @property
    def edit(self) -> tuple[str, Any] | None:
        """The one list edit asked for, if any."""
        for name in ("add", "up", "down", "remove"):
            value = self.cleaned_data.get(name)
            if value is not None:
                return name, value
        return None

    def first_error(self) -> str:
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return ""


def services_edited(services: list[Service], edit: tuple[str, Any]) -> tuple[list[Service], str]:
    """The list after one edit, and a message when the edit can't be made (the list unchanged)."""
    name, value = edit
    out = list(services)
    if name == "add":
        if len(out) >= Package.MAX_SERVICES:
            return services, f"A package has at most {Package.MAX_SERVICES} services."
        out.append(value)
        return out, ""
    index = value - 1
    if not 0 <= index < len(out):
        return services, "That service is no longer in the list."
    if name == "remove":
        out.pop(index)
    elif name == "up" and index > 0:
        out[index - 1], out[index] = out[index], out[index - 1]
    elif name == "down" and index < len(out) - 1:
        out[index + 1], out[index] = out[index], out[index + 1]
    return out, ""


class PackagePayMixin(forms.PayFieldMixin):
    """How the package is paid, chosen with the tap that books it (empty only when there is
    nothing to pay), and the chain of times it books (signed)."""

    chain = django_forms.CharField(error_messages={"required": "Choose a start time."})

    def clean_chain(self) -> dict[str, Any]:
        chain = chain_unsign(self.cleaned_data.get("chain") or "")
        if chain is None:
            raise django_forms.ValidationError(STALE_CHAIN)
        return chain


class PackageBookForm(PackagePayMixin, forms.DeskActionForm):
    """Book the package for a customer the desk knows."""

    contact = django_forms.ModelChoiceField(
        queryset=Contact.objects.all(),
        error_messages={"required": "Choose a customer.", "invalid_choice": "That customer no longer exists."},
    )


class PackageNewCustomerForm(PackagePayMixin, forms.CustomerForm):
    """A new customer and their package, in one form."""
