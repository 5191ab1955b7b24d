"""The worker's steps for a course term (``services/courses/send.py``) against the sandbox: the exact
Calendar V3 requests, what Wix ends up with, the mirror, lost answers and crashes, refusals."""

from __future__ import annotations

import pytest

from bookings_app.models import CourseBuildEvent, DeskAction, Session
from tests.services.courses.helpers import CourseWorld, action_of, planned_starts
from tests.services.push.conftest import push_now, recorder

pytestmark = pytest.mark.django_db

State = CourseBuildEvent.State
Status = DeskAction.Status


def test_a_ten_week_tue_thu_term_with_a_week_off_makes_exactly_the_previewed_18_sessions(cw: CourseWorld) -> None:
    first = cw.term().first
    term = cw.term(first=first, exclusions=(cw.half_term(first),))
    build = cw.commit(term)
    client, transport = recorder(cw.world)

    report = push_now(client)

    assert report.synced == 1
    assert action_of(build).status == Status.SYNCED
    assert cw.starts_in_wix() == planned_starts(term)
    assert len(cw.starts_in_wix()) == 18
    assert Session.objects.filter(service=cw.service()).count() == 18
