"""Payments: which method an order-transactions payment is."""

from __future__ import annotations

import pytest

from bookings_app.services import mirror


@pytest.mark.parametrize(
    ("payment", "method"),
    [
        (
            {
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"predefined": "CASH"}},
                }
            },
            "CASH",
        ),
        (
            {
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"predefined": "CHECK"}},
                }
            },
            "CHECK",
        ),
        (
            {
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"custom": "Card"}},
                }
            },
            "CARD",
        ),
        (
            {
                "regularPaymentDetails": {
                    "offlinePayment": True,
                    "paymentMethodName": {"userDefinedName": {"predefined": "BANK_TRANSFER"}},
                }
            },
            "OTHER",
        ),
        ({"regularPaymentDetails": {"offlinePayment": True}}, "OTHER"),
        ({"regularPaymentDetails": {"offlinePayment": False, "gatewayTransactionId": "gw-1"}}, "ONLINE"),
        ({"membershipPaymentDetails": {"membershipId": "pool-1", "lineItemId": "li-1"}}, "PLAN"),
        ({"giftcardPaymentDetails": {"giftCardPaymentId": "g"}}, "OTHER"),
    ],
)
def test_payment_method_is_read_from_the_order_transaction(payment, method):
    assert mirror.payments.payment_method(payment) == method
