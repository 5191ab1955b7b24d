"""Sell a plan at the desk: find the customer (the mirror, then Wix), choose a plan, tap how they
paid — and, from a session, use the new plan for their visit at once. One service call,
``desk.plan_sale``; the worker tells Wix after the undo window. The desk's recent sales are listed
below with their Undo (within the window), and Retry / Remove when Wix refused one."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from bookings_app import forms, money, roles, selectors, wix
from bookings_app.models import BenefitBalance, Booking, Contact, DeskAction, Member, Session
from bookings_app.services import customers, desk, plans
from bookings_app.services.desk.payments import METHOD_LABELS
from bookings_app.services.errors import BookingError
from bookings_app.views.common import (
    INVALID,
    MAX_SEARCH_LENGTH,
    REFUSED,
    ROSTER_CHANGED,
    already_done,
    customer_hits,
    int_or_none,
    session_or_404,
    who,
)

# The regions the page swaps (a partial's name is the DOM id it replaces).
PARTS = ("sell-results", "sell-panel", "plan-sales", "sell-body")


@dataclass
class SaleHit:
    """A customer search hit, with their place on this session's roster (if any)."""

    hit: customers.CustomerHit
    visit: Booking | None = None

    @property
    def booked(self) -> bool:  # what includes/customer_hit.html shows as "Already on this roster"
        return self.visit is not None


@dataclass
class PlanChoice:
    offer: plans.PlanOffer
    covers_visit: bool | None  # None: no visit, or the mirror doesn't know the plan's coverage


@dataclass
class SaleView:
    """The "sell to this customer" panel."""

    contact: Contact
    member: Member | None
    choices: list[PlanChoice]
    visit: Booking | None
    visit_due: Decimal
    wix_unreachable: bool


@dataclass
class SaleLine:
    """One recent sale, as the list under the form shows it."""

    action: DeskAction
    visit: DeskAction | None
    undo_seconds: int
    balance: BenefitBalance | None = None  # the plan on the desk: its credits

    @property
    def method_label(self) -> str:
        return METHOD_LABELS.get(self.action.params.get("method") or "", "")

    @property
    def price(self) -> str:
        return money.format_money(self.action.params.get("price"), self.action.params.get("currency") or "")


@roles.require(roles.USE_FRONT_DESK)
@require_http_methods(["GET", "POST"])
def sell_plan(request: HttpRequest, ref: str | None = None) -> HttpResponse:
    """GET: find the customer as you type (?q=), pick them (?contact=) to see the plans. POST: sell
    the chosen plan, paid as tapped (and, with ``use_for_visit``, pay their visit with it)."""
    session = session_or_404(ref) if ref else None
    if request.method == "POST":
        return _sell(request, session)
    search = forms.CustomerSearchForm(request.GET)
    q = search.cleaned_data["q"] if search.is_valid() else ""
    contact = _contact_or_404(request.GET.get("contact")) if request.GET.get("contact") else None
    context = _context(request, session, q=q, contact=contact, ask_wix=True)
    response = TemplateResponse(request, _template(request), context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    if request.htmx and request.htmx.target == "plan-sales":
        # The list refreshes while a sale waits for Wix: the head count follows it there.
        trigger_client_event(response, ROSTER_CHANGED)
    return response


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def plan_sale_undo(request: HttpRequest, action_id: int) -> HttpResponse:
    """Undo a sale within its window: nothing reaches Wix, and the visit it paid goes too."""
    sale = _sale_or_404(action_id)
    try:
        desk.action_undo(user=request.user, action=sale)
    except BookingError as exc:
        return _sales_answer(request, error=exc.message, status=REFUSED)
    plan = sale.params.get("plan_name") or "the plan"
    customer = who(sale.contact) if sale.contact else "the customer"
    return _sales_answer(request, note=f"Undone: the sale of {plan} to {customer}.")


@roles.require(roles.USE_FRONT_DESK)
@require_POST
def plan_sale_resolve(request: HttpRequest, action_id: int) -> HttpResponse:
    """A sale Wix refused: send it again, or remove it (and the visit it was to pay)."""
    sale = _sale_or_404(action_id)
    form = forms.ResolveForm(request.POST)
    if not form.is_valid() or form.cleaned_data["choice"] not in ("retry", "remove"):
        return _sales_answer(request, error="Choose retry or remove.", status=INVALID)
    try:
        desk.action_resolve(user=request.user, action=sale, choice=form.cleaned_data["choice"])
    except BookingError as exc:
        return _sales_answer(request, error=exc.message, status=REFUSED)
    return _sales_answer(request)


# --- selling -------------------------------------------------------------------------------------


def _sell(request: HttpRequest, session: Session | None) -> HttpResponse:
    q = request.POST.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    contact = selectors.customer_get(contact_id=int_or_none(request.POST.get("contact")))
    if already_done(request):
        return _sold(request, session, message="")
    catalogue = _catalogue(ask_wix=True)
    form = forms.PlanSaleForm(request.POST, plan_ids=[o.plan_id for o in catalogue.offers])
    if not form.is_valid():
        return _refused(request, session, q=q, contact=contact, message=form.first_error(), status=INVALID)
    data = form.cleaned_data
    contact = data["contact"]
    offer = catalogue.get(data["plan"])
    assert offer is not None  # the form only accepts offered plans
    visit = None
    if data["use_for_visit"]:
        visit = selectors.visit_bookings(session=session, contact_ids=[contact.pk]).get(contact.pk) if session else None
        if visit is None:
            message = f"{who(contact)} has no place on this session to use the plan for."
            return _refused(request, session, q=q, contact=contact, message=message, status=INVALID)
    try:
        sale = desk.plan_sale(
            user=request.user,
            contact=contact,
            offer=offer,
            method=data["method"],
            idempotency_key=data["idempotency_key"],
            session=session,
            visit=visit,
        )
    except BookingError as exc:
        return _refused(request, session, q=q, contact=contact, message=exc.message, status=REFUSED)
    price = money.format_money(offer.price, offer.currency)
    message = f"Sold {offer.name} to {who(contact)} — took {price} {METHOD_LABELS[data['method']]}."
    if visit is not None:
        message += f" Their visit to {visit.service.name} is paid with it."
    return _sold(request, session, message=message, sale=sale)


def _sold(
    request: HttpRequest, session: Session | None, *, message: str, sale: DeskAction | None = None
) -> HttpResponse:
    """Ready for the next customer: the search cleared, the sale at the top of the list."""
    if not request.htmx:
        if message:
            messages.success(request, message)
        return redirect(_page_url(session))
    context = _context(request, session, q="", contact=None, ask_wix=False, sold_message=message)
    context["highlight"] = sale.pk if sale else None
    response = TemplateResponse(request, "desk/sell_plan.html#sell-body", context)
    trigger_client_event(response, ROSTER_CHANGED)  # a visit paid with the plan: the head count moves
    return response


def _refused(
    request: HttpRequest, session: Session | None, *, q: str, contact: Contact | None, message: str, status: int
) -> HttpResponse:
    if not request.htmx:
        messages.error(request, message)
        url = _page_url(session)
        return redirect(f"{url}?contact={contact.pk}" if contact else url)
    if contact is None:
        # The customer is gone (or was never sent): back to the search, the message above it.
        context = _context(request, session, q=q, contact=None, ask_wix=False, results_error=message)
        response = TemplateResponse(request, "desk/sell_plan.html#sell-results", context, status=status)
        return retarget(reswap(response, "outerHTML"), "#sell-results")
    context = _context(request, session, q=q, contact=contact, ask_wix=False, sale_error=message)
    response = TemplateResponse(request, "desk/sell_plan.html#sell-panel", context, status=status)
    return retarget(reswap(response, "outerHTML"), "#sell-panel")


# --- what the page shows -------------------------------------------------------------------------


def _context(
    request: HttpRequest, session: Session | None, *, q: str, contact: Contact | None, ask_wix: bool, **extra: Any
) -> dict[str, Any]:
    hits: list[SaleHit] = []
    wix_unreachable = ""  # or the note that says why the hits are only the mirror's
    if q and contact is None:
        found, wix_unreachable = customer_hits(q, ask_wix=ask_wix)
        visits = (
            selectors.visit_bookings(session=session, contact_ids=[h.contact.pk for h in found])
            if session is not None and found
            else {}
        )
        hits = [SaleHit(hit=h, visit=visits.get(h.contact.pk)) for h in found]
    return {
        "session": session,
        "q": q,
        "hits": hits,
        "wix_unreachable": wix_unreachable,
        "sale": _sale_view(session, contact, ask_wix=ask_wix) if contact is not None else None,
        **_sales_context(),
        "page_url": _page_url(session),
        **extra,
    }


def _sale_view(session: Session | None, contact: Contact, *, ask_wix: bool) -> SaleView:
    if ask_wix:
        with wix.get_wix_client(interactive=True) as client:
            member = plans.member_find(contact=contact, wix=client)
            catalogue = plans.plans_for_sale(wix=client) if member is not None else plans.PlanCatalogue()
    else:
        member = selectors.member_of(contact_id=contact.pk)
        catalogue = plans.plans_for_sale(wix=None) if member is not None else plans.PlanCatalogue()
    visit = selectors.visit_bookings(session=session, contact_ids=[contact.pk]).get(contact.pk) if session else None
    due = money.amount_due(visit) if visit is not None else Decimal("0")
    service_id = visit.service.wix_id if visit is not None else None
    return SaleView(
        contact=contact,
        member=member,
        choices=[PlanChoice(o, o.covers(service_id) if visit is not None else None) for o in catalogue.offers],
        visit=visit,
        visit_due=due,
        wix_unreachable=catalogue.wix_unreachable,
    )


def _sales_context() -> dict[str, Any]:
    """The recent sales, and whether one still waits for Wix (the list then refreshes itself)."""
    lines = _sales()
    waiting = any(line.action.status in (DeskAction.Status.QUEUED, DeskAction.Status.RUNNING) for line in lines)
    return {"sales": lines, "sales_waiting": waiting}


def _sales() -> list[SaleLine]:
    now = timezone.now()
    sales = selectors.plan_sales_recent()
    balances = selectors.plan_sale_balances(sales=sales)
    lines = []
    for action in sales:
        visits = [a for a in action.dependents.all() if a.kind == DeskAction.Kind.PLAN_CHARGE]
        left = int((action.run_after - now).total_seconds()) if action.can_undo(now=now) else 0
        lines.append(
            SaleLine(
                action=action,
                visit=visits[0] if visits else None,
                undo_seconds=max(left, 0),
                balance=balances.get(action.pk),
            )
        )
    return lines


def _sales_answer(request: HttpRequest, *, note: str = "", error: str = "", status: int = 200) -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        elif note:
            messages.success(request, note)
        return redirect(_back(request))
    context = {**_sales_context(), "sales_note": note, "sales_error": error, "page_url": _back(request)}
    response = TemplateResponse(request, "desk/sell_plan.html#plan-sales", context, status=status)
    if not error:
        trigger_client_event(response, ROSTER_CHANGED)  # a visit it paid is unpaid again
    return response


def _back(request: HttpRequest) -> str:
    """Where the sales list lives: the page the form came from (a path of ours), else the plain one."""
    back = request.POST.get("next") or ""
    return back if back.startswith("/") and not back.startswith("//") else reverse("desk_sell_plan")


def _catalogue(*, ask_wix: bool) -> plans.PlanCatalogue:
    if not ask_wix:
        return plans.plans_for_sale(wix=None)
    with wix.get_wix_client(interactive=True) as client:
        return plans.plans_for_sale(wix=client)


def _template(request: HttpRequest) -> str:
    target = request.htmx.target if request.htmx else None
    return f"desk/sell_plan.html#{target}" if target in PARTS else "desk/sell_plan.html"


def _page_url(session: Session | None) -> str:
    return reverse("desk_sell_plan_session", args=[session.ref]) if session else reverse("desk_sell_plan")


def _contact_or_404(value: str | None) -> Contact:
    contact = selectors.customer_get(contact_id=int_or_none(value))
    if contact is None:
        raise Http404("No such customer.")
    return contact


def _sale_or_404(action_id: int) -> DeskAction:
    sale = selectors.plan_sale_get(action_id=action_id)
    if sale is None:
        raise Http404("No such plan sale.")
    return sale
