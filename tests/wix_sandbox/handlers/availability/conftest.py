"""The Time Slots tests' own ``swim`` (a class without sessions) and ``massage`` (two therapists, one working
Monday morning); they replace the Bookings fixtures of the same names in ``tests/wix_sandbox/conftest.py``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.wix_sandbox.availability_builders import MONDAY, at
from tests.wix_sandbox.builders import make_service, make_staff, make_working_hours
from wix_sandbox import Sandbox


@pytest.fixture
def swim(sandbox: Sandbox) -> dict[str, Any]:
    staff = make_staff(sandbox)
    service = make_service(sandbox, staff=[staff], capacity=10)
    return {"staff": staff, "service": service}


@pytest.fixture
def massage(sandbox: Sandbox) -> dict[str, Any]:
    alex, sam = make_staff(sandbox, "Alex Therapist"), make_staff(sandbox, "Sam Therapist")
    service = make_service(sandbox, type="APPOINTMENT", name="Massage", capacity=1, staff=[alex], duration_minutes=60)
    make_working_hours(sandbox, alex, at(MONDAY, 9), hours=4)  # 09:00–13:00
    return {"alex": alex, "sam": sam, "service": service}
