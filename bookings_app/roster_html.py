"""A roster row drawn: the rows' HTML from the Jinja2 row template
(``templates/jinja2/roster/row.html``, the one template kept out of Django's template language
for speed: it is drawn for every participant), and what the roster's refresh needs of it.

Every rendered row carries what the page needs to keep it current (:func:`rows_rendered`):
``data-version``, when its read began (so the page never lets an older answer replace a newer
one: a refresh read before a tap loses to the tap's answer), and ``data-digest``, a digest of
what it shows (so the roster's refresh, sending back the digests it holds, gets only the rows
that changed: :func:`rows_changed`).

The rows themselves — what they show and offer — are ``bookings_app.roster_rows``'s.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django import forms
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import engines
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from bookings_app import roles
from bookings_app.models import Session

if TYPE_CHECKING:
    from bookings_app.roster_rows import RosterRow


@dataclass(frozen=True)
class RowHtml:
    """One rendered row: its ``<tbody>``, and the digest of what it shows (its ``data-digest``)."""

    booking_id: int
    html: str
    digest: str


def rows_html(
    *,
    request: HttpRequest,
    session: Session,
    rows: list[RosterRow],
    highlight: int | None = None,
    row_error: str = "",
    part_form: forms.Form | None = None,
    part_open: bool = False,
) -> SafeString:
    """The rows' ``<tbody>`` elements, from the Jinja2 row template (``templates/jinja2/roster/
    row.html``). ``row_error``, ``part_form`` and ``part_open`` are for a single row: a refused
    action's message, the part-payment prompt with its error, or open."""
    rendered = rows_rendered(
        request=request,
        session=session,
        rows=rows,
        highlight=highlight,
        row_error=row_error,
        part_form=part_form,
        part_open=part_open,
    )
    return joined(rendered)


def rows_rendered(
    *,
    request: HttpRequest,
    session: Session,
    rows: list[RosterRow],
    highlight: int | None = None,
    row_error: str = "",
    part_form: forms.Form | None = None,
    part_open: bool = False,
) -> list[RowHtml]:
    """:func:`rows_html`, row by row, each ``<tbody>`` stamped with its ``data-version`` and
    ``data-digest``. The digest leaves out what differs between two renders of the same row —
    the CSRF token, the form token, whether it is the first under its letter, and the seconds left
    to undo — so it changes
    exactly when what the row shows does."""
    template = engines["jinja2"].env.get_template("roster/row.html")
    part = None
    if part_form is not None:
        field = part_form["amount"]
        part = {"value": field.value() or "", "errors": list(field.errors)}
    elif part_open:
        part = {"value": "", "errors": []}
    csrf_input = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))
    context = {
        "session": session,
        "highlight": highlight,
        "row_error": row_error,
        "part": part,
        "csrf_input": csrf_input,  # one hidden field for every form of every row, made once
        "can_override": request.user.has_perm(roles.OVERRIDE_CAPACITY),
        "can_reverse": request.user.has_perm(roles.VOID_PAYMENTS),
        "can_audit": request.user.has_perm(roles.VIEW_AUDIT),
    }
    # One render for all the rows (a render per row cost a context each), cut into rows where
    # the template ends each one with ``row_end``: a comment no value on the row can contain (a
    # name's "<" is escaped) with a random part no one can know in advance either.
    row_end = f"<!--row-end {secrets.token_hex(8)}-->"
    htmls = template.render(context, rows=rows, row_end=mark_safe(row_end)).split(row_end)  # noqa: S308 (ours)
    rendered = []
    for row, html in zip(rows, htmls, strict=False):
        shown = html.replace(csrf_input, "").replace(row.key, "")
        if row.anchor:  # where the row sits in the list, not what it shows: a row drawn alone has none
            shown = shown.replace(f' id="letter-{row.letter}"', "", 1)
        if "data-expires-in" in shown:  # the undo's seconds left: the page counts them down itself
            shown = _UNDO_SECONDS.sub("", shown)
        digest = row_digest(shown)
        opening = f'<tbody id="roster-row-{row.pk}"'
        stamped = html.replace(opening, f'{opening} data-version="{row.version}" data-digest="{digest}"', 1)
        rendered.append(RowHtml(booking_id=row.booking.pk, html=stamped, digest=digest))
    return rendered


def joined(rendered: list[RowHtml]) -> SafeString:
    """Rendered rows as one piece of the page."""
    return mark_safe("".join(row.html for row in rendered))  # noqa: S308 (rendered autoescaped)


_UNDO_SECONDS = re.compile(r'data-expires-in="\d+"|<span class="countdown" aria-hidden="true">\d+s</span>')


def row_digest(html: str) -> str:
    """A short digest of a row's HTML: 48 bits, eight URL-safe characters."""
    return base64.urlsafe_b64encode(hashlib.blake2b(html.encode(), digest_size=6).digest()).decode()


# --- the refresh: which rows the page holds, which of them changed ----------------------------------

# What a page's refresh sends of its rows (static/js/app.js, the roster refresh): "pk.digest,…".
PAGE_ROWS_HEADER = "X-Roster-Rows"
_PAGE_ROW = re.compile(r"(\d{1,18})\.([\w-]{8})")
MAX_PAGE_ROWS = 2000


def page_rows_parse(value: str | None) -> dict[int, str] | None:
    """Booking pk → digest of the rows a page holds, from its refresh's header; None when there
    is no header, or one that cannot be read (then the page gets the whole list)."""
    if value is None:
        return None
    pairs = [part.strip() for part in value.split(",")] if value.strip() else []
    if len(pairs) > MAX_PAGE_ROWS:
        return None
    rows: dict[int, str] = {}
    for pair in pairs:
        match = _PAGE_ROW.fullmatch(pair)
        if match is None or int(match[1]) in rows:
            return None
        rows[int(match[1])] = match[2]
    return rows


def rows_changed(rendered: list[RowHtml], page: Mapping[int, str]) -> list[RowHtml] | None:
    """The rows of ``rendered`` whose digest differs from the page's (``page_rows_parse``); None
    when the page holds other rows than these (someone came or went: it needs the whole list,
    in order)."""
    if {row.booking_id for row in rendered} != page.keys():
        return None
    return [row for row in rendered if page[row.booking_id] != row.digest]


def out_of_band(rows: list[RowHtml]) -> SafeString:
    """``rows`` as htmx out-of-band swaps: each replaces the page's row of the same id."""
    return mark_safe(  # noqa: S308 (the rows are rendered autoescaped)
        "".join(row.html.replace("<tbody ", '<tbody hx-swap-oob="true" ', 1) for row in rows)
    )
