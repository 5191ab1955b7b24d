"""The Django template engine lets a render's context go once the page is drawn
(``backoffice/template_backend.py``): what a page was drawn from is freed by reference counting,
not left in a cycle for the garbage collector."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from backoffice.template_backend import DjangoTemplates


class Row:
    """Something a view hands its template (weakly referenceable, unlike a dict)."""

    name = "Ada"


@pytest.fixture
def collector_off() -> Iterator[None]:
    """The cycle collector off: only reference counting frees anything meanwhile."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _freed_after(render: object, *, shown: bool = True) -> bool:
    row = Row()
    gone = weakref.ref(row)
    html = render(row)  # type: ignore[operator]
    assert ("Ada" in html) is shown
    del row, html
    return gone() is None


def test_the_engine_is_ours_under_its_usual_name() -> None:
    assert isinstance(engines["django"], DjangoTemplates)


@pytest.mark.usefixtures("collector_off")
def test_a_page_with_a_request_frees_what_it_was_drawn_from() -> None:
    request = RequestFactory().get("/")
    template = engines["django"].from_string("{% for r in rows %}{{ r.name }}{% endfor %}{% with x=1 %}{% endwith %}")
    assert _freed_after(lambda row: template.render({"rows": [row]}, request=request))


@pytest.mark.usefixtures("collector_off")
def test_a_file_template_rendered_by_name_frees_it_too() -> None:
    # A real template of the app, with includes and blocks: the 404 page extends the base layout.
    request = RequestFactory().get("/")
    page = lambda row: render_to_string("404.html", {"row": row}, request=request)  # noqa: E731
    assert _freed_after(page, shown=False)


@pytest.mark.usefixtures("collector_off")
def test_djangos_own_engine_would_have_kept_it_in_a_cycle() -> None:
    """What the engine mends: the same render through Django's own backend is not freed until
    the collector runs (if Django breaks the cycle itself one day, this fails, and the engine
    can go)."""
    from django.template.backends.django import Template as DjangosTemplate

    ours = engines["django"].from_string("{{ rows.0.name }}")
    djangos = DjangosTemplate(ours.template, engines["django"])
    assert not _freed_after(lambda row: djangos.render({"rows": [row]}, request=RequestFactory().get("/")))
    gc.enable()
    gc.collect()


def test_the_test_clients_context_is_still_there(client, django_user_model) -> None:  # type: ignore[no-untyped-def]
    """The test client copies the context while rendering, so tests that read
    ``response.context`` still can."""
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "form" in response.context
