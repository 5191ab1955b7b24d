"""Importing this package registers every sandbox route. One module per Wix API area."""

from . import (  # noqa: F401
    attendance,
    auth,
    availability,
    bookings,
    calendar,
    catalog,
    ecom_checkout,
    ecom_orders,
    ecom_payments,
    extended_bookings,
    people,
    plans,
)
