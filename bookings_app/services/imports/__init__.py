"""Participants imported from a spreadsheet (issue 13): a club's sign-in sheets and lists of who is
booked, into Wix — safe to run twice, safe to stop half-way, and saying exactly what it will do
before it does anything. One module per step:

- ``sheet`` — any uploaded CSV/XLSX read as a stream of numbered rows of text (encodings,
  separators, XLSX streaming, caps, plain-words refusals), the dates and times people type; the
  course timetable import reads its files here too;
- ``mapping`` — which column holds what: recognised from the headers, chosen on the screen,
  remembered for the next file with the same headers;
- ``upload`` — the file into a ``ParticipantImport`` and its ``ImportRow``\\ s (nothing else changes);
- ``cells`` — one row's cells read (names, email, phone, session, payment, attendance) and its
  content identity, the key of everything it makes;
- ``lookups`` and ``checks`` — each row against the mirror: the customer (email, then phone, then
  exact name), the session, room, plan credits, amounts, and what is there already;
- ``dry_run`` — every row checked and the diff of what the commit would create (no change);
- ``commit`` — the commit, and each batch written as desk actions through the desk's services;
- ``run`` — the background runner: batches released and pushed by the worker's push, Cancel,
  Resume, Retry, a dead worker taken over;
- ``results`` — each row's result from its desk actions, the progress counts, the failed rows to
  download; ``sample`` — the template and the sandbox's practice file.

This package's ``__init__`` imports nothing: ``sheet`` is imported by the course import, which the
push imports, which ``run`` imports — re-exporting ``run`` here would close that circle.
"""
