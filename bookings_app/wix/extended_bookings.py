"""Bookings Reader V2: bookings with their attendance, allowed actions and eCom order (CONTRACT.md §4)."""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact

READER = "/_api/bookings-reader/v2/extended-bookings"


def query_extended_bookings(
    wix: WixClient,
    *,
    query: dict[str, Any],
    with_booking_allowed_actions: bool | None = None,
    with_booking_attendance_info: bool | None = None,
    with_booking_conferencing_details: bool | None = None,
    with_booking_policy_settings: bool | None = None,
    with_booking_fee_details: bool | None = None,
    with_ecom_order: bool | None = None,
    with_ecom_transactions: bool | None = None,
) -> dict[str, Any]:
    """Page through bookings (``query{filter, sort, cursorPaging{limit ≤100, cursor}}``).

    Returns ``{extendedBookings: [{booking, allowedActions?, attendance?{id, status,
    numberOfAttendees}, order?{id, number, status, paymentStatus, totalPrice, bookingPrice, balance},
    transactions?{chargedMembershipPaymentDetails{name, credits{total, remaining}}, refundSumAmounts}}],
    pagingMetadata{count, cursors{next}, hasNext}}``.
    """
    body = compact(
        {
            "query": query,
            "withBookingAllowedActions": with_booking_allowed_actions,
            "withBookingAttendanceInfo": with_booking_attendance_info,
            "withBookingConferencingDetails": with_booking_conferencing_details,
            "withBookingPolicySettings": with_booking_policy_settings,
            "withBookingFeeDetails": with_booking_fee_details,
            "withEcomOrder": with_ecom_order,
            "withEcomTransactions": with_ecom_transactions,
        }
    )
    return wix.post(f"{READER}/query", body, idempotent=True)


def count_extended_bookings(wix: WixClient, *, filter: dict[str, Any] | None = None) -> dict[str, Any]:
    """Returns ``{count}`` of the bookings matching ``filter``."""
    return wix.post(f"{READER}/count", compact({"filter": filter}), idempotent=True)
