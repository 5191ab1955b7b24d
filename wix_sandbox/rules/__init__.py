"""Cross-area rules: where one Wix API area's state follows another's (DESIGN.md §5).

One module per relationship, named for what it links. Handlers call these rules; a rule imports no
handler (a lint test checks it), so the areas stay apart and the import graph has no cycles.

- ``capacity.py`` — bookings ↔ sessions, courses and staff time: the places bookings take.
  Called by Bookings (create, confirm, reschedule, participants) and Time Slots.
- ``booking_orders.py`` — bookings ↔ eCommerce: a checkout line item learns from its booking, a
  booking's payment status follows its order. Called by eCommerce Checkout and Orders, Bookings
  (confirm or decline) and the Bookings Reader.
- ``plan_programs.py`` — Pricing Plans ↔ Benefit Programs: a sold plan provisions a program whose
  pools follow the plan order through the clock. Called by plan orders, Benefit Programs and
  ``plan_credits.py``.
- ``plan_credits.py`` — eCommerce ↔ Benefit Programs: credits taken when charged or redeemed, given
  back when voided or cancelled. Called by Benefit Programs, eCommerce Checkout and Payments.
"""
