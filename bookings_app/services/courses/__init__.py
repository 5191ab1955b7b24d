"""The course builder: a term of course sessions created in Wix as Calendar V3 events, in one go.

A Wix course booking enrols a person on the course's schedule, but the sessions only exist once
someone creates the calendar events (seed 000 step 4, CONTRACT.md §9). Here the admin describes a
term — course, instructor (their calendar *resource*), place, capacity, weekday slots, first and
last date (or a number of weeks), exclusions — sees every session before anything is sent, and
commits it; the worker creates it and never twice.

- ``term`` — the term as asked and its rules (``term_make``, ``TermInvalid``);
- ``plan`` — schedule maths: sessions, excluded days, and the events that make exactly those
  sessions. **Exclusions split the series** (Calendar V3 cannot express an exception to a weekly
  rule): each weekday's weeks are cut into runs around the excluded days, a run of two weeks or
  more is one weekly series (one weekday per rule, ``until`` its last day), a run of one a
  single event — so an excluded day is never created, not even for a moment;
- ``preview`` — the plan with clashes from the mirror and the Wix calls the commit makes;
  ``results`` — a build's sessions and whether each exists in Wix (its page);
- ``commit`` — saves a ``CourseBuild`` (and its ``CourseBuildEvent`` rows, the exact bodies) with a
  ``COURSE_BUILD`` desk action before anything is sent; ``course_build_retry`` sends again only
  what Wix refused;
- ``send`` — the worker's steps (called by ``services.push.course_builds``): baseline, lost answers
  looked up (``wix_reads``), Bulk Create Event ≤50 a request, the sessions read back into the
  mirror; ``messages`` says in plain language what Wix refused.

A term read from a spreadsheet (irregular sessions) reuses all of it: a ``CourseBuild`` whose
events are single events (``source = IMPORT``) is previewed, committed, sent and retried the same way.

- ``import_file`` — a CSV/XLSX file → rows of text with the admin's row numbers (``sheet_read``),
  or ``ImportRefused`` with what is wrong; the template (``template_csv``);
- ``import_rows`` — each row checked against the mirror (course, date, times, instructor, place,
  capacity, duplicates), every problem with its row and column;
- ``import_plan`` — the preview: one part per course, the sessions that already exist (not sent
  again), clashes, the events and Wix calls;
- ``import_commit`` — a ``CourseImport`` and one build per course with new sessions;
  ``course_import_retry``; ``import_status`` — an import's page and the template's examples.

A running course is edited with the same machinery, each change with the same preview:

- ``edit`` — one session added (a term of one day: a single event, ``source = ADDED``), the last
  date moved later (a longer term from the course's timetable, only the new weeks:
  ``source = EXTENDED``); ``course_timetable``, ``course_last_day``;
- ``cancel`` — one session cancelled, or the sessions after an earlier last date: the people
  affected, the exact calls, a ``CourseCancel`` saved with a ``COURSE_CANCEL`` desk action
  (nobody's course booking is cancelled); ``cancel_send`` — the worker's steps (Cancel Event per
  session, a lost answer read with Get Event first), called by ``services.push.course_cancels``.
"""

from bookings_app.services.courses.cancel import (
    CancelPlan,
    course_cancel_commit,
    course_cancel_plan,
    course_cancel_retry,
    course_shorten_plan,
)
from bookings_app.services.courses.cancel_send import course_cancel_send
from bookings_app.services.courses.commit import course_build_commit, course_build_retry
from bookings_app.services.courses.edit import (
    Timetable,
    course_add_term,
    course_extend_term,
    course_last_day,
    course_timetable,
)
from bookings_app.services.courses.import_commit import course_import_commit, course_import_retry
from bookings_app.services.courses.import_file import MAX_ROWS, ImportRefused, Problem, Sheet, sheet_read
from bookings_app.services.courses.import_plan import CoursePart, ImportPreview, ImportRow, course_import_preview
from bookings_app.services.courses.import_status import (
    ImportStatus,
    course_import_get,
    course_import_status,
    course_import_template,
)
from bookings_app.services.courses.plan import Plan, PlannedEvent, PlannedSession, SkippedSession, plan_term
from bookings_app.services.courses.preview import Clash, Preview, PreviewRow, course_preview
from bookings_app.services.courses.results import BuildRow, course_build_rows
from bookings_app.services.courses.send import AnswerMissing, SendOutcome, course_build_send
from bookings_app.services.courses.term import (
    MAX_TERM_WEEKS,
    WEEKDAY_LABELS,
    Exclusion,
    Slot,
    Term,
    TermInvalid,
    term_make,
)

__all__ = [
    "MAX_ROWS",
    "MAX_TERM_WEEKS",
    "WEEKDAY_LABELS",
    "AnswerMissing",
    "BuildRow",
    "CancelPlan",
    "Clash",
    "CoursePart",
    "Exclusion",
    "ImportPreview",
    "ImportRefused",
    "ImportRow",
    "ImportStatus",
    "Plan",
    "PlannedEvent",
    "PlannedSession",
    "Preview",
    "PreviewRow",
    "Problem",
    "SendOutcome",
    "Sheet",
    "SkippedSession",
    "Slot",
    "Term",
    "TermInvalid",
    "Timetable",
    "course_add_term",
    "course_build_commit",
    "course_build_rows",
    "course_build_retry",
    "course_build_send",
    "course_cancel_commit",
    "course_cancel_plan",
    "course_cancel_retry",
    "course_cancel_send",
    "course_extend_term",
    "course_import_commit",
    "course_import_get",
    "course_import_preview",
    "course_import_retry",
    "course_import_status",
    "course_import_template",
    "course_last_day",
    "course_preview",
    "course_shorten_plan",
    "course_timetable",
    "plan_term",
    "sheet_read",
    "term_make",
]
