"""The one exception services raise: a message staff can read and a stable code tests and views use."""

from __future__ import annotations


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
