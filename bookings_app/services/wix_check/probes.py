"""The read-only half of the check: credentials, installed apps, and every Wix operation the app
uses — reachable with these permissions? — without changing anything.

Reads are sent with a limit of 1. Writes are sent deliberately invalid (a required field
missing, quantity 0, a made-up id, the same booking twice) so that Wix must refuse them: a
400 (or a 404 naming the made-up entity) proves the route exists and the key may call it, a 403
means a missing permission, a plain 404 a missing route (CONTRACT.md §1, §2). Also settles two
questions a read can answer: what an unrouted path answers, and whether an unsupported filter
field is refused or ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bookings_app.wix import WixClient, WixError, WixPermissionDenied, WixUnauthenticated, services

from .operations import PROBES, Probe, ProbeContext
from .outcome import (
    Answer,
    Check,
    CheckReport,
    Leftover,
    Status,
    Unrouted,
    describe,
    judge_error,
    not_installed,
    refused_as_asked,
    route_missing,
)

ACCESS = "Access"
APPS = "Apps"
OPERATIONS = "Operations the app uses"

UNROUTED_PATH = "/front-desk-wix-check/v1/no-such-endpoint"
NO_SUCH_FIELD = "frontDeskWixCheckNoSuchField"


@dataclass
class ProbeRun:
    """What the read-only half found, for the write half and the summary."""

    access_ok: bool = False
    outcomes: dict[str, dict[str, Any] | WixError] = field(default_factory=dict)
    unrouted: Unrouted | None = None


def run_probes(wix: WixClient, report: CheckReport, *, time_zone: str, today: date) -> ProbeRun:
    """Credentials, apps, every operation, and the read-only questions; adds lines to ``report``."""
    run = ProbeRun()
    context = ProbeContext(time_zone=time_zone, today=today)
    first = next(p for p in PROBES if p.name == "Query Services")  # the cheapest call every site answers
    run.outcomes[first.name] = _send(first, wix, context)
    if isinstance(run.outcomes[first.name], WixUnauthenticated):
        err = run.outcomes[first.name]
        assert isinstance(err, WixError)
        status, meaning, todo = judge_error(err, unrouted=None, permission="", area="")
        report.add(Check(ACCESS, "API key and site id", status, meaning, todo))
        report.notes.append("Stopped after the first call: without a key Wix accepts, nothing else can be checked.")
        return run
    context.appointment_service_id = _appointment_service(wix, run.outcomes[first.name])
    run.unrouted = unrouted_path(wix, report)
    for probe in PROBES:
        if probe.name not in run.outcomes:
            run.outcomes[probe.name] = _send(probe, wix, context)
    run.access_ok = _access(report, run)
    if not run.access_ok:
        return run
    _apps(report, run)
    for probe in PROBES:
        report.add(_judge(probe, run.outcomes[probe.name], run.unrouted, report))
    unsupported_filter(wix, report)
    return run


def _send(probe: Probe, wix: WixClient, context: ProbeContext) -> dict[str, Any] | WixError:
    try:
        return probe.send(wix, context)
    except WixError as err:
        return err


def _appointment_service(wix: WixClient, services_answer: dict[str, Any] | WixError) -> str | None:
    """An appointment service to ask for free slots (a made-up one when there is none)."""
    if isinstance(services_answer, WixError):
        return None
    try:
        found = services.query_services(wix, query={"filter": {"type": "APPOINTMENT"}, "paging": {"limit": 1}})
    except WixError:
        return None
    return next((s.get("id") for s in found.get("services") or [] if s.get("type") == "APPOINTMENT"), None)


def _access(report: CheckReport, run: ProbeRun) -> bool:
    """Did Wix let these credentials in for this site? Yes as soon as one call got past the key."""
    name = "API key and site id"
    answers = list(run.outcomes.values())
    # A path Wix has no route for may answer 404 before it looks at the key: leave those out.
    errors = [a for a in answers if isinstance(a, WixError) and not route_missing(a, run.unrouted)]
    answered = any(not isinstance(a, WixError) for a in answers)
    # Refusals got past the key too — unless every call got the very same one (a bad token, say).
    refused = any(_got_in(a, run.unrouted) for a in errors) and len({(a.status, a.code) for a in errors}) > 1
    if answered or refused:
        report.add(Check(ACCESS, name, Status.OK, "Wix accepted the credentials for this site."))
        return True
    if errors and all(isinstance(a, WixPermissionDenied) for a in errors):
        report.add(
            Check(
                ACCESS,
                name,
                Status.WRONG_SITE,
                "Every call answered 403: the site id is wrong, or the key has no permissions at all.",
                "Check WIX_SITE_ID (the id after /dashboard/ in the site's dashboard address) and that the key "
                "belongs to the account that owns the site and has the permissions listed in the README.",
            )
        )
    elif errors and all(a.status is None or a.status >= 500 or a.status == 429 for a in errors):
        report.add(
            Check(
                ACCESS,
                name,
                Status.NO_ANSWER,
                f"Wix could not be reached ({describe(errors[0])}).",
                "Check the network (and WIX_BASE_URL if set), then run the check again.",
            )
        )
    else:
        first = errors[0] if errors else None
        status, meaning, _ = (
            judge_error(first, unrouted=run.unrouted, permission="", area="")
            if first is not None
            else (Status.UNEXPECTED, "no call got an answer.", "")
        )
        todo = "Check the credentials: WIX_API_KEY and WIX_SITE_ID (or the Wix-app ones), then run it again."
        report.add(Check(ACCESS, name, status, f"Wix refused every call — {meaning}", todo))
    return False


def _got_in(outcome: dict[str, Any] | WixError, unrouted: Unrouted | None) -> bool:
    """The call got past the key and the site: an answer, or a refusal of the request itself."""
    if not isinstance(outcome, WixError):
        return True
    return refused_as_asked(outcome, unrouted) or not_installed(outcome)


# (name, the probe that proves it, what breaks without it)
_APPS = (
    ("Wix Bookings", "Query Services", "nothing works without it"),
    ("Wix eCommerce", "Search Orders", "payments are recorded on eCommerce orders"),
    ("Wix Pricing Plans", "List Pricing Plan Orders", "plans and their credits need it"),
)


def _apps(report: CheckReport, run: ProbeRun) -> None:
    for app, probe_name, why in _APPS:
        outcome = run.outcomes[probe_name]
        if not isinstance(outcome, WixError):
            report.add(Check(APPS, app, Status.OK, f"installed ({probe_name} answered)."))
            continue
        probe = next(p for p in PROBES if p.name == probe_name)
        status, meaning, todo = judge_error(outcome, unrouted=run.unrouted, permission=probe.permission, area=app)
        if status in (Status.NOT_INSTALLED, Status.ROUTE_MISSING):
            report.add(
                Check(
                    APPS,
                    app,
                    Status.NOT_INSTALLED,
                    f"not installed on the site ({describe(outcome)}); {why}.",
                    f"Install {app} from the Wix App Market, then run the check again.",
                )
            )
        else:
            report.add(
                Check(APPS, app, Status.UNKNOWN, f"could not tell: {probe_name} failed (see below).", required=False)
            )


def _judge(probe: Probe, outcome: dict[str, Any] | WixError, unrouted: Unrouted | None, report: CheckReport) -> Check:
    if isinstance(outcome, WixError):
        if probe.kind != "read" and refused_as_asked(outcome, unrouted):
            what = "the test request" if probe.kind == "write" else "a made-up id"
            return Check(OPERATIONS, probe.name, Status.OK, f"reachable (refused {what}: {describe(outcome)}).")
        status, meaning, todo = judge_error(outcome, unrouted=unrouted, permission=probe.permission, area=probe.area)
        return Check(OPERATIONS, probe.name, status, meaning, todo)
    if probe.kind != "write":
        return Check(OPERATIONS, probe.name, Status.OK, "reachable.")
    made = _made_by_mistake(outcome)
    if not made:
        return Check(OPERATIONS, probe.name, Status.OK, "reachable (refused the test request item by item).")
    for wix_id in made:
        report.leftovers.append(
            Leftover(f"made by the {probe.name} test request", wix_id, "Delete or cancel it in the Wix dashboard.")
        )
    return Check(
        OPERATIONS,
        probe.name,
        Status.UNEXPECTED,
        "reachable, but Wix accepted a request the check sent invalid on purpose.",
        "Tell the developers: the check's test request for it must be changed.",
    )


def _made_by_mistake(answer: dict[str, Any]) -> list[str]:
    """Ids of anything a refused-on-purpose write made all the same."""
    metadata = answer.get("bulkActionMetadata")
    if isinstance(metadata, dict):
        made = [
            (r.get("itemMetadata") or {}).get("id") or "(no id)"
            for r in answer.get("results") or []
            if (r.get("itemMetadata") or {}).get("success")
        ]
        return made
    for key in ("cart", "booking", "contact", "order", "event"):
        if isinstance(answer.get(key), dict):
            return [answer[key].get("id") or "(no id)"]
    return [answer.get("orderId") or answer.get("transactionId") or "(unknown)"]


# -- the questions a read settles ------------------------------------------------------------


def unrouted_path(wix: WixClient, report: CheckReport) -> Unrouted | None:
    """What Wix answers for a path it has no route for (so a missing route is recognised)."""
    try:
        wix.request("POST", UNROUTED_PATH, json={}, idempotent=True)
    except WixError as err:
        if err.status is None:
            return None
        found = Unrouted(err.status, err.code)
        report.answer(
            Answer(
                "What does Wix answer for a path it has no route for?",
                f"HTTP {err.status} {err.code}",
                key="unrouted_path_status",
                value=err.status,
                detail=f"POST {UNROUTED_PATH} answered {describe(err)}",
            )
        )
        return found
    report.answer(
        Answer(
            "What does Wix answer for a path it has no route for?",
            "HTTP 200 (!) — Wix answered an unrouted path as if it existed",
            key="unrouted_path_status",
            value=200,
            detail=f"POST {UNROUTED_PATH} answered 200",
        )
    )
    return Unrouted(200, "")


def unsupported_filter(wix: WixClient, report: CheckReport) -> None:
    """Is a filter on a field Wix does not support refused (400) or silently ignored?"""
    question = "Does Wix refuse a filter on a field it does not support, or ignore it?"
    try:
        answer = services.query_services(wix, query={"filter": {NO_SUCH_FIELD: "wix-check"}, "paging": {"limit": 1}})
    except WixError as err:
        if err.status == 400:
            report.answer(
                Answer(
                    question,
                    f"refused with {describe(err)}",
                    key="unsupported_filter",
                    value="400",
                    detail=f"Query Services filtered on {NO_SUCH_FIELD}",
                )
            )
        else:
            report.unsettled.append(f"{question} — Query Services answered {describe(err)}.")
        return
    if answer.get("services"):
        report.answer(
            Answer(
                question,
                "ignored: the query answered as if there were no filter",
                key="unsupported_filter",
                value="ignored",
                detail=f"Query Services filtered on {NO_SUCH_FIELD} still returned services",
            )
        )
        return
    try:
        any_service = services.query_services(wix, query={"paging": {"limit": 1}}).get("services")
    except WixError:
        any_service = None
    if any_service:
        report.answer(
            Answer(
                question,
                "accepted, and nothing matched (Wix filtered on a field no service has)",
                key="unsupported_filter",
                value="no_match",
                detail=f"Query Services filtered on {NO_SUCH_FIELD} returned nothing; unfiltered it returns services",
            )
        )
    else:
        report.unsettled.append(f"{question} — the site has no services yet, so the answer could not be told.")
