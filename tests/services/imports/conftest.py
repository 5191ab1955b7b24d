"""Fixtures of the participant import tests."""

from __future__ import annotations

import pytest

from tests.services.conftest import World
from tests.services.imports.helpers import ImportWorld


@pytest.fixture
def iw(world: World) -> ImportWorld:
    return ImportWorld(world)
