"""Request guards that hold for every view: refuse what no field may hold, and sign out idle desks.

``NulGuard``: a NUL character reached PostgreSQL from the path (``/sessions/a%00b/``), a query
(``?q=a%00b``) and a form field (an ``idempotency_key`` looked up before the form was validated),
which refuses it with a 500. No field of the app may hold one and no keyboard types one, so it
is refused once, here, with a 400 — not patched in each view.

``SessionIdle`` is in the same module because it is the other thing every request passes through;
see its docstring.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

NUL = "\x00"
BAD_INPUT = "This request holds a character no field can keep (a NUL byte). Nothing was changed."


def _holds_nul(pairs: Iterable[tuple[str, list[str]]]) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in pairs)


class NulGuard:
    """400 for a NUL in the path, a query parameter or a form field. An uploaded file is the view's
    to judge (a spreadsheet is binary; Django's parser cleans its name)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info or _holds_nul(request.GET.lists()):
            return self._refuse(request)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            if _holds_nul(request.POST.lists()):
                return self._refuse(request)
        return self.get_response(request)

    def _refuse(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("HX-Request"):
            return HttpResponse(BAD_INPUT, status=400, content_type="text/plain; charset=utf-8")
        return HttpResponse(render_to_string("400.html", {"message": BAD_INPUT}, request=request), status=400)


class SessionIdle:
    """Signs a desk out after ``SESSION_COOKIE_AGE`` (12 hours by default) without anyone using it,
    not 14 days after signing in.

    The session's expiry moves on with each request a person makes — saved at most every
    ``REFRESH_SECONDS``, not on every request (``SESSION_SAVE_EVERY_REQUEST`` would write the
    session row for each roster refresh). Requests the page makes by itself (htmx polls, a refresh
    after a sync: app.js marks them ``X-Desk-Background``) move nothing on, so a tablet left on a
    self-refreshing roster still signs out.
    """

    REFRESH_SECONDS = 300
    STAMP = "_desk_active"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.headers.get("X-Desk-Background"):
            return response
        now = int(time.time())
        session = request.session
        if now - int(session.get(self.STAMP, 0)) >= self.REFRESH_SECONDS:
            session[self.STAMP] = now  # modified: SessionMiddleware saves it with a new expiry
        return response


def session_stamp_at_sign_in(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """``user_logged_in``: signing in saves the session anyway; stamp it then, so the first page
    after it does not save it again."""
    if request is not None and hasattr(request, "session"):
        request.session[SessionIdle.STAMP] = int(time.time())
