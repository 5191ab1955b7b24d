"""The one exception services raise: a message staff can read and a stable code tests and views use."""

from __future__ import annotations

from bookings_app.wix import WixError, WixRateBudgetExhausted


class BookingError(Exception):
    """A business rule said no. ``message`` is shown to staff as is; ``code`` is stable
    (``"sync_busy"``, ``"wix_unreachable"`` …) so callers branch on it, never on the wording."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"BookingError({self.message!r}, code={self.code!r})"


def wix_unreachable(exc: WixError, *, listing: str) -> BookingError:
    """``wix_unreachable``: Wix could not be asked for ``listing`` ("free slots") during a request —
    down, slow, or this minute's budget of calls used up (then it says Wix is busy)."""
    if isinstance(exc, WixRateBudgetExhausted):
        message = (
            f"Wix is busy right now (this minute's calls are used up), so it can't list {listing}. "
            "Try again in a minute."
        )
    else:
        message = f"Wix can't be reached to list {listing} right now ({exc.code}). Try again in a moment."
    return BookingError(message, code="wix_unreachable")
