"""Time Slots V2: class sessions, appointment availability, multi-service chains (CONTRACT.md §7).

Dates are local ``YYYY-MM-DDThh:mm:ss`` strings in ``time_zone`` (plain dates are rejected).
Every call here only reads.
"""

from __future__ import annotations

from typing import Any

from .client import WixClient, compact, path_param

TIME_SLOTS = "/_api/service-availability/v2/time-slots"


def list_event_time_slots(
    wix: WixClient,
    *,
    from_local_date: str | None = None,
    to_local_date: str | None = None,
    time_zone: str | None = None,
    service_ids: list[str] | None = None,
    include_non_bookable: bool | None = None,
    min_bookable_capacity: int | None = None,
    event_filter: dict[str, Any] | None = None,
    max_slots_per_day: int | None = None,
    cursor_paging: dict[str, Any] | None = None,
    booking_policy_violations: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Class and course sessions in a window.

    Returns ``{timeSlots[{serviceId, localStartDate, localEndDate, bookable, totalCapacity,
    remainingCapacity, eventInfo{eventId}, location}], timeZone, pagingMetadata{cursors, hasNext}}``.
    """
    body = compact(
        {
            "fromLocalDate": from_local_date,
            "toLocalDate": to_local_date,
            "timeZone": time_zone,
            "serviceIds": service_ids,
            "includeNonBookable": include_non_bookable,
            "minBookableCapacity": min_bookable_capacity,
            "eventFilter": event_filter,
            "maxSlotsPerDay": max_slots_per_day,
            "cursorPaging": cursor_paging,
            "bookingPolicyViolations": booking_policy_violations,
        }
    )
    return wix.post(f"{TIME_SLOTS}/event", body, idempotent=True)


def get_event_time_slot(wix: WixClient, *, event_id: str, time_zone: str | None = None) -> dict[str, Any]:
    """Returns ``{timeSlot, timeZone}`` for one session."""
    return wix.get(f"{TIME_SLOTS}/event/{path_param(event_id, 'event_id')}", params={"timeZone": time_zone})


def list_availability_time_slots(
    wix: WixClient,
    *,
    service_id: str | None = None,
    from_local_date: str | None = None,
    to_local_date: str | None = None,
    time_zone: str | None = None,
    locations: list[dict[str, Any]] | None = None,
    include_resource_type_ids: list[str] | None = None,
    bookable: bool | None = None,
    booking_policy_violations: dict[str, Any] | None = None,
    time_slots_per_day: int | None = None,
    cursor_paging: dict[str, Any] | None = None,
    customer_choices: dict[str, Any] | None = None,
    resource_types: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Free appointment slots of one service.

    Returns ``{timeSlots[{localStartDate, localEndDate, bookable, location{locationType:
    BUSINESS|CUSTOM|CUSTOMER}, availableResources[]}], timeZone, cursorPagingMetadata}``.
    Raises ``WixNotFound`` (SERVICE_NOT_FOUND), ``WixBadRequest`` (MISSING_ARGUMENTS).
    """
    body = compact(
        {
            "serviceId": service_id,
            "fromLocalDate": from_local_date,
            "toLocalDate": to_local_date,
            "timeZone": time_zone,
            "locations": locations,
            "includeResourceTypeIds": include_resource_type_ids,
            "bookable": bookable,
            "bookingPolicyViolations": booking_policy_violations,
            "timeSlotsPerDay": time_slots_per_day,
            "cursorPaging": cursor_paging,
            "customerChoices": customer_choices,
            "resourceTypes": resource_types,
        }
    )
    return wix.post(TIME_SLOTS, body, idempotent=True)


def get_availability_time_slot(
    wix: WixClient,
    *,
    service_id: str,
    local_start_date: str,
    local_end_date: str,
    time_zone: str,
    location: dict[str, Any],
    resource_ids: list[str] | None = None,
    include_resource_type_ids: list[str] | None = None,
) -> dict[str, Any]:
    """One appointment slot with its available resources.

    Returns ``{timeSlot, timeZone}``. Raises ``WixNotFound`` (SLOT_NOT_FOUND).
    """
    body = compact(
        {
            "serviceId": service_id,
            "localStartDate": local_start_date,
            "localEndDate": local_end_date,
            "timeZone": time_zone,
            "location": location,
            "resourceIds": resource_ids,
            "includeResourceTypeIds": include_resource_type_ids,
        }
    )
    return wix.post(f"{TIME_SLOTS}/get", body, idempotent=True)


def list_multi_service_availability_time_slots(
    wix: WixClient,
    *,
    services: list[dict[str, Any]],
    from_local_date: str | None = None,
    to_local_date: str | None = None,
    time_zone: str | None = None,
    location: dict[str, Any] | None = None,
    bookable: bool | None = None,
    booking_policy_violations: dict[str, Any] | None = None,
    time_slots_per_day: int | None = None,
    cursor_paging: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Back-to-back chains of appointments; ``services`` items are ``{serviceId, customerChoices?}``.

    Returns ``{timeSlots[{localStartDate, localEndDate, nestedTimeSlots[]}], timeZone,
    cursorPagingMetadata}``.
    """
    body = compact(
        {
            "services": services,
            "fromLocalDate": from_local_date,
            "toLocalDate": to_local_date,
            "timeZone": time_zone,
            "location": location,
            "bookable": bookable,
            "bookingPolicyViolations": booking_policy_violations,
            "timeSlotsPerDay": time_slots_per_day,
            "cursorPaging": cursor_paging,
        }
    )
    return wix.post("/_api/service-availability/v2/multi-service-time-slots", body, idempotent=True)
