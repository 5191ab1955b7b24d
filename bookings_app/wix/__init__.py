"""The Wix integration: the only package that speaks HTTP to Wix.

Services get a client from :func:`get_wix_client` and call the typed functions in the API
modules (``bookings_app.wix.bookings.create_booking(wix, booking=...)`` …). Every failure is a
:class:`WixError` subclass.

This package imports Django only inside :func:`get_wix_client`: settings import
``bookings_app.wix.config`` while they load, and the sandbox must stay Django-free.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .client import ApiKeyAuth, AppTokenAuth, AuthStrategy, WixClient
from .config import WixConfig, WixConfigError
from .errors import (
    WixBadRequest,
    WixConflict,
    WixError,
    WixNotFound,
    WixPermissionDenied,
    WixPreconditionFailed,
    WixRateBudgetExhausted,
    WixRateLimited,
    WixUnauthenticated,
    WixUnavailable,
    WixValidationError,
)
from .ratelimit import FileRateLimiter, NoopRateLimiter, RateLimiter, RedisRateLimiter
from .reachability import ObservedTransport, observed_transport

if TYPE_CHECKING:
    from wix_sandbox import Sandbox

__all__ = [
    "ApiKeyAuth",
    "AppTokenAuth",
    "AuthStrategy",
    "FileRateLimiter",
    "NoopRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "WixBadRequest",
    "WixClient",
    "WixConfig",
    "WixConfigError",
    "WixConflict",
    "WixError",
    "WixNotFound",
    "WixPermissionDenied",
    "WixPreconditionFailed",
    "WixRateBudgetExhausted",
    "WixRateLimited",
    "WixUnauthenticated",
    "WixUnavailable",
    "WixValidationError",
    "clear_cached_state",
    "get_sandbox",
    "get_wix_client",
    "sandbox_seed_if_empty",
]

RATE_LIMIT_FILE = "wix-rate-limit.window"

# Process-wide so that every client of this process sees one sandbox state, one cached app token
# and one limiter connection.
_lock = threading.Lock()
_sandbox: tuple[tuple[str, str], Sandbox] | None = None
_app_auth: dict[tuple[str, str, str], AppTokenAuth] = {}
_limiters: dict[tuple[object, ...], RateLimiter] = {}


INTERACTIVE_READ_TIMEOUT = 3.0  # seconds a person at the desk waits for a Wix lookup


def get_wix_client(*, interactive: bool = False) -> WixClient:
    """A client for the Wix that ``settings.WIX`` names; close it (or use ``with``) when done.

    ``interactive``: for the few reads a person waits on (as-you-type customer search, free
    appointment slots): a short read timeout and no retries, so a slow or absent Wix costs the
    desk seconds, not minutes, and the screen falls back to the mirror. It may use the whole rate
    budget but waits at most ``WIX_RATE_LIMIT_INTERACTIVE_WAIT`` seconds for a slot (then
    ``WixRateBudgetExhausted``); any other client is background work, which waits as long as it
    takes but leaves ``1 - WIX_RATE_LIMIT_BACKGROUND_SHARE`` of the budget to the desk.

    Raises ``WixConfigError`` when the settings cannot make a working client.
    """
    from django.conf import settings

    config = getattr(settings, "WIX", None)
    if not isinstance(config, WixConfig):
        raise WixConfigError("settings.WIX must be a WixConfig (see bookings_app/wix/config.py).")
    var_dir = Path(settings.BASE_DIR) / "var"
    common = {
        "base_url": config.base_url,
        "connect_timeout": config.connect_timeout,
        "read_timeout": min(config.read_timeout, INTERACTIVE_READ_TIMEOUT) if interactive else config.read_timeout,
        "max_retries": 0 if interactive else config.max_retries,
        "rate_limiter": _rate_limiter(config, var_dir, interactive=interactive),
    }

    if config.mode == "sandbox":
        from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID
        from wix_sandbox.transport import SandboxTransport

        return WixClient(
            auth=ApiKeyAuth(DEFAULT_API_KEY, DEFAULT_SITE_ID),
            transport=ObservedTransport(SandboxTransport(get_sandbox(config))),
            **common,
        )
    if config.mode == "api_key":
        if not (config.api_key and config.site_id):
            raise WixConfigError("API-key mode needs WIX_API_KEY and WIX_SITE_ID.")
        return WixClient(
            auth=ApiKeyAuth(config.api_key, config.site_id), transport=observed_transport(config.base_url), **common
        )
    if config.mode == "app":
        if not (config.app_id and config.app_secret and config.instance_id):
            raise WixConfigError("Wix-app mode needs WIX_APP_ID, WIX_APP_SECRET and WIX_INSTANCE_ID.")
        return WixClient(auth=_app_token_auth(config), transport=observed_transport(config.base_url), **common)
    raise WixConfigError(f"Unknown Wix mode {config.mode!r}: expected sandbox, api_key or app.")


def get_sandbox(config: WixConfig | None = None) -> Sandbox:
    """This process's in-process sandbox (built on first use from ``settings.WIX``)."""
    global _sandbox
    if config is None:
        from django.conf import settings

        config = settings.WIX
    from wix_sandbox import Faults, Sandbox, SandboxState

    key = (config.sandbox_state, config.sandbox_faults)
    with _lock:
        if _sandbox is None or _sandbox[0] != key:
            state = SandboxState(config.sandbox_state or None)
            _sandbox = (key, Sandbox(state=state, faults=Faults.parse(config.sandbox_faults)))
        return _sandbox[1]


def sandbox_seed_if_empty() -> dict[str, int] | None:
    """Seed the demo swim club into this process's sandbox when it holds nothing yet."""
    sandbox = get_sandbox()
    if not sandbox.state.is_empty():
        return None
    from wix_sandbox.seed import seed_demo

    return seed_demo(sandbox)


def clear_cached_state() -> None:
    """Forget the process-wide sandbox, app tokens and limiters (tests, demo reset)."""
    global _sandbox
    with _lock:
        _sandbox = None
        _app_auth.clear()
        _limiters.clear()


def _app_token_auth(config: WixConfig) -> AppTokenAuth:
    key = (config.app_id, config.app_secret, config.instance_id)
    with _lock:
        if key not in _app_auth:
            _app_auth[key] = AppTokenAuth(
                app_id=config.app_id, app_secret=config.app_secret, instance_id=config.instance_id
            )
        return _app_auth[key]


def _rate_limiter(config: WixConfig, var_dir: Path, *, interactive: bool) -> RateLimiter:
    budget = config.rate_limit_per_minute
    share = 1.0 if interactive else config.rate_limit_background_share
    max_wait = config.rate_limit_interactive_wait if interactive else None
    if config.rate_limit_url:
        if not config.rate_limit_url.startswith(("redis://", "rediss://", "unix://")):
            raise WixConfigError("WIX_RATE_LIMIT_URL must be a redis:// (or rediss://, unix://) URL.")
        # One window per Wix site / app instance: that is what Wix's budget is counted against.
        owner = config.site_id or config.instance_id or "sandbox"
        key: tuple[object, ...] = ("redis", config.rate_limit_url, owner, budget, share, max_wait)
        with _lock:
            if key not in _limiters:
                _limiters[key] = RedisRateLimiter(
                    config.rate_limit_url,
                    key=f"wix:rate-limit:{owner}",
                    per_minute=budget,
                    share=share,
                    max_wait=max_wait,
                )
            return _limiters[key]
    if config.is_sandbox and not config.sandbox_faults:
        return NoopRateLimiter()  # the fault-free sandbox never throttles
    return FileRateLimiter(var_dir / RATE_LIMIT_FILE, per_minute=budget, share=share, max_wait=max_wait)
