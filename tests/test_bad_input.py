"""Property: no input makes a server error. Every URL of the app, GET and POST, with every query
parameter and form field its view reads filled with hostile text — NUL bytes, huge numbers, digits
that are not ASCII (``²``, ``١٢``), NaN, far dates, empty, 5,000 characters — answers below 500
(a clear 400/404/422, a page, a redirect).

Which fields a view reads is found out, not listed: a discovery pass requests each URL (as an
Admin: every permission) offering every field name the templates and forms know, while every
``QueryDict`` lookup is recorded, then offers what was read back (a choice can open more of the
form). Then, per URL: each path parameter hostile in turn (the rest real ids of a small synced
club); every field hostile at once, value by value; and ``FUZZ_EXAMPLES`` (default 8) random mixes
(hypothesis: each field plausible or hostile, any role — Front desk, Manager, Admin — htmx or
not, a query string on a POST).

Deterministic (``derandomize``), so CI stays green or red for a reason; ``FUZZ_EXAMPLES=200
FUZZ_RANDOM=1`` explores more. The request count is printed (``-s``). Run it on SQLite and on
PostgreSQL: a NUL byte is what PostgreSQL refuses.
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django import forms as django_forms
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, converters, get_resolver, reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bookings_app import models, roles
from bookings_app.converters import IdConverter
from tests import factories
from tests.services.conftest import add_appointments, add_course, build_world, key

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
PROPERTY = hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not os.environ.get("FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "%00",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "-1",
    "0",
    "1",
    "2",
    "9" * 25,
    "-" + "9" * 25,
    str(2**63),
    str(2**31),
    "²",
    "١٢",
    "٣",
    "１２",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "2026-11-21",
    "10000-01-01",
    "23:59",
    "25:99",
    "true",
    "on",
    "null",
    "[]",
    "{}",
    "../../etc/passwd",
    "//evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e\u0301",
    "x" * 5000,
]
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
    st.integers().map(str),
    st.dates().map(str),
)


# --- the routes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str
    pattern: URLPattern

    def kinds(self) -> dict[str, str]:
        return {
            name: "int" if isinstance(conv, converters.IntConverter | IdConverter) else "str"
            for name, conv in self.pattern.pattern.converters.items()
        }

    def url(self, values: dict[str, str]) -> str:
        """The path with ``values`` put in raw (percent-quoted), whatever the converter accepts."""
        marks = {
            name: f"9{i}0000000{i}9" if kind == "int" else f"MARK{i}"
            for i, (name, kind) in enumerate(self.kinds().items())
        }
        path = reverse(self.name, kwargs=marks)
        for name, mark in marks.items():
            path = path.replace(mark, quote(values[name], safe=""), 1)
        return path


def _walk(patterns: list) -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue  # Django's own admin site
            yield from _walk(entry.url_patterns)
        else:
            yield entry.name or "", entry


ROUTES = [Route(name, pattern) for name, pattern in _walk(get_resolver().url_patterns) if name != "logout"]


# --- a small club to point at ---------------------------------------------------------------------


@dataclass
class Club:
    ids: dict[str, list[str]]  # path parameter name → real values
    users: dict[str, Any]


def _club(staff_roles: None) -> Club:
    world = build_world()
    add_course(world)
    add_appointments(world)
    jo = world.customer("Jo", credits=3)
    world.online_booking(jo)
    world.mirror(jo)
    session = world.session()
    booking = models.Booking.objects.filter(session=session).first()
    contact = world.contact(jo)
    note = factories.CustomerNoteFactory(contact=contact)
    action = factories.DeskActionFactory(booking=booking, session=session, batch_id="batch-1")
    course = models.Service.objects.get(type=models.Service.Type.COURSE)
    course_session = models.Session.objects.filter(service=course).first()
    build = factories.CourseBuildFactory()
    imported = factories.CourseImportFactory()
    factories.ParticipantImportFactory(pk=imported.pk)  # one import_id for both imports' pages
    cancel = factories.CourseCancelFactory()
    package = factories.PackageFactory()
    ids = {
        "ref": [session.wix_id, str(session.pk)],
        "booking_id": [str(booking.pk)],
        "action_id": [str(action.pk)],
        "batch_id": ["batch-1"],
        "pk": [str(package.pk)],
        "contact_id": [str(contact.pk)],
        "note_id": [str(note.pk)],
        "build_id": [str(build.pk)],
        "import_id": [str(imported.pk)],
        "service_id": [str(course.pk)],
        "session_id": [str(course_session.pk)],
        "cancel_id": [str(cancel.pk)],
    }
    users = {role: factories.UserFactory(username=f"fuzz-{i}", roles=[role]) for i, role in enumerate(roles.ROLES)}
    ids["user_id"] = [str(users[roles.FRONT_DESK].pk)]
    ids["job_id"] = [str(factories.ExportJobFactory(created_by=users[roles.ADMIN]).pk)]
    return Club(ids=ids, users=users)


# --- which fields each view reads -----------------------------------------------------------------

_reads: set[str] | None = None
_LOOKUPS = ("__getitem__", "get", "getlist", "__contains__")


@pytest.fixture
def recorded_reads(monkeypatch) -> Iterator[set[str]]:
    """Every key looked up in any ``QueryDict`` (request.GET, request.POST) while active."""
    global _reads
    _reads = set()

    def recording(name: str) -> Any:
        original = getattr(MultiValueDict, name)

        def lookup(self: MultiValueDict, k: Any, *args: Any) -> Any:
            # A lookup made by items() / dict() / urlencode() walks every key: it reads none.
            bulk = sys._getframe(1).f_code.co_name in ("items", "values", "lists", "dict", "urlencode", "copy")
            if _reads is not None and not bulk and isinstance(self, QueryDict) and isinstance(k, str):
                _reads.add(k)
            return original(self, k, *args)

        return lookup

    for name in _LOOKUPS:
        monkeypatch.setattr(MultiValueDict, name, recording(name))
    try:
        yield _reads
    finally:
        _reads = None


def _plausible(field: str, club: Club) -> str:
    if field.endswith("TOTAL_FORMS"):
        return "2"
    if field.endswith(("INITIAL_FORMS", "MIN_NUM_FORMS")):
        return "0"
    if field.endswith("MAX_NUM_FORMS"):
        return "1000"
    if "date" in field or field in ("day", "week", "first", "last", "from"):
        return str(timezone.localdate() + timedelta(days=1))
    if field in ("start", "end"):
        return "17:00" if field == "start" else "18:00"
    if field == "idempotency_key":
        return key("fuzz")
    return club.ids.get(field, ["1"])[0]


def _seeds() -> set[str]:
    """Field names to offer every view first: a view binds its form only when it gets data."""
    names = {
        match
        for template in (settings.BASE_DIR / "templates").rglob("*.html")
        for match in re.findall(r'name="([A-Za-z_][\w-]*)"', template.read_text())
    }
    stack: list[type] = [django_forms.BaseForm]
    while stack:
        form = stack.pop()
        stack.extend(form.__subclasses__())
        if form.__module__.startswith("bookings_app"):
            names |= set(getattr(form, "base_fields", {}))
    return names


@dataclass
class Reads:
    fields: dict[str, set[str]]  # route name → the query/form keys its view read
    methods: dict[str, list[str]]  # route name → the methods it answers (not 405)


def _discover(club: Club, reads: set[str]) -> Reads:
    client = Client(raise_request_exception=False)  # the property below reports errors, not this pass
    client.force_login(club.users[roles.ADMIN])
    found = Reads(fields=defaultdict(set), methods=defaultdict(list))
    seeds = _seeds()
    for route in ROUTES:
        path = route.url({name: club.ids[name][0] for name in route.kinds()})
        fields = found.fields[route.name]
        for method in ("get", "post"):
            for offered in (seeds, fields):  # what it read, offered back, may open more
                reads.clear()
                response = getattr(client, method)(path, {f: _plausible(f, club) for f in offered})
                fields |= {r for r in reads if not r.startswith("csrf")}
            if response.status_code != 405:
                found.methods[route.name].append(method)
    return found


# --- the property ---------------------------------------------------------------------------------

# What a path parameter gets besides a real id: an int converter only lets ASCII digits through
# (anything else is the resolver's 404), so its view sees at most huge numbers.
PATH_INT = ["0", "9" * 25, str(2**63), "²"]
PATH_STR = ["\x00", "²", "١٢", "9" * 25, "NaN", "x" * 300, "-1", "%"]
# Every field at once: the first thing each view does with its input.
EVERY_FIELD = ["\x00", "", "²", "١٢", "9" * 25, "NaN", "9999-12-31", "x" * 5000]


@dataclass
class Fuzz:
    client: Client
    club: Club
    count: int = 0
    failures: dict[tuple[str, str], str] = field(default_factory=dict)  # (route, error) → the request

    def send(self, route: Route, method: str, path: str, data: dict[str, Any], *, role: str = roles.ADMIN, htmx=False):
        """One request; a server error is noted (one per route and kind of error) and the walk goes on."""
        self.client.force_login(self.club.users[role])
        self.count += 1
        try:
            response = getattr(self.client, method)(path, data, headers={"HX-Request": "true"} if htmx else {})
        except Exception as exc:  # noqa: BLE001 - every error is reported at the end
            error = f"{type(exc).__name__}: {str(exc)[:120]}"
        else:
            if response.status_code < 500:
                return
            error = f"HTTP {response.status_code}"
        shown = {k: (v if not isinstance(v, str) or len(v) < 40 else v[:40] + "…") for k, v in data.items()}
        self.failures.setdefault((route.name, error), f"{role} {method.upper()} {path} {shown}")

    def real_path(self, route: Route, **given: str) -> str:
        return route.url({name: given.get(name, self.club.ids[name][0]) for name in route.kinds()})


@pytest.fixture
def club(db: None, staff_roles: None) -> Club:
    return _club(staff_roles)


@pytest.fixture
def reads(club: Club, recorded_reads: set[str]) -> Reads:
    return _discover(club, recorded_reads)


def _value(draw: Any, field: str) -> Any:
    if field == "file":
        data = draw(st.one_of(st.binary(max_size=200), st.text(max_size=50).map(str.encode)))
        return SimpleUploadedFile(draw(st.sampled_from(["t.csv", "t.xlsx", "t", "t\x00.csv"])), data)
    return draw(VALUES)


def _mixes(fuzz: Fuzz, route: Route, fields: list[str], methods: list[str]) -> None:
    """Random mixes: each field plausible or hostile, path parameters real or hostile, any role,
    htmx or not, POSTs with a query string too."""

    @PROPERTY
    @given(data=st.data())
    def answered_below_500(data: Any) -> None:
        draw = data.draw
        path = route.url(
            {
                name: draw(
                    st.one_of(st.sampled_from(fuzz.club.ids[name]), st.sampled_from(PATH_STR), VALUES.filter(bool))
                )
                for name in route.kinds()
            }
        )
        chosen = sorted(draw(st.sets(st.sampled_from(fields)))) if fields else []
        params = {f: _value(draw, f) if draw(st.booleans()) else _plausible(f, fuzz.club) for f in chosen}
        method = draw(st.sampled_from(methods))
        if method == "get":
            params.pop("file", None)
        elif chosen and draw(st.booleans()):
            path += "?" + "&".join(f"{quote(k)}={quote(draw(VALUES))}" for k in chosen if k != "file")
        role = draw(st.sampled_from(list(roles.ROLES)))
        fuzz.send(route, method, path, params, role=role, htmx=draw(st.booleans()))

    answered_below_500()


def test_no_input_makes_a_server_error(client: Client, club: Club, reads: Reads) -> None:
    fuzz = Fuzz(client, club)
    for route in ROUTES:
        methods = reads.methods[route.name] or ["get"]
        fields = sorted(reads.fields[route.name] | {"next"})
        for method in methods:
            for name, kind in route.kinds().items():  # each path parameter hostile, the rest real
                for value in PATH_INT if kind == "int" else PATH_STR:
                    fuzz.send(route, method, fuzz.real_path(route, **{name: value}), {})
            for value in EVERY_FIELD:  # every field the view reads hostile at once
                fuzz.send(route, method, fuzz.real_path(route), {f: value for f in fields if f != "file"})
        _mixes(fuzz, route, fields, methods)
    print(f"\nbad-input fuzz: {fuzz.count} requests over {len(ROUTES)} URLs, {len(fuzz.failures)} server errors")  # noqa: T201
    assert not fuzz.failures, "\n".join(
        f"{route}: {error}\n    {request}" for (route, error), request in fuzz.failures.items()
    )
    assert fuzz.count > len(ROUTES) * EXAMPLES


def test_discovery_finds_the_fields_views_read(reads: Reads) -> None:
    """The discovery pass is what makes the property cover forms: it must see their fields."""
    assert {"date", "service", "staff"} <= reads.fields["today"]
    assert {"idempotency_key", "method"} <= reads.fields["desk_pay"]
    assert {"slot-0-weekday", "exclusion-0-first", "first_date"} <= reads.fields["course_new"]
    assert "file" in reads.fields["course_import"]
    assert reads.methods["desk_pay"] == ["post"] and reads.methods["today"] == ["get"]
