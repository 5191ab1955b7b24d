"""The Jinja2 environment for the few templates rendered too often for Django's template
language (see ``TEMPLATES`` in settings): the roster row, ``templates/jinja2/roster/row.html``;
the payment report's table and its chart, ``templates/jinja2/reports/``; the owes list's people,
``templates/jinja2/owes/`` (its printed reminders are written in Python); the drift page's cases,
``templates/jinja2/drift/``."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.timesince import timesince
from jinja2 import Environment, StrictUndefined

from bookings_app.money import format_money
from bookings_app.templatetags.desk import credits


def url(name: str, *args: Any) -> str:
    """``{{ url("desk_action_undo", session.ref, action.pk) }}``: Django's ``{% url %}``."""
    return reverse(name, args=args)


def localtime_text(value: datetime) -> str:
    """``{{ session.start|localtime_text }}``: "Sat 5 Dec 17:30", in the business's time zone."""
    return f"{timezone.localtime(value):%a %-d %b %H:%M}"


def truncatechars(value: object, length: int) -> str:
    """``{{ text|truncatechars(80) }}``: Django's filter of that name ("…" in place of the rest)."""
    return Truncator(value).chars(length)


def environment(**options: Any) -> Environment:
    # A name the template uses but the context lacks is a mistake, not an empty string.
    options.setdefault("undefined", StrictUndefined)
    options.pop("autoescape", None)  # always on, whatever the settings say
    env = Environment(autoescape=True, **options)
    env.filters.update(
        money=format_money,
        credits=credits,
        localtime_text=localtime_text,
        timesince=timesince,
        truncatechars=truncatechars,
    )
    env.globals.update(url=url)
    return env
