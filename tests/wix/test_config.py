"""Wix settings (``wix/config.py``): three modes, and values that say what to set when wrong."""

from __future__ import annotations

import pytest

from bookings_app.wix.config import WixConfigError, resolve_wix_config


def test_no_credentials_means_the_sandbox() -> None:
    config = resolve_wix_config({}, default_sandbox_state="/tmp/x.sqlite3")
    assert config.mode == "sandbox" and config.is_sandbox
    assert config.base_url == "https://www.wixapis.com"
    assert config.sandbox_state == "/tmp/x.sqlite3"
    assert config.rate_limit_per_minute == 200
    assert config.payment_mode == "ecom"


def test_api_key_mode_needs_key_and_site_id() -> None:
    config = resolve_wix_config({"WIX_API_KEY": "k", "WIX_SITE_ID": "s"})
    assert (config.mode, config.api_key, config.site_id) == ("api_key", "k", "s")
    with pytest.raises(WixConfigError, match="WIX_SITE_ID"):
        resolve_wix_config({"WIX_API_KEY": "k"})
    with pytest.raises(WixConfigError, match="WIX_API_KEY"):
        resolve_wix_config({"WIX_SITE_ID": "s"})


def test_app_mode_needs_id_secret_and_instance() -> None:
    config = resolve_wix_config(
        {"WIX_APP_ID": "a", "WIX_APP_SECRET": "b", "WIX_INSTANCE_ID": "c", "WIX_WEBHOOK_PUBLIC_KEY": "x\\ny"}
    )
    assert config.mode == "app" and config.webhook_public_key == "x\ny"
    with pytest.raises(WixConfigError, match="WIX_INSTANCE_ID"):
        resolve_wix_config({"WIX_APP_ID": "a", "WIX_APP_SECRET": "b"})


def test_both_modes_at_once_is_refused() -> None:
    with pytest.raises(WixConfigError, match="not both"):
        resolve_wix_config({"WIX_API_KEY": "k", "WIX_SITE_ID": "s", "WIX_APP_ID": "a"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WIX_READ_TIMEOUT": "soon"}, "WIX_READ_TIMEOUT must be a number"),
        ({"WIX_READ_TIMEOUT": "0"}, "WIX_READ_TIMEOUT must be greater than 0"),
        ({"WIX_RATE_LIMIT_PER_MINUTE": "-5"}, "WIX_RATE_LIMIT_PER_MINUTE"),
        ({"WIX_PAYMENT_MODE": "cash"}, "WIX_PAYMENT_MODE"),
        ({"WIX_BASE_URL": "www.wixapis.com"}, "WIX_BASE_URL"),
        ({"WIX_RATE_LIMIT_BACKGROUND_SHARE": "1.2"}, "more than 0 and at most 1"),
        ({"WIX_RATE_LIMIT_BACKGROUND_SHARE": "most"}, "WIX_RATE_LIMIT_BACKGROUND_SHARE must be a number"),
        ({"WIX_RATE_LIMIT_INTERACTIVE_WAIT": "0"}, "WIX_RATE_LIMIT_INTERACTIVE_WAIT must be greater than 0"),
    ],
)
def test_bad_values_say_what_to_set(env: dict[str, str], message: str) -> None:
    with pytest.raises(WixConfigError, match=message):
        resolve_wix_config(env)


def test_the_budget_split_has_defaults_and_can_be_tuned() -> None:
    default = resolve_wix_config({})
    assert (default.rate_limit_background_share, default.rate_limit_interactive_wait) == (0.8, 1.5)
    tuned = resolve_wix_config({"WIX_RATE_LIMIT_BACKGROUND_SHARE": "0.5", "WIX_RATE_LIMIT_INTERACTIVE_WAIT": "2.5"})
    assert (tuned.rate_limit_background_share, tuned.rate_limit_interactive_wait) == (0.5, 2.5)
