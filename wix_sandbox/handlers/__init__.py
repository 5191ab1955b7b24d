"""Importing this package registers every sandbox route (``routing.py``): one module or package per Wix API area.

The rules that link the areas (capacity, booking orders, plan programs and credits) are in ``rules/``.
"""

from . import (  # noqa: F401
    attendance,
    auth,
    availability,
    bookings,
    calendar,
    catalog,
    ecom_cart,
    ecom_checkout,
    ecom_orders,
    ecom_payments,
    extended_bookings,
    people,
    plans,
)
