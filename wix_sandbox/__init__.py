"""A stateful emulator of the Wix endpoints the app uses (DESIGN.md §5). No Django imports.

Importing the package imports ``handlers``, which registers every route with ``routing``.
"""

from . import handlers  # noqa: F401 - registers every route
from .app import (
    BOOKINGS_APP_ID,
    DEFAULT_API_KEY,
    DEFAULT_SITE_ID,
    PRICING_PLANS_APP_ID,
    Faults,
    Sandbox,
    SandboxRequest,
    SandboxResponse,
)
from .errors import SandboxError, ValidationFailed
from .routing import route
from .state import SandboxState

__all__ = [
    "BOOKINGS_APP_ID",
    "DEFAULT_API_KEY",
    "DEFAULT_SITE_ID",
    "PRICING_PLANS_APP_ID",
    "Faults",
    "Sandbox",
    "SandboxError",
    "SandboxRequest",
    "SandboxResponse",
    "SandboxState",
    "ValidationFailed",
    "route",
]
