"""Django's template engine, with each render's context let go as soon as the page is drawn.

Django's ``Context`` and the ``ContextDict`` it pushes for the view's data point at each other
(``ContextDict.context`` ↔ ``Context.dicts``), so after a render everything the page was drawn
from — a report's sessions and figures, the owes printout's thousands of rows, the roster's rows
— is a reference cycle: reference counting cannot free it, only Python's cycle collector can. A
request's objects then live through two young collections into the oldest generation, and every
request adds thousands of them (the owes printout ~7,800, the month report ~2,900, the roster
~2,250): the full collections that follow (tens of milliseconds each, walking every live object)
came every two to four requests on the heaviest pages and set their p95 (``bench/pages.py``,
``full GCs``).

Once a render is over its context is not read again (the test client keeps its own copy of the
context, taken while rendering), so emptying the context's list of dicts breaks the cycle and the
page's objects are freed by reference counting when the response goes. What is left per request
is Django's own small cycles (the request and its lazy user, ~50–200 objects).
"""

from __future__ import annotations

from typing import Any

from django.template.backends import django as django_backend
from django.template.context import make_context
from django.template.exceptions import TemplateDoesNotExist


class Template(django_backend.Template):
    def render(self, context: dict[str, Any] | None = None, request: Any = None) -> str:
        # As Django's own ``render``, keeping hold of the context it makes to empty it afterwards.
        made = make_context(context, request, autoescape=self.backend.engine.autoescape)
        try:
            return self.template.render(made)
        except TemplateDoesNotExist as exc:
            django_backend.reraise(exc, self.backend)
        finally:
            made.dicts.clear()


class DjangoTemplates(django_backend.DjangoTemplates):
    """Settings name it with ``"NAME": "django"``, so ``engines["django"]`` and
    django-template-partials' loader (which looks the engine up by that name) find it as before."""

    def from_string(self, template_code: str) -> Template:
        return Template(super().from_string(template_code).template, self)

    def get_template(self, template_name: str) -> Template:
        return Template(super().get_template(template_name).template, self)
