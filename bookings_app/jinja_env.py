"""The Jinja2 environment for the few templates rendered too often for Django's template
language (see ``TEMPLATES`` in settings): the roster row, ``templates/jinja2/roster/row.html``;
the payment report's table and its chart, ``templates/jinja2/reports/``; the owes list's people
and its printed reminders, ``templates/jinja2/owes/``."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone
from jinja2 import Environment, StrictUndefined

from bookings_app.money import format_money
from bookings_app.templatetags.desk import credits


def url(name: str, *args: Any) -> str:
    """``{{ url("desk_action_undo", session.ref, action.pk) }}``: Django's ``{% url %}``."""
    return reverse(name, args=args)


def localtime_text(value: datetime) -> str:
    """``{{ session.start|localtime_text }}``: "Sat 5 Dec 17:30", in the business's time zone."""
    return f"{timezone.localtime(value):%a %-d %b %H:%M}"


def environment(**options: Any) -> Environment:
    # A name the template uses but the context lacks is a mistake, not an empty string.
    options.setdefault("undefined", StrictUndefined)
    options.pop("autoescape", None)  # always on, whatever the settings say
    env = Environment(autoescape=True, **options)
    env.filters.update(money=format_money, credits=credits, localtime_text=localtime_text)
    env.globals.update(url=url)
    return env
