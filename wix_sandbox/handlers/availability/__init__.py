"""Time Slots V2 (CONTRACT.md §7): class sessions, appointment slots, multi-service sequences.

- ``event_slots.py`` — event time slots: class and course sessions.
- ``appointments.py`` — availability time slots: appointments, from ``staffing.py``.
- ``multi_service.py`` — back-to-back sequences of appointments.
- ``slots.py`` — what every slot shares (policy violations, location, paging).

Dates in requests and slots are LOCAL_DATE_TIME strings in the request's ``timeZone`` (default:
the business time zone). Cursors carry the whole request, so a next page needs only the cursor.
"""

from wix_sandbox.handlers.availability import appointments, event_slots, multi_service

__all__ = ["appointments", "event_slots", "multi_service"]
