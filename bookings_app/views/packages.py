"""Multi-service packages at the front desk: "Book a package" (services in order → a day and a
start time Wix offers for all of them back to back → the customer → pay once), and a package's
page (its bookings and state, "Cancel package", "Retry" after Wix refused it).

One screen state per URL (?s=<service>&s=…&day=&chain=&q=); the list of services is edited with
buttons that need no script (add, up, down, remove: a GET that answers with the new list's URL).
Booking is one POST: ``desk.package_book``, after Wix is asked once more whether the times are
still free (the interactive client's short timeout; when Wix can't say, the worker asks again)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from bookings_app import forms, money, roles, selectors, wix
from bookings_app.models import DeskAction, Package, Service
from bookings_app.services import customers, desk, package_slots
from bookings_app.services.errors import BookingError
from bookings_app.views import package_form
from bookings_app.views.common import INVALID, MAX_PK, REFUSED, customer_hits

TEMPLATE = "desk/package.html"
CUSTOMERS_ID = "package-customers"
FORBIDDEN = 403
# Refusals about the package's shape: the request is wrong (422), not a business "no" (409).
SHAPE_CODES = ("package_size", "package_gap", "package_locations", "package_service", "package_invalid")
PAID_WORDS = {"CASH": "paid cash", "CARD": "paid by card", "CHECK": "paid by cheque", "PLAN": "charged to their plan"}


@dataclass
class ChainPart:
    position: int
    name: str
    start: datetime
    end: datetime
    staff: str
    price: Decimal | None


@dataclass
class ChainChoice:
    """One start time on offer (or the chosen one): its token and its services' times."""

    token: str
    parts: list[ChainPart] = field(default_factory=list)
    location_name: str = ""

    @property
    def start(self) -> datetime:
        return self.parts[0].start

    @property
    def end(self) -> datetime:
        return self.parts[-1].end

    @property
    def label(self) -> str:
        return f"{timezone.localtime(self.start):%H:%M}"


def _choice(chain: dict[str, Any], services: dict[int, Service]) -> ChainChoice | None:
    zone = timezone.get_default_timezone()
    parts: list[ChainPart] = []
    for position, item in enumerate(chain.get("items") or [], start=1):
        service = services.get(item.get("service"))
        try:
            start = datetime.fromisoformat(str(item.get("start"))[:19]).replace(tzinfo=zone)
            end = datetime.fromisoformat(str(item.get("end"))[:19]).replace(tzinfo=zone)
        except ValueError:
            return None
        parts.append(
            ChainPart(
                position=position,
                name=service.name if service else "?",
                start=start,
                end=end,
                staff=str(item.get("staff_name") or ""),
                price=service.price if service else None,
            )
        )
    if not parts:
        return None
    location = chain.get("location") or {}
    return ChainChoice(token=package_form.chain_sign(chain), parts=parts, location_name=str(location.get("name") or ""))


def page_url(services: list[Service], *, day: date | None = None, **extra: str) -> str:
    query: list[tuple[str, Any]] = [("s", s.pk) for s in services]
    if day is not None:
        query.append(("day", day.isoformat()))
    query += [(k, v) for k, v in extra.items() if v]
    return f"{reverse('package_new')}?{urlencode(query)}" if query else reverse("package_new")


def _totals(services: list[Service]) -> tuple[Decimal, int | None, str]:
    total = sum((s.price or Decimal("0") for s in services), Decimal("0"))
    minutes = [package_slots.session_minutes(s) for s in services]
    length = sum(m for m in minutes if m) if all(minutes) else None
    currency = next((s.currency for s in services if s.currency), "")
    return total, length, currency


@dataclass
class HitChoice:
    hit: customers.CustomerHit
    plans: list[Any]


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def package_new(request: HttpRequest) -> HttpResponse:
    """Book a package: ?s= (the services, in order; add/up/down/remove edit the list), ?day=,
    ?chain= (a start time Wix offered), ?q= (the customer search); POST books it and takes the
    payment chosen in the same tap."""
    source = request.POST if request.method == "POST" else request.GET
    steps = package_form.PackageStepForm(source)
    status = 200
    valid = steps.is_valid()
    data = steps.cleaned_data if valid else {}
    services = steps.ordered_services() if valid else []
    day: date = data.get("day") or timezone.localdate()
    if request.method == "GET" and valid and steps.edit is not None:
        services, problem = package_form.services_edited(services, steps.edit)
        if problem:
            messages.error(request, problem)
        return redirect(page_url(services, day=day if data.get("day") else None))
    if not valid:
        status = INVALID
    chain: dict[str, Any] | None = data.get("chain")
    context = _context(request, services=services, day=day, q=(data.get("q") or "").strip(), steps=steps)
    if chain is not None:
        try:
            read = desk.package_chain_read(chain)
        except BookingError as exc:
            context["chain_error"], status, chain = exc.message, INVALID, None
        else:
            if [s.pk for s in read.services] != [s.pk for s in services]:
                context["chain_error"] = "The services changed: pick a start time again."
                chain = None
            else:
                context["chosen"] = _choice(chain, {s.pk: s for s in services})
                context["chosen_read"] = read
    if request.method == "POST":
        if chain is None:
            status = INVALID
            context.setdefault("book_error", steps.first_error() or "Choose a start time.")
        else:
            result = _book(request, chain=chain, context=context)
            if isinstance(result, HttpResponse):
                return result
            status = result
            if status == REFUSED and context.get("taken"):
                context.pop("chosen", None)
                chain = None
    if len(services) >= 2 and chain is None:
        _offer(context, services=services, day=day)
    if chain is not None:
        hits, unreachable = customer_hits(context["q"], ask_wix=request.method == "GET")
        context.setdefault(
            "hits", [HitChoice(hit=h, plans=desk.plans_covering(list(h.balances), services)) for h in hits]
        )
        context["wix_unreachable"] = unreachable
    template = TEMPLATE
    if request.htmx and request.method == "GET" and request.htmx.target == CUSTOMERS_ID:
        template = f"{TEMPLATE}#{CUSTOMERS_ID}"
    response = TemplateResponse(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _context(request: HttpRequest, *, services: list[Service], day: date, q: str, steps: Any) -> dict[str, Any]:
    total, length, currency = _totals(services)
    prev_day, next_day = forms.day_neighbours(day)
    service_list = selectors.appointment_service_list()
    for service in (*service_list, *services):
        service.minutes = package_slots.session_minutes(service)  # type: ignore[attr-defined]
    return {
        "steps": steps,
        "services": services,
        "service_list": service_list,
        "can_add": len(services) < Package.MAX_SERVICES,
        "enough": len(services) >= Package.MIN_SERVICES,
        "max_services": Package.MAX_SERVICES,
        "total": total,
        "length": length,
        "currency": currency,
        "day": day,
        "prev_day": prev_day,
        "next_day": next_day,
        "is_today": day == timezone.localdate(),
        "q": q,
        "base_url": page_url(services, day=day),
        "recent": selectors.packages_recent() if not services else [],
    }


def _offer(context: dict[str, Any], *, services: list[Service], day: date) -> None:
    """The start times Wix offers on ``day`` (asked with the interactive client: a bounded wait)."""
    try:
        with wix.get_wix_client(interactive=True) as client:
            chains = desk.package_chains(wix=client, services=services, day=day)
    except BookingError as exc:
        context["chains_error"] = exc.message
        chains = []
    by_pk = {s.pk: s for s in services}
    context["choices"] = [c for c in (_choice(chain, by_pk) for chain in chains) if c is not None]
    # Services given at more than one common place: each start time says where.
    context["several_places"] = len({c.location_name for c in context["choices"]}) > 1


def _book(request: HttpRequest, *, chain: dict[str, Any], context: dict[str, Any]) -> HttpResponse | int:
    """Book the chosen start time for the customer the form names (or describes); a response, or
    the error status with what went wrong in ``context``."""
    is_new = "first_name" in request.POST
    form: package_form.PackageBookForm | package_form.PackageNewCustomerForm
    form = package_form.PackageNewCustomerForm(request.POST) if is_new else package_form.PackageBookForm(request.POST)
    if is_new:
        context["customer_form"] = form
    if not form.is_valid():
        if not is_new:
            context["book_error"] = form.first_error()
        return INVALID
    data = form.cleaned_data
    key = data["idempotency_key"]
    done = selectors.desk_action_by_key(key=key)
    if done is None or done.kind != DeskAction.Kind.PACKAGE:
        # Once more, is it still free in Wix? (A re-sent form skips this: it booked already.)
        with wix.get_wix_client(interactive=True) as client:
            free = desk.package_chain_check(wix=client, chain=chain)
        if free is False:
            context["taken"] = True
            context["chains_error"] = "That start time was just taken in Wix — pick another one."
            return REFUSED
    new_customer = None
    if is_new:
        new_customer = customers.NewCustomer(
            first_name=data["first_name"], last_name=data["last_name"], email=data["email"], phone=data["phone"]
        )
    try:
        package = desk.package_book(
            user=request.user,
            contact=None if is_new else data["contact"],
            new_customer=new_customer,
            chain=chain,
            pay=data["pay"],
            balance=data.get("balance"),
            idempotency_key=key,
        )
    except BookingError as exc:
        if exc.code in SHAPE_CODES:
            context["chain_error"] = exc.message
            return INVALID
        if exc.code == "slot_taken":
            context["taken"] = True
            context["chains_error"] = exc.message
            return REFUSED
        if is_new and exc.code in ("contact_invalid", "contact_duplicate"):
            form.add_error("email" if exc.code == "contact_duplicate" else None, exc.message)
            return INVALID
        context["book_error"] = exc.message
        return REFUSED
    paid = PAID_WORDS.get(package.pay) or ("pays later" if package.pay == "LATER" else "nothing to pay")
    amount = money.format_money(package.total, package.currency)
    messages.success(request, f"Booked {package.contact}'s package of {package.items.count()} — {paid} {amount}.")
    return redirect("package", pk=package.pk)


# --- a package's page --------------------------------------------------------------------------------


def _package_or_404(pk: int) -> selectors.PackageRead:
    read = selectors.package_read(pk=pk) if pk <= MAX_PK else None
    if read is None:
        raise Http404("No such package.")
    return read


def _detail(request: HttpRequest, read: selectors.PackageRead, *, status: int = 200, **extra: Any) -> HttpResponse:
    package = read.package
    context = {
        "read": read,
        "package": package,
        "items": read.items,
        "cancel_refusal": desk.package_cancel_refusal(user=request.user, package=package),
        "paid_words": PAID_WORDS.get(package.pay) or ("Pay later" if package.pay == "LATER" else "Nothing to pay"),
        **extra,
    }
    return TemplateResponse(request, "desk/package_detail.html", context, status=status)


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET"])
def package_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A package: its bookings in order (each linking to its session's roster), its state with
    Wix, what it cost and how it was paid; cancel it, or send it again after Wix refused it."""
    return _detail(request, _package_or_404(pk))


def _back(request: HttpRequest, pk: int) -> HttpResponse:
    if request.htmx:
        return HttpResponseClientRedirect(reverse("package", args=[pk]))
    return redirect("package", pk=pk)


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def package_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel the whole package (Cancel Multi-Service Booking): 403 when this user may not."""
    read = _package_or_404(pk)
    form = forms.DeskActionForm(request.POST)
    if not form.is_valid():
        return _detail(request, read, status=INVALID, cancel_error=form.first_error())
    try:
        desk.package_cancel(
            user=request.user, package=read.package, idempotency_key=form.cleaned_data["idempotency_key"]
        )
    except BookingError as exc:
        status = FORBIDDEN if exc.code == "forbidden" else REFUSED
        return _detail(request, _package_or_404(pk), status=status, cancel_error=exc.message)
    messages.success(request, f"Cancelled {read.package.contact}'s package: its times are free again.")
    return _back(request, pk)


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def package_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a package Wix refused again (after fixing things in Wix)."""
    read = _package_or_404(pk)
    try:
        desk.package_retry(user=request.user, package=read.package)
    except BookingError as exc:
        return _detail(request, read, status=REFUSED, cancel_error=exc.message)
    messages.success(request, "Sent to Wix again.")
    return _back(request, pk)
