"""Wix's fixed ids that more than one part of the app sends or compares (CONTRACT.md §0.4)."""

from __future__ import annotations

# The Wix Bookings app: a booking put in a checkout is a line item of this app
# (``catalogReference.appId``), and a plan credit is redeemed for an item it provides.
BOOKINGS_APP_ID = "13d21c63-b5ec-5912-8397-c3a5ddb27a97"
# The Wix Pricing Plans app: the owner of a member's plan (``existingMembership.appId``).
PRICING_PLANS_APP_ID = "1522827f-c56c-a5c9-2ac9-00f9e6ae12d3"
# The resource type of staff members: the availability of a staff member's calendar.
STAFF_RESOURCE_TYPE_ID = "1cd44cf8-756f-41c3-bd90-3e2ffcaf1155"
# The Benefit Programs namespace under which Pricing Plans provisions a plan's pools.
PRICING_PLANS_NAMESPACE = "@wix/pricing-plans"
