from __future__ import annotations

import pytest

from tests.services.conftest import World
from tests.services.courses.helpers import CourseWorld, build_course_world


@pytest.fixture
def cw(world: World) -> CourseWorld:
    return build_course_world(world)
