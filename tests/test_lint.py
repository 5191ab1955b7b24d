"""Conventions as lint errors: ruff is clean, and httpx stays inside bookings_app/wix/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUFF = [sys.executable, "-m", "ruff"]


def _ruff_stdin(code: str, filename: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RUFF, "check", "--stdin-filename", filename, "-"],
        cwd=ROOT,
        input=code,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_importing_httpx_outside_the_wix_package_is_a_lint_error() -> None:
    result = _ruff_stdin("import httpx\n\nhttpx.get('https://example.com', timeout=1)\n", "bookings_app/services/x.py")
    assert result.returncode == 1
    assert "TID251" in result.stdout


def test_importing_httpx_inside_the_wix_package_is_allowed() -> None:
    result = _ruff_stdin("import httpx\n\nhttpx.get('https://example.com', timeout=1)\n", "bookings_app/wix/x.py")
    assert result.returncode == 0, result.stdout


def test_the_codebase_is_ruff_clean() -> None:
    result = subprocess.run([*RUFF, "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
