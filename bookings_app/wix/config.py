"""Which Wix the app talks to, resolved from the environment once at start-up.

Three modes: ``sandbox`` (no credentials: the built-in emulator), ``api_key`` (``WIX_API_KEY``
+ ``WIX_SITE_ID``) and ``app`` (``WIX_APP_ID`` + ``WIX_APP_SECRET`` + ``WIX_INSTANCE_ID``, with
``WIX_WEBHOOK_PUBLIC_KEY`` for webhooks). Anything half-set fails loudly with what to set.

The API key, the app secret and the rate-limit URL (which may carry a Redis password) are
:class:`Secret` strings: ``settings.WIX`` appears on Django's DEBUG error page and in any log line
that prints it, and its repr used to show the key and the secret in clear.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_BASE_URL = "https://www.wixapis.com"


MASK = "********"


class Secret(str):
    """A credential that never shows itself: ``repr()``, ``str()``, ``%s`` and f-strings give a
    mask, so a settings dump, an error page or a log line cannot leak it by accident. The value is
    still the string for what needs it — HTTP headers and JSON bodies (encoded, not formatted),
    comparisons, ``bool()`` — and :meth:`reveal` gives a plain ``str`` on purpose."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Secret({MASK!r})" if self else "Secret('')"

    def __str__(self) -> str:
        return MASK if self else ""

    def reveal(self) -> str:
        return str.__str__(self)


class WixConfigError(Exception):
    """The WIX_* environment is inconsistent; the message says what to set."""


@dataclass(frozen=True)
class WixConfig:
    mode: str  # "sandbox" | "api_key" | "app"
    base_url: str = DEFAULT_BASE_URL
    api_key: str = ""  # a Secret once resolved (any str in tests)
    site_id: str = ""
    app_id: str = ""
    app_secret: str = ""  # a Secret once resolved
    instance_id: str = ""
    webhook_public_key: str = ""
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    rate_limit_per_minute: int = 200
    rate_limit_url: str = ""  # redis://… shares the budget across hosts; else a lock file (a Secret)
    # How full background work may fill the window (the rest is kept for the desk's lookups), and
    # how long a desk lookup waits for a slot before the screen answers from the mirror.
    rate_limit_background_share: float = 0.8
    rate_limit_interactive_wait: float = 1.5
    max_retries: int = 4
    payment_mode: str = "ecom"  # "ecom" | "booking_only"
    # Checkout V1 instead of Cart V2 for new orders: off by default; Wix removes it on 2027-02-01.
    checkout_v1: bool = False
    business_country: str = "GB"  # Checkout V1's billing address (required when the total is above zero)
    sandbox_state: str = ""  # SQLite file of the sandbox's state ("" = in memory)
    sandbox_faults: str = ""  # e.g. "latency_ms=150,error_5xx_rate=0.1"

    def __post_init__(self) -> None:
        # Whoever builds one (the environment, a test, dataclasses.replace), the credentials are masked.
        for name in SECRET_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, Secret):
                object.__setattr__(self, name, Secret(value))

    @property
    def is_sandbox(self) -> bool:
        return self.mode == "sandbox"

    def secrets(self) -> list[str]:
        """The credentials in clear, for the filters that scrub error pages and logs."""
        return [getattr(self, name).reveal() for name in SECRET_FIELDS if getattr(self, name)]


SECRET_FIELDS = ("api_key", "app_secret", "rate_limit_url")


def resolve_wix_config(env: Mapping[str, str], *, default_sandbox_state: str = "") -> WixConfig:
    def get(name: str) -> str:
        return (env.get(name) or "").strip()

    api_key, site_id = get("WIX_API_KEY"), get("WIX_SITE_ID")
    app_id, app_secret, instance_id = get("WIX_APP_ID"), get("WIX_APP_SECRET"), get("WIX_INSTANCE_ID")
    public_key = get("WIX_WEBHOOK_PUBLIC_KEY").replace("\\n", "\n")

    if api_key and (app_id or app_secret or instance_id):
        raise WixConfigError(
            "Both API-key and Wix-app credentials are set. Use either WIX_API_KEY + WIX_SITE_ID, "
            "or WIX_APP_ID + WIX_APP_SECRET + WIX_INSTANCE_ID — not both."
        )
    if api_key or site_id:
        missing = [n for n, v in (("WIX_API_KEY", api_key), ("WIX_SITE_ID", site_id)) if not v]
        if missing:
            raise WixConfigError(
                f"API-key mode needs WIX_API_KEY and WIX_SITE_ID; set {', '.join(missing)} "
                "(the site id is the part after /dashboard/ in your Wix dashboard URL)."
            )
        mode = "api_key"
    elif app_id or app_secret or instance_id:
        missing = [
            n
            for n, v in (("WIX_APP_ID", app_id), ("WIX_APP_SECRET", app_secret), ("WIX_INSTANCE_ID", instance_id))
            if not v
        ]
        if missing:
            raise WixConfigError(
                f"Wix-app mode needs WIX_APP_ID, WIX_APP_SECRET and WIX_INSTANCE_ID; set {', '.join(missing)}."
            )
        mode = "app"
    else:
        mode = "sandbox"

    payment_mode = get("WIX_PAYMENT_MODE") or "ecom"
    if payment_mode not in ("ecom", "booking_only"):
        raise WixConfigError(f"WIX_PAYMENT_MODE must be 'ecom' or 'booking_only', not {payment_mode!r}.")

    checkout_v1_raw = get("WIX_ECOM_CHECKOUT_V1").lower()
    if checkout_v1_raw not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
        raise WixConfigError(f"WIX_ECOM_CHECKOUT_V1 must be true or false, not {checkout_v1_raw!r}.")
    country = (get("WIX_BUSINESS_COUNTRY") or "GB").upper()
    if len(country) != 2 or not country.isalpha():
        raise WixConfigError(f"WIX_BUSINESS_COUNTRY must be a two-letter country code (ISO 3166), not {country!r}.")

    def number(name: str, default: float, cast: type = float, minimum: float = 0) -> float:
        raw = get(name)
        if not raw:
            return default
        try:
            value = cast(raw)
        except ValueError:
            raise WixConfigError(f"{name} must be a number, not {raw!r}.") from None
        if value <= minimum:
            raise WixConfigError(f"{name} must be greater than {minimum}.")
        return value

    base_url = (get("WIX_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise WixConfigError(f"WIX_BASE_URL must start with http:// or https://, not {base_url!r}.")
    return WixConfig(
        mode=mode,
        base_url=base_url,
        api_key=api_key,
        site_id=site_id,
        app_id=app_id,
        app_secret=app_secret,
        instance_id=instance_id,
        webhook_public_key=public_key,
        connect_timeout=number("WIX_CONNECT_TIMEOUT", 5.0),
        read_timeout=number("WIX_READ_TIMEOUT", 20.0),
        rate_limit_per_minute=int(number("WIX_RATE_LIMIT_PER_MINUTE", 200, int)),
        rate_limit_url=get("WIX_RATE_LIMIT_URL"),
        rate_limit_background_share=_share(get("WIX_RATE_LIMIT_BACKGROUND_SHARE")),
        rate_limit_interactive_wait=number("WIX_RATE_LIMIT_INTERACTIVE_WAIT", 1.5),
        max_retries=int(number("WIX_MAX_RETRIES", 4, int, minimum=-1)),
        payment_mode=payment_mode,
        checkout_v1=checkout_v1_raw in ("1", "true", "yes", "on"),
        business_country=country,
        sandbox_state=get("WIX_SANDBOX_STATE") or default_sandbox_state,
        sandbox_faults=get("WIX_SANDBOX_FAULTS"),
    )


def _share(raw: str) -> float:
    if not raw:
        return 0.8
    try:
        value = float(raw)
    except ValueError:
        raise WixConfigError(f"WIX_RATE_LIMIT_BACKGROUND_SHARE must be a number, not {raw!r}.") from None
    if not 0 < value <= 1:
        raise WixConfigError("WIX_RATE_LIMIT_BACKGROUND_SHARE must be more than 0 and at most 1 (e.g. 0.8).")
    return value
