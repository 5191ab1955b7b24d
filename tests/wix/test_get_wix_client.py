"""``get_wix_client`` (``wix/__init__.py``): the client the settings name, one sandbox and token cache per process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bookings_app import wix as wix_pkg
from bookings_app.wix import services
from bookings_app.wix.client import (
    AppTokenAuth,
)
from bookings_app.wix.config import WixConfig, WixConfigError
from bookings_app.wix.ratelimit import FileRateLimiter, NoopRateLimiter, RedisRateLimiter
from tests.wix.wire import REDIS_URL, Wire, make_client
from wix_sandbox import DEFAULT_API_KEY, DEFAULT_SITE_ID

# -- get_wix_client ---------------------------------------------------------------------------------


@pytest.fixture
def wix_settings(settings: Any, tmp_path: Path) -> Any:
    settings.BASE_DIR = tmp_path
    wix_pkg.clear_cached_state()
    yield settings
    wix_pkg.clear_cached_state()


def test_sandbox_mode_client_talks_to_one_shared_in_process_sandbox(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="sandbox")

    with wix_pkg.get_wix_client() as first, wix_pkg.get_wix_client() as second:
        assert isinstance(first.rate_limiter, NoopRateLimiter)
        assert first.auth.headers(lambda body: {}) == {"Authorization": DEFAULT_API_KEY, "wix-site-id": DEFAULT_SITE_ID}
        assert services.query_services(first) == services.query_services(second)
    sandbox = wix_pkg.get_sandbox()
    assert sandbox is wix_pkg.get_sandbox()
    assert [path for _, path, _ in sandbox.call_log] == ["/_api/bookings/v2/services/query"] * 2


def test_sandbox_mode_with_faults_uses_the_shared_file_limiter(wix_settings: Any, tmp_path: Path) -> None:
    wix_settings.WIX = WixConfig(mode="sandbox", sandbox_faults="latency_ms=0", rate_limit_per_minute=50)

    with wix_pkg.get_wix_client() as client:
        limiter = client.rate_limiter
        assert isinstance(limiter, FileRateLimiter)
        assert limiter.path == tmp_path / "var" / wix_pkg.RATE_LIMIT_FILE
        assert limiter.per_minute == 50
        services.query_services(client)
    assert limiter.path.exists()


def test_api_key_mode_client_sets_base_url_auth_timeouts_and_retries(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(
        mode="api_key",
        api_key="key-1",
        site_id="site-1",
        base_url="https://wix.example",
        connect_timeout=3.0,
        read_timeout=9.0,
        max_retries=2,
    )

    with wix_pkg.get_wix_client() as client:
        assert client.base_url == "https://wix.example"
        assert client.auth.headers(lambda body: {}) == {"Authorization": "key-1", "wix-site-id": "site-1"}
        assert (client._http.timeout.connect, client._http.timeout.read) == (3.0, 9.0)
        assert client.max_retries == 2
        assert isinstance(client.rate_limiter, FileRateLimiter)


def test_app_mode_clients_share_one_token_cache(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="app", app_id="a", app_secret="s", instance_id="i")

    with wix_pkg.get_wix_client() as first, wix_pkg.get_wix_client() as second:
        assert isinstance(first.auth, AppTokenAuth)
        assert first.auth is second.auth


def test_rate_limit_url_selects_the_redis_limiter(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="site-9", rate_limit_url=REDIS_URL)

    with wix_pkg.get_wix_client() as client:
        assert isinstance(client.rate_limiter, RedisRateLimiter)
        assert client.rate_limiter.key == "wix:rate-limit:site-9"


def test_interactive_client_waits_briefly_and_never_retries(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="s", read_timeout=20.0, max_retries=4)

    with wix_pkg.get_wix_client(interactive=True) as quick, wix_pkg.get_wix_client() as patient:
        assert quick.max_retries == 0 and patient.max_retries == 4
        assert quick._http.timeout.read == wix_pkg.INTERACTIVE_READ_TIMEOUT
        assert patient._http.timeout.read == 20.0


def test_the_interactive_client_may_use_the_whole_budget_but_waits_briefly_background_work_keeps_a_share(
    wix_settings: Any, tmp_path: Path
) -> None:
    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="s", rate_limit_per_minute=200)

    with wix_pkg.get_wix_client(interactive=True) as desk, wix_pkg.get_wix_client() as worker:
        assert (desk.rate_limiter.limit, desk.rate_limiter.max_wait) == (200, 1.5)
        assert (worker.rate_limiter.limit, worker.rate_limiter.max_wait) == (160, None)
        assert desk.rate_limiter.path == worker.rate_limiter.path  # one window, two shares of it

    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="s", rate_limit_url=REDIS_URL)
    with wix_pkg.get_wix_client(interactive=True) as desk, wix_pkg.get_wix_client() as worker:
        assert (desk.rate_limiter.limit, desk.rate_limiter.max_wait) == (200, 1.5)
        assert (worker.rate_limiter.limit, worker.rate_limiter.max_wait) == (160, None)
        assert desk.rate_limiter.key == worker.rate_limiter.key


def test_get_wix_client_refuses_a_misconfiguration(wix_settings: Any) -> None:
    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="")
    with pytest.raises(WixConfigError):
        wix_pkg.get_wix_client()

    wix_settings.WIX = WixConfig(mode="carrier-pigeon")
    with pytest.raises(WixConfigError):
        wix_pkg.get_wix_client()

    wix_settings.WIX = WixConfig(mode="api_key", api_key="k", site_id="s", rate_limit_url="http://nope")
    with pytest.raises(WixConfigError):
        wix_pkg.get_wix_client()

    wix_settings.WIX = {"mode": "sandbox"}
    with pytest.raises(WixConfigError):
        wix_pkg.get_wix_client()


def test_secrets_do_not_leak_into_reprs() -> None:
    client, _ = make_client(Wire())
    auth = AppTokenAuth(app_id="a", app_secret="very-secret", instance_id="i")
    assert "raw-api-key" not in repr(client)
    assert "very-secret" not in repr(auth)
