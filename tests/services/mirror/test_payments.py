"""Payments: which method an order-transactions payment is; the plan charges the desk records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bookings_app.models import Order, Payment
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


@pytest.mark.django_db
def test_a_plan_charge_the_desk_made_is_recorded_once_and_moves_the_order_money_once():
    order = Order.objects.create(wix_id="order-1", status="APPROVED", payment_status="NOT_PAID", total=12, balance=12)
    charge = {
        "id": "payment-1",
        "amount": {"amount": "12"},
        "status": "APPROVED",
        "createdDate": "2026-11-21T09:00:00.000Z",
        "membershipPaymentDetails": {"membershipId": "pool-1", "lineItemId": "line-1"},
    }

    mirror.payments.membership_payments_record(order_id="order-1", payments=[charge])
    mirror.payments.membership_payments_record(order_id="order-1", payments=[charge])  # found again after a lost answer

    payment = Payment.objects.get()
    assert (payment.method, payment.amount, payment.line_item_id, payment.membership_id) == (
        Payment.Method.PLAN,
        Decimal("12"),
        "line-1",
        "pool-1",
    )
    assert payment.wix_created_at is None and payment.revision is None  # the sync brings Wix's version
    order.refresh_from_db()
    assert (order.payment_status, order.paid, order.balance) == ("PAID", Decimal("12"), Decimal("0"))
