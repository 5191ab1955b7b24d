"""The Calendar tests' fixture: a class service and the staff member who teaches it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.wix_sandbox.builders import make_service, make_staff
from wix_sandbox import Sandbox


@pytest.fixture
def setup(sandbox: Sandbox) -> dict[str, Any]:
    staff = make_staff(sandbox)
    return {"staff": staff, "service": make_service(sandbox, staff=[staff], capacity=20)}
