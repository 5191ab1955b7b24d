"""Calendar V3 events and schedules (CONTRACT.md §9): class and course sessions, staff working hours.

Calendar V3 is in no npm SDK package; its paths and rules come from Wix's docs and official skills.

- ``events.py`` — create, get, list, update, cancel (one and in bulk); ``build.py`` validates and
  builds an event, ``recurrence.py`` expands weekly rules into sessions.
- ``query.py`` — Query Events; ``schedules.py`` — Query Schedules.
- ``times.py`` — zones, local dates and event spans, shared with Time Slots.
"""

from wix_sandbox.handlers.calendar import events, query, schedules

__all__ = ["events", "query", "schedules"]
