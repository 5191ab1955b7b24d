"""Multi-service time slots: back-to-back sequences (``handlers/availability/multi_service.py``)."""

from __future__ import annotations

from tests.wix_sandbox.availability_builders import MONDAY, appointment_booking, at, error_code
from tests.wix_sandbox.builders import call, make_service, make_working_hours
from wix_sandbox import Sandbox

MULTI = "/_api/service-availability/v2/multi-service-time-slots"


def test_multi_service_slots_are_back_to_back_sequences(sandbox: Sandbox, massage: dict) -> None:
    alex, sam = massage["alex"], massage["sam"]
    spa = sandbox.state.get("locations", massage["service"]["locations"][0]["id"])
    facial = make_service(
        sandbox, type="APPOINTMENT", name="Facial", capacity=1, staff=[sam], duration_minutes=30, location=spa
    )
    make_working_hours(sandbox, sam, at(MONDAY, 10), hours=3)  # 10:00–13:00
    appointment_booking(sandbox, facial, sam, "2026-11-23T11:00:00", "2026-11-23T11:30:00")
    body = {
        "services": [{"serviceId": massage["service"]["id"]}, {"serviceId": facial["id"]}],
        "fromLocalDate": "2026-11-23T00:00:00",
        "toLocalDate": "2026-11-24T00:00:00",
        "timeZone": "Europe/London",
        "location": {"id": spa["id"], "locationType": "BUSINESS"},
    }
    status, result = call(sandbox, "POST", MULTI, body)
    assert status == 200
    # 09:00 massage → 10:00 facial; 10:00 → 11:00 facial is taken; 11:00 → 12:00 facial.
    assert [(s["localStartDate"], s["localEndDate"]) for s in result["timeSlots"]] == [
        ("2026-11-23T09:00:00", "2026-11-23T10:30:00"),
        ("2026-11-23T11:00:00", "2026-11-23T12:30:00"),
    ]
    nested = result["timeSlots"][0]["nestedTimeSlots"]
    assert [n["serviceId"] for n in nested] == [massage["service"]["id"], facial["id"]]
    assert nested[1]["localStartDate"] == "2026-11-23T10:00:00"
    assert nested[1]["availableResources"][0]["resources"][0]["id"] == sam["resourceId"]
    assert nested[0]["availableResources"][0]["resources"][0]["id"] == alex["resourceId"]


def test_multi_service_sequence_needs_one_location(sandbox: Sandbox, massage: dict) -> None:
    sam = massage["sam"]
    elsewhere = make_service(sandbox, type="APPOINTMENT", name="Facial", capacity=1, staff=[sam], duration_minutes=30)
    make_working_hours(sandbox, sam, at(MONDAY, 10), hours=3)
    body = {
        "services": [{"serviceId": massage["service"]["id"]}, {"serviceId": elsewhere["id"]}],
        "fromLocalDate": "2026-11-23T00:00:00",
        "toLocalDate": "2026-11-24T00:00:00",
        "timeZone": "Europe/London",
        "location": {"id": massage["service"]["locations"][0]["id"], "locationType": "BUSINESS"},
    }
    assert call(sandbox, "POST", MULTI, body)[1]["timeSlots"] == []


def test_multi_service_slots_validate_the_request(sandbox: Sandbox, massage: dict) -> None:
    where = {"id": massage["service"]["locations"][0]["id"], "locationType": "BUSINESS"}
    dates = {
        "fromLocalDate": "2026-11-23T00:00:00",
        "toLocalDate": "2026-11-24T00:00:00",
        "timeZone": "Europe/London",
        "location": where,
    }
    assert call(sandbox, "POST", MULTI, {"services": [], **dates})[0] == 400
    assert call(sandbox, "POST", MULTI, {"services": [{"serviceId": "nope"}], **dates})[0] == 404
    status, body = call(sandbox, "POST", MULTI, {"services": [{"serviceId": massage["service"]["id"]}]})
    assert status == 400 and error_code(body) == "MISSING_ARGUMENTS"


def test_multi_service_slots_need_a_location_and_a_time_zone(sandbox: Sandbox, massage: dict) -> None:
    # "You must specify … services.serviceId, fromLocalDate, toLocalDate, location, and timeZone".
    services = [{"serviceId": massage["service"]["id"]}, {"serviceId": massage["service"]["id"]}]
    dates = {"services": services, "fromLocalDate": "2026-11-23T00:00:00", "toLocalDate": "2026-11-24T00:00:00"}
    where = {"id": massage["service"]["locations"][0]["id"], "locationType": "BUSINESS"}

    no_location, no_location_body = call(sandbox, "POST", MULTI, {**dates, "timeZone": "Europe/London"})
    no_zone, no_zone_body = call(sandbox, "POST", MULTI, {**dates, "location": where})
    no_id, no_id_body = call(
        sandbox, "POST", MULTI, {**dates, "timeZone": "Europe/London", "location": {"locationType": "BUSINESS"}}
    )

    assert (no_location, error_code(no_location_body)) == (400, "MISSING_ARGUMENTS")
    assert "location" in no_location_body["message"]
    assert (no_zone, error_code(no_zone_body)) == (400, "MISSING_ARGUMENTS")
    assert "timeZone" in no_zone_body["message"]
    assert no_id == 400
    assert no_id_body["details"]["validationError"]["fieldViolations"][0]["field"] == "location.id"
