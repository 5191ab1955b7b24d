// Drives the Wix sandbox with Wix's official JS SDK, so the SDK itself builds every path, query
// string, header and body. Every request the SDK sends to https://www.wixapis.com is re-sent to
// the sandbox at http://127.0.0.1:<port> unchanged (method, headers, body).
//
// Input: one JSON argument (see tests/test_sdk_conformance.py). Output: one JSON object on stdout
// with the result of every step, the shape gaps and the request log (with every 200 response body
// when the input sets "logResponses"); a readable log line per request on stderr.

import { readdirSync, readFileSync } from "node:fs";

import { ApiKeyStrategy, createClient } from "@wix/sdk";
import * as balances from "@wix/auto_sdk_benefit-programs_balances";
import * as pools from "@wix/auto_sdk_benefit-programs_pools";
import * as attendance from "@wix/auto_sdk_bookings_attendance";
import * as availabilityTimeSlots from "@wix/auto_sdk_bookings_availability-time-slots";
import * as bookings from "@wix/auto_sdk_bookings_bookings";
import * as eventTimeSlots from "@wix/auto_sdk_bookings_event-time-slots";
import * as extendedBookings from "@wix/auto_sdk_bookings_extended-bookings";
import * as services from "@wix/auto_sdk_bookings_services";
import * as contacts from "@wix/auto_sdk_crm_contacts";
import * as cart from "@wix/auto_sdk_ecom_cart-v-2";
import * as checkout from "@wix/auto_sdk_ecom_checkout";
import * as orderBilling from "@wix/auto_sdk_ecom_order-billing";
import * as orderTransactions from "@wix/auto_sdk_ecom_order-transactions";
import * as orders from "@wix/auto_sdk_ecom_orders";
import * as planOrders from "@wix/auto_sdk_pricing-plans_orders";

const BOOKINGS_APP_ID = "13d21c63-b5ec-5912-8397-c3a5ddb27a97";
const PRICING_PLANS_APP_ID = "1522827f-c56c-a5c9-2ac9-00f9e6ae12d3";
const PLANS_NAMESPACE = "@wix/pricing-plans";

const input = JSON.parse(process.argv[2] ?? process.env.SDK_FLOW_INPUT ?? "{}");
const sandboxBase = `http://127.0.0.1:${input.port}`;

// -- the transport: the SDK's own requests, redirected to the sandbox -------------------------

const requestLog = [];
const realFetch = globalThis.fetch;
let currentStep = null;

globalThis.fetch = async (resource, init = {}) => {
  const original = new URL(typeof resource === "string" || resource instanceof URL ? resource.toString() : resource.url);
  if (original.protocol !== "https:" || original.host !== "www.wixapis.com") {
    // Nothing else may leave the machine; record it so the test fails loudly.
    requestLog.push({ step: currentStep, method: init.method ?? "GET", url: original.toString(), status: null, refused: true });
    throw new Error(`refused request to ${original}`);
  }
  const headers = new Headers(init.headers ?? {});
  const entry = {
    step: currentStep,
    method: (init.method ?? "GET").toUpperCase(),
    path: original.pathname,
    query: original.search,
    auth: { authorization: headers.get("authorization"), siteId: headers.get("wix-site-id") },
    body: typeof init.body === "string" && init.body ? JSON.parse(init.body) : null,
  };
  const response = await realFetch(`${sandboxBase}${original.pathname}${original.search}`, { ...init, headers });
  entry.status = response.status;
  if (response.status !== 200) {
    try {
      const data = await response.clone().json();
      entry.errorMessage = data?.message ?? null;
      entry.errorCode = data?.details?.applicationError?.code ?? (data?.details?.validationError ? "VALIDATION" : null);
    } catch {
      entry.errorCode = null;
    }
  }
  if (input.logResponses && response.status === 200) {
    entry.response = await response.clone().json();
  }
  requestLog.push(entry);
  process.stderr.write(`[sdk] ${entry.method} ${entry.path}${entry.query} -> ${entry.status}${entry.errorCode ? ` ${entry.errorCode}` : ""}\n`);
  return response;
};

const wix = createClient({
  modules: {
    services,
    eventTimeSlots,
    availabilityTimeSlots,
    bookings,
    extendedBookings,
    attendance,
    contacts,
    cart,
    checkout,
    orders,
    orderTransactions,
    orderBilling,
    planOrders,
    pools,
    balances,
  },
  auth: ApiKeyStrategy({ apiKey: input.apiKey, siteId: input.siteId }),
});

// -- shape check: the fields each SDK function's typing promises are never null ------------------
//
// Every typed SDK function declares its result as NonNullablePaths<T, `a` | `b.${number}.c`, N>:
// the fields the typing promises are never null. A field is only checked where its parent is present (oneOf
// members and optional sub-objects are legitimately absent), so gaps are findings to judge.

const shapeGaps = {};
const pathsCache = new Map();

function guaranteedPaths(pkg, fn) {
  const key = `${pkg}.${fn}`;
  if (!pathsCache.has(key)) pathsCache.set(key, readGuaranteedPaths(pkg, fn));
  return pathsCache.get(key);
}

function readGuaranteedPaths(pkg, fn) {
  const dir = new URL(`./node_modules/@wix/${pkg}/build/cjs/`, import.meta.url);
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".d.ts") || file === "meta.d.ts" || file === "index.d.ts") continue;
    const text = readFileSync(new URL(file, dir), "utf8");
    const at = text.indexOf(`\ndeclare function ${fn}(`);
    if (at < 0) continue;
    const line = text.slice(at + 1, text.indexOf("\n", at + 1));
    const m = line.match(/\): Promise<NonNullablePaths<\w+, ((?:`[^`]*`(?: \| )?)+), \d+>/);
    return m ? [...m[1].matchAll(/`([^`]*)`/g)].map((x) => x[1]) : [];
  }
  return [];
}

function missing(node, parts, full, gaps) {
  const [head, ...rest] = parts;
  if (head === "${number}") {
    if (Array.isArray(node)) node.forEach((item) => missing(item, rest, full, gaps));
    return;
  }
  if (node == null || typeof node !== "object") return;
  const value = node[head];
  if (rest.length === 0) {
    if (value === undefined || value === null) gaps.add(full);
    return;
  }
  if (value != null) missing(value, rest, full, gaps);
}

/** Records which promised fields ``value`` (what SDK function ``pkg``.``fn`` returned) lacks. */
function checkShape(pkg, fn, value) {
  const key = `${pkg.replace("auto_sdk_", "")}.${fn}`;
  const gaps = new Set(shapeGaps[key] ?? []);
  for (const path of guaranteedPaths(`auto_sdk_${pkg}`, fn)) missing(value, path.split("."), path, gaps);
  shapeGaps[key] = [...gaps].sort();
  return value;
}

// -- steps ---------------------------------------------------------------------------------------

const results = {};

function describeError(err) {
  return {
    ok: false,
    status: err?.status ?? err?.response?.status ?? null,
    code: err?.details?.applicationError?.code ?? null,
    fieldViolations: err?.details?.validationError?.fieldViolations ?? null,
    message: String(err?.message ?? err).slice(0, 600),
  };
}

/** Runs one SDK step; a failure is recorded and the flow goes on with what it has. */
async function step(name, fn) {
  currentStep = name;
  try {
    const value = await fn();
    results[name] = { ok: true, ...value };
  } catch (err) {
    results[name] = err instanceof Skip ? { ok: false, skipped: err.message } : describeError(err);
  }
  currentStep = null;
  return results[name];
}

/** Runs a call that the contract says must be rejected; records how the SDK surfaced it. */
async function expectError(name, fn) {
  currentStep = name;
  try {
    const value = await fn();
    results[name] = { ok: false, unexpectedSuccess: true, value: JSON.stringify(value).slice(0, 600) };
  } catch (err) {
    results[name] = err instanceof Skip ? { ok: false, skipped: err.message } : { ...describeError(err), ok: true };
  }
  currentStep = null;
  return results[name];
}

class Skip extends Error {}

function need(...values) {
  if (values.some((v) => v === undefined || v === null)) {
    throw new Skip("an earlier step this one depends on failed");
  }
}

const get = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

function bookingSummary(b) {
  return {
    bookingId: b?._id ?? null,
    status: b?.status ?? null,
    paymentStatus: b?.paymentStatus ?? null,
    selectedPaymentOption: b?.selectedPaymentOption ?? null,
    revision: b?.revision ?? null,
    totalParticipants: b?.totalParticipants ?? null,
    eventId: get(b, "bookedEntity.slot.eventId") ?? null,
    serviceId: get(b, "bookedEntity.slot.serviceId") ?? null,
    contactId: get(b, "contactDetails.contactId") ?? null,
    startDate: b?.startDate ? String(b.startDate) : null,
  };
}

function lineItemSummary(li) {
  return {
    lineItemId: li?._id ?? null,
    catalogItemId: get(li, "catalogReference.catalogItemId") ?? null,
    appId: get(li, "catalogReference.appId") ?? null,
    productName: get(li, "productName.original") ?? null,
    price: get(li, "price.amount") ?? null,
    paymentOption: li?.paymentOption ?? null,
    rootCatalogItemId: li?.rootCatalogItemId ?? null,
    scheduledDate: get(li, "serviceProperties.scheduledDate") ? String(li.serviceProperties.scheduledDate) : null,
    numberOfParticipants: get(li, "serviceProperties.numberOfParticipants") ?? null,
    availability: get(li, "availability.status") ?? null,
  };
}

function orderSummary(o) {
  return {
    orderId: o?._id ?? null,
    number: o?.number ?? null,
    status: o?.status ?? null,
    paymentStatus: o?.paymentStatus ?? null,
    channelType: get(o, "channelInfo.type") ?? null,
    total: get(o, "priceSummary.total.amount") ?? null,
    balance: get(o, "balanceSummary.balance.amount") ?? null,
    paid: get(o, "balanceSummary.paid.amount") ?? null,
    lineItems: (o?.lineItems ?? []).map((li) => ({
      lineItemId: li?._id ?? null,
      catalogItemId: get(li, "catalogReference.catalogItemId") ?? null,
      paymentOption: li?.paymentOption ?? null,
      price: get(li, "price.amount") ?? null,
    })),
  };
}

async function bookClass({ serviceId, eventId, contactId, participants = 1, paymentOption = "OFFLINE" }) {
  const { booking } = checkShape(
    "bookings_bookings",
    "createBooking",
    await wix.bookings.createBooking(
      {
        bookedEntity: { slot: { serviceId, eventId } },
        contactDetails: { contactId },
        totalParticipants: participants,
        selectedPaymentOption: paymentOption,
      },
      { participantNotification: { notifyParticipants: false }, sendSmsReminder: false },
    ),
  );
  return booking;
}

// Checkout V1 (deprecated): create-order needs a billing address when the total is above 0.
async function checkoutFor(bookingId) {
  return checkShape(
    "ecom_checkout",
    "createCheckout",
    await wix.checkout.createCheckout({
      channelType: "BACKOFFICE_MERCHANT",
      lineItems: [{ quantity: 1, catalogReference: { catalogItemId: bookingId, appId: BOOKINGS_APP_ID } }],
      checkoutInfo: { billingInfo: { address: { country: "GB" } } },
    }),
  );
}

// Cart V2, Checkout V1's replacement: one cart per booking, placed as a back-office order.
async function cartFor(bookingId, customerInfo = { firstName: "Jo", lastName: "Walkin" }) {
  return checkShape(
    "ecom_cart-v-2",
    "createCart",
    await wix.cart.createCart({
      cart: { source: { channelType: "BACKOFFICE_MERCHANT" }, customerInfo },
      catalogItems: [{ quantity: 1, catalogReference: { catalogItemId: bookingId, appId: BOOKINGS_APP_ID } }],
    }),
  );
}

async function cartOrderFor(bookingId, customerInfo) {
  const c = await cartFor(bookingId, customerInfo);
  const placed = checkShape("ecom_cart-v-2", "placeOrder", await wix.cart.placeOrder(c._id));
  return { cartId: c._id, orderId: placed.orderId, completed: placed.completed };
}

async function extendedBooking(bookingId) {
  const page = await wix.extendedBookings
    .queryExtendedBookings({ withEcomOrder: true, withBookingAttendanceInfo: true })
    // Supported Filters of Query Extended Bookings name the booking's own fields ("id", not
    // "booking.id"); the SDK sends _id as id.
    .eq("_id", bookingId)
    .limit(10)
    .find();
  checkShape("bookings_extended-bookings", "typedQueryExtendedBookings", { extendedBookings: page.items });
  const found = page.items.find((x) => x?.booking?._id === bookingId);
  return {
    matched: page.items.length,
    found: Boolean(found),
    ...bookingSummary(found?.booking),
    attendanceStatus: get(found, "attendance.status") ?? null,
    attendees: get(found, "attendance.numberOfAttendees") ?? null,
    orderId: get(found, "order._id") ?? null,
    orderStatus: get(found, "order.status") ?? null,
    orderPaymentStatus: get(found, "order.paymentStatus") ?? null,
    orderTotal: get(found, "order.totalPrice.amount") ?? null,
    orderBalance: get(found, "order.balance.amount") ?? null,
    orderKeys: found?.order ? Object.keys(found.order).sort() : [],
  };
}

async function credits(poolId) {
  const balance = checkShape("benefit-programs_balances", "getBalance", await wix.balances.getBalance(poolId));
  return { balanceId: balance?._id ?? null, available: get(balance, "amount.available") ?? null, memberId: get(balance, "beneficiary.memberId") ?? null };
}

// 1. services
await step("queryServices", async () => {
  const page = await wix.services.queryServices().limit(100).find();
  const cls = page.items.find((s) => s._id === input.serviceId);
  return {
    count: page.items.length,
    found: Boolean(cls),
    serviceId: cls?._id ?? null,
    type: cls?.type ?? null,
    name: cls?.name ?? null,
    price: get(cls, "payment.fixed.price.value") ?? null,
    scheduleId: get(cls, "schedule._id") ?? null,
  };
});
const serviceId = results.queryServices.serviceId ?? input.serviceId;

// 2. class sessions
await step("listEventTimeSlots", async () => {
  need(serviceId);
  const res = checkShape(
    "bookings_event-time-slots",
    "listEventTimeSlots",
    await wix.eventTimeSlots.listEventTimeSlots({
      fromLocalDate: input.fromLocalDate,
      toLocalDate: input.toLocalDate,
      serviceIds: [serviceId],
    }),
  );
  const slots = res.timeSlots ?? [];
  const slot = slots.find((s) => get(s, "eventInfo.eventId") === input.eventId);
  const tiny = slots.find((s) => get(s, "eventInfo.eventId") === input.tinyEventId);
  return {
    count: slots.length,
    timeZone: res.timeZone ?? null,
    eventIds: slots.map((s) => get(s, "eventInfo.eventId")),
    eventId: get(slot, "eventInfo.eventId") ?? null,
    localStartDate: slot?.localStartDate ?? null,
    totalCapacity: slot?.totalCapacity ?? null,
    remainingCapacity: slot?.remainingCapacity ?? null,
    bookable: slot?.bookable ?? null,
    locationType: get(slot, "location.locationType") ?? null,
    tinyRemainingCapacity: tiny?.remainingCapacity ?? null,
  };
});
// Without time slots the flow still books the arranged session (the slots test fails on its own).
const eventId = results.listEventTimeSlots.eventId ?? input.eventId;

// 3. book the class, pay offline later
await step("createBooking", async () => {
  need(serviceId, eventId);
  return bookingSummary(await bookClass({ serviceId, eventId, contactId: input.contactId }));
});
const bookingId = results.createBooking.bookingId;

// 4. checkout with the booking as a line item
await step("createCheckout", async () => {
  need(bookingId);
  const co = await checkoutFor(bookingId);
  return {
    checkoutId: co?._id ?? null,
    channelType: co?.channelType ?? null,
    currency: co?.currency ?? null,
    total: get(co, "priceSummary.total.amount") ?? null,
    lineItem: lineItemSummary(co?.lineItems?.[0]),
    lineItemCount: co?.lineItems?.length ?? 0,
  };
});
const checkoutId = results.createCheckout.checkoutId;

// 5. order from the checkout
await step("createOrder", async () => {
  need(checkoutId);
  const res = checkShape("ecom_checkout", "createOrder", await wix.checkout.createOrder(checkoutId));
  return { orderId: res?.orderId ?? null, paymentGatewayOrderId: res?.paymentGatewayOrderId ?? null };
});
const orderId = results.createOrder.orderId;

// 6. the new order
await step("getOrder", async () => {
  need(orderId);
  return orderSummary(checkShape("ecom_orders", "getOrder", await wix.orders.getOrder(orderId)));
});

await step("extendedBookingAfterOrder", async () => {
  need(bookingId);
  return extendedBooking(bookingId);
});

// 7. mark as paid: the orders package carries the (untyped) Payments Collector method
await step("markOrderAsPaid", async () => {
  need(orderId);
  if (typeof wix.orders.paymentCollectionMarkOrderAsPaid !== "function") {
    throw new Skip("@wix/auto_sdk_ecom_orders has no paymentCollectionMarkOrderAsPaid");
  }
  const res = await wix.orders.paymentCollectionMarkOrderAsPaid(orderId, {
    userDefinedPaymentMethodName: { predefined: "CASH" },
  });
  return orderSummary(res?.order);
});

await step("getOrderAfterPaid", async () => {
  need(orderId);
  return orderSummary(checkShape("ecom_orders", "getOrder", await wix.orders.getOrder(orderId)));
});

// 8. the reader view: booking PAID, order PAID
await step("extendedBookingAfterPaid", async () => {
  need(bookingId);
  return extendedBooking(bookingId);
});

// 8b. Cart V2: a second booking, the supported way to an order
await step("cartBooking", async () => {
  need(serviceId, input.secondEventId);
  return bookingSummary(await bookClass({ serviceId, eventId: input.secondEventId, contactId: input.contactId }));
});

await step("createCart", async () => {
  need(results.cartBooking.bookingId);
  const c = await cartFor(results.cartBooking.bookingId, { firstName: "Jo", lastName: "Walkin", email: input.walkInEmail });
  const li = c?.lineItems?.[0];
  return {
    cartId: c?._id ?? null,
    channelType: get(c, "source.channelType") ?? null,
    subtotal: get(c, "subtotal.amount") ?? null,
    lineItemId: li?._id ?? null,
    catalogItemId: get(li, "source.catalogReference.catalogItemId") ?? null,
    rootCatalogItemId: get(li, "source.rootCatalogItemId") ?? null,
    paymentOption: get(li, "paymentConfig.paymentOption") ?? null,
    unitPrice: get(li, "pricing.unitPrice.amount") ?? null,
    orderPlaced: c?.orderPlaced ?? null,
  };
});

await step("placeOrder", async () => {
  need(results.createCart.cartId);
  const res = checkShape("ecom_cart-v-2", "placeOrder", await wix.cart.placeOrder(results.createCart.cartId));
  const o = await wix.orders.getOrder(res.orderId);
  const eb = await extendedBooking(results.cartBooking.bookingId);
  return {
    orderId: res?.orderId ?? null,
    completed: res?.completed ?? null,
    paymentGatewayOrderId: res?.paymentGatewayOrderId ?? null,
    ...Object.fromEntries(Object.entries(orderSummary(o)).map(([k, v]) => [`order_${k}`, v])),
    buyerContactId: get(o, "buyerInfo.contactId") ?? null,
    buyerMemberId: get(o, "buyerInfo.memberId") ?? null,
    bookingStatus: eb.status,
    bookingPaymentStatus: eb.paymentStatus,
  };
});

await step("getCart", async () => {
  need(results.createCart.cartId);
  const c = checkShape("ecom_cart-v-2", "getCart", await wix.cart.getCart(results.createCart.cartId));
  return { orderPlaced: c?.orderPlaced ?? null, orderId: c?.orderId ?? null };
});

await expectError("placeOrderAgain", async () => {
  need(results.placeOrder.orderId);
  return wix.cart.placeOrder(results.createCart.cartId);
});

// 9. check in
await step("setAttendance", async () => {
  need(bookingId, eventId);
  const res = checkShape(
    "bookings_attendance",
    "setAttendance",
    await wix.attendance.setAttendance({ bookingId, eventId, status: "ATTENDED", numberOfAttendees: 1 }),
  );
  const a = res?.attendance;
  return { attendanceId: a?._id ?? null, status: a?.status ?? null, numberOfAttendees: a?.numberOfAttendees ?? null, bookingId: a?.bookingId ?? null };
});

await step("extendedBookingAfterAttendance", async () => {
  need(bookingId);
  return extendedBooking(bookingId);
});

// 10. contacts
await step("createContact", async () => {
  const res = checkShape(
    "crm_contacts",
    "createContact",
    await wix.contacts.createContact({
      name: { first: "Sdk", last: "Walkin" },
      emails: { items: [{ tag: "MAIN", email: input.newContactEmail, primary: true }] },
      phones: { items: [{ tag: "MOBILE", countryCode: "GB", phone: "+44 7700 900123", primary: true }] },
    }),
  );
  const c = res?.contact;
  return { contactId: c?._id ?? null, revision: c?.revision ?? null, primaryEmail: get(c, "primaryInfo.email") ?? null, first: get(c, "info.name.first") ?? null };
});

await step("queryContacts", async () => {
  need(results.createContact.contactId);
  const page = await wix.contacts.queryContacts().eq("primaryInfo.email", input.newContactEmail).limit(10).find();
  return { count: page.items.length, ids: page.items.map((c) => c._id) };
});

await expectError("createContactDuplicate", async () => {
  need(results.createContact.contactId);
  return wix.contacts.createContact({ name: { first: "Sdk", last: "Again" }, emails: { items: [{ tag: "MAIN", email: input.newContactEmail, primary: true }] } });
});

// A second walk-in paid with an offline payment record (Order Transactions Add Payments).
await step("addPaymentsFlow", async () => {
  need(serviceId, eventId);
  const b = await bookClass({ serviceId, eventId, contactId: results.createContact.contactId ?? input.contactId });
  const { orderId: oid } = await cartOrderFor(b._id, { firstName: "Sdk", lastName: "Walkin", email: input.newContactEmail });
  const before = await wix.orders.getOrder(oid);
  const amount = get(before, "priceSummary.total.amount");
  const res = checkShape("ecom_order-transactions", "addPayments", await wix.orderTransactions.addPayments(oid, [
    {
      amount: { amount },
      regularPaymentDetails: { offlinePayment: true, paymentMethodName: { userDefinedName: { predefined: "CASH" } } },
      status: "APPROVED",
    },
  ]));
  const after = await wix.orders.getOrder(oid);
  const eb = await extendedBooking(b._id);
  return {
    bookingId: b._id,
    orderId: oid,
    amount,
    paymentsIds: res?.paymentsIds ?? [],
    transactionsPayments: get(res, "orderTransactions.payments")?.length ?? null,
    orderPaymentStatusBefore: before?.paymentStatus ?? null,
    orderPaymentStatusAfter: after?.paymentStatus ?? null,
    bookingPaymentStatusAfter: eb.paymentStatus,
    bookingStatusAfter: eb.status,
  };
});

// Money given back at the desk: Order Billing Refund Payments with an external refund.
await expectError("refundOfflineWithoutExternal", async () => {
  need(results.addPaymentsFlow.orderId, results.addPaymentsFlow.paymentsIds?.[0]);
  return wix.orderBilling.refundPayments(results.addPaymentsFlow.orderId, {
    paymentRefunds: [{ paymentId: results.addPaymentsFlow.paymentsIds[0] }],
  });
});

await step("refundOfflinePayment", async () => {
  need(results.addPaymentsFlow.orderId, results.addPaymentsFlow.paymentsIds?.[0]);
  const oid = results.addPaymentsFlow.orderId;
  const res = checkShape(
    "ecom_order-billing",
    "refundPayments",
    await wix.orderBilling.refundPayments(oid, {
      paymentRefunds: [{ paymentId: results.addPaymentsFlow.paymentsIds[0], externalRefund: true }],
    }),
  );
  const after = await wix.orders.getOrder(oid);
  const eb = await extendedBooking(results.addPaymentsFlow.bookingId);
  return {
    refundId: get(res, "refund._id") ?? null,
    transactions: (get(res, "refund.transactions") ?? []).map((t) => ({
      paymentId: t.paymentId ?? null,
      amount: get(t, "amount.amount") ?? null,
      refundStatus: t.refundStatus ?? null,
      externalRefund: t.externalRefund ?? null,
    })),
    orderPaymentStatusAfter: after?.paymentStatus ?? null,
    bookingPaymentStatusAfter: eb.paymentStatus,
  };
});

// 11. plan member: plan orders, pools, balance, pay a booking with the plan
await step("planOrders", async () => {
  const res = checkShape("pricing-plans_orders", "managementListOrders", await wix.planOrders.managementListOrders({ buyerIds: [input.memberId] }));
  const list = res?.orders ?? [];
  return {
    count: list.length,
    orders: list.map((o) => ({ orderId: o._id, planId: o.planId, status: o.status, memberId: get(o, "buyer.memberId") ?? null, lastPaymentStatus: o.lastPaymentStatus ?? null })),
  };
});

await step("queryPools", async () => {
  const page = await wix.pools.queryPools().eq("beneficiary.memberId", input.memberId).eq("status", "ACTIVE").limit(50).find();
  return { count: page.items.length, poolIds: page.items.map((p) => p._id), namespaces: page.items.map((p) => p.namespace ?? null) };
});

await step("getEligibleBenefits", async () => {
  need(serviceId);
  const res = checkShape(
    "benefit-programs_pools",
    "getEligibleBenefits",
    await wix.pools.getEligibleBenefits(
      { externalId: serviceId, providerAppId: BOOKINGS_APP_ID },
      { namespace: PLANS_NAMESPACE, beneficiary: { memberId: input.memberId } },
    ),
  );
  const list = res?.eligibleBenefits ?? [];
  return { count: list.length, poolIds: list.map((b) => b.poolId), benefitKeys: list.map((b) => b.benefitKey) };
});

const poolId = results.getEligibleBenefits.poolIds?.[0] ?? results.queryPools.poolIds?.[0] ?? null;

await step("balanceBefore", async () => {
  need(poolId);
  return { poolId, ...(await credits(poolId)) };
});

await step("membershipBooking", async () => {
  need(serviceId, eventId);
  return bookingSummary(await bookClass({ serviceId, eventId, contactId: input.memberContactId, paymentOption: "MEMBERSHIP" }));
});
const memberBookingId = results.membershipBooking.bookingId;

// Checkout V1 offers no membership to an API-key caller: no buyer is inferred, so no eligible memberships.
await step("membershipCheckout", async () => {
  need(memberBookingId);
  const co = await checkoutFor(memberBookingId);
  const eligible = get(co, "membershipOptions.eligibleMemberships") ?? [];
  return {
    checkoutId: co._id,
    buyerMemberId: get(co, "buyerInfo.memberId") ?? null,
    buyerContactId: get(co, "buyerInfo.contactId") ?? null,
    lineItem: lineItemSummary(co?.lineItems?.[0]),
    eligible: eligible.map((m) => m._id),
  };
});

await step("selectMembership", async () => {
  const mc = results.membershipCheckout;
  need(mc.checkoutId, poolId);
  const co = checkShape("ecom_checkout", "updateCheckout", await wix.checkout.updateCheckout(mc.checkoutId, {
    membershipOptions: {
      selectedMemberships: { memberships: [{ _id: poolId, appId: PRICING_PLANS_APP_ID, lineItemIds: [mc.lineItem.lineItemId] }] },
    },
  }));
  return {
    selected: (get(co, "membershipOptions.selectedMemberships.memberships") ?? []).map((m) => m._id),
    invalid: (get(co, "membershipOptions.invalidMemberships") ?? []).map((m) => get(m, "membership._id") ?? null),
  };
});

await expectError("membershipCheckoutOrder", async () => {
  need(results.membershipCheckout.checkoutId);
  return wix.checkout.createOrder(results.membershipCheckout.checkoutId);
});

// The supported way: a Cart V2 order for the booking, then Order Billing Charge Memberships.
await step("membershipOrder", async () => {
  need(memberBookingId, poolId);
  const { orderId: oid } = await cartOrderFor(memberBookingId, { firstName: "Mia", lastName: "Member" });
  const placed = await wix.orders.getOrder(oid);
  const charged = await wix.orderBilling.chargeMemberships(oid, {
    memberId: input.memberId,
    memberships: [
      {
        lineItemId: placed.lineItems[0]._id,
        membershipIdentifier: { existingMembership: { appId: PRICING_PLANS_APP_ID, membershipId: poolId } },
      },
    ],
  });
  const tx = checkShape("ecom_order-transactions", "listTransactionsForSingleOrder", await wix.orderTransactions.listTransactionsForSingleOrder(oid));
  const o = checkShape("ecom_orders", "getOrder", await wix.orders.getOrder(oid));
  const payments = get(tx, "orderTransactions.payments") ?? [];
  return {
    ...orderSummary(o),
    paymentOptionBeforeCharge: placed.lineItems[0].paymentOption ?? null,
    paymentStatusBeforeCharge: placed.paymentStatus ?? null,
    chargedStatuses: (charged?.payments ?? []).map((p) => p.status ?? null),
    membershipPayments: payments.filter((p) => p.membershipPaymentDetails).map((p) => ({
      paymentId: p._id ?? null,
      membershipId: get(p, "membershipPaymentDetails.membershipId") ?? null,
      lineItemId: get(p, "membershipPaymentDetails.lineItemId") ?? null,
      status: p.status ?? null,
    })),
  };
});

await step("balanceAfterCheckout", async () => {
  need(poolId);
  return { poolId, ...(await credits(poolId)) };
});

await step("membershipBookingAfterOrder", async () => {
  need(memberBookingId);
  return extendedBooking(memberBookingId);
});

// Alternative: charge the plan on an existing order (Order Billing Charge Memberships).
await step("chargeMembershipsFlow", async () => {
  need(serviceId, input.secondEventId, poolId);
  const b = await bookClass({ serviceId, eventId: input.secondEventId, contactId: input.memberContactId, paymentOption: "MEMBERSHIP" });
  const { orderId: oid } = await cartOrderFor(b._id, { firstName: "Mia", lastName: "Member" });
  const o = await wix.orders.getOrder(oid);
  const lineItemId = o?.lineItems?.[0]?._id;
  const res = checkShape(
    "ecom_order-billing",
    "chargeMemberships",
    await wix.orderBilling.chargeMemberships(oid, {
      memberId: input.memberId,
      memberships: [{ lineItemId, membershipIdentifier: { existingMembership: { appId: PRICING_PLANS_APP_ID, membershipId: poolId } } }],
    }),
  );
  const after = await wix.orders.getOrder(oid);
  const eb = await extendedBooking(b._id);
  return {
    bookingId: b._id,
    orderId: oid,
    orderPaymentStatusBefore: o?.paymentStatus ?? null,
    orderPaymentStatusAfter: after?.paymentStatus ?? null,
    payments: (res?.payments ?? []).map((p) => ({
      paymentId: p._id ?? null,
      status: p.status ?? null,
      membershipId: get(p, "membershipPaymentDetails.membershipId") ?? null,
    })),
    bookingStatusAfter: eb.status,
    bookingPaymentStatusAfter: eb.paymentStatus,
  };
});

await step("balanceAfterCharge", async () => {
  need(poolId);
  return { poolId, ...(await credits(poolId)) };
});

// Undo of a plan charge: refunding the membership payment gives its credit back.
await step("refundMembershipPayment", async () => {
  const flow = results.chargeMembershipsFlow;
  need(flow.orderId, flow.payments?.[0]?.paymentId);
  const res = checkShape(
    "ecom_order-billing",
    "refundPayments",
    await wix.orderBilling.refundPayments(flow.orderId, { paymentRefunds: [{ paymentId: flow.payments[0].paymentId }] }),
  );
  const after = await wix.orders.getOrder(flow.orderId);
  const payment = (get(res, "orderTransactions.payments") ?? []).find((p) => p._id === flow.payments[0].paymentId);
  return {
    paymentStatus: payment?.status ?? null,
    orderPaymentStatusAfter: after?.paymentStatus ?? null,
    ...(await credits(poolId)),
  };
});

// Appointments: free slots carved from staff working hours, booked with the full slot.
await step("appointmentSlots", async () => {
  const res = checkShape(
    "bookings_availability-time-slots",
    "listAvailabilityTimeSlots",
    await wix.availabilityTimeSlots.listAvailabilityTimeSlots({
      serviceId: input.appointmentServiceId,
      fromLocalDate: input.fromLocalDate,
      toLocalDate: input.toLocalDate,
      // Resources are listed on a slot only when asked for.
      includeResourceTypeIds: [input.staffResourceTypeId],
    }),
  );
  const slots = res.timeSlots ?? [];
  return {
    count: slots.length,
    timeZone: res.timeZone ?? null,
    hasCursorPagingMetadata: Boolean(res.cursorPagingMetadata),
    starts: slots.map((s) => s.localStartDate),
    ends: slots.map((s) => s.localEndDate),
    bookable: slots.map((s) => s.bookable),
    scheduleId: slots[0]?.scheduleId ?? null,
    locationType: get(slots[0], "location.locationType") ?? null,
    resourceIds: [...new Set(slots.flatMap((s) => (s.availableResources ?? []).flatMap((r) => (r.resources ?? []).map((x) => x._id))))],
  };
});

await step("appointmentBooking", async () => {
  const found = results.appointmentSlots;
  need(found.starts?.[0], found.scheduleId);
  const { booking } = checkShape(
    "bookings_bookings",
    "createBooking",
    await wix.bookings.createBooking(
      {
        bookedEntity: {
          slot: {
            serviceId: input.appointmentServiceId,
            scheduleId: found.scheduleId,
            startDate: found.starts[0],
            endDate: found.ends[0],
            timezone: found.timeZone,
            resource: { _id: input.staffResourceId },
            location: { locationType: "OWNER_BUSINESS" },
          },
        },
        contactDetails: { contactId: input.contactId },
        totalParticipants: 1,
        selectedPaymentOption: "OFFLINE",
      },
      { participantNotification: { notifyParticipants: false } },
    ),
  );
  return { ...bookingSummary(booking), resourceId: get(booking, "bookedEntity.slot.resource._id") ?? null, slotStart: get(booking, "bookedEntity.slot.startDate") ?? null };
});

// 12. rejections, as the SDK surfaces them
await step("fillTinySession", async () => {
  need(serviceId, input.tinyEventId);
  const b = await bookClass({ serviceId, eventId: input.tinyEventId, contactId: input.contactId });
  const { orderId: oid } = await cartOrderFor(b._id);
  const eb = await extendedBooking(b._id);
  return { bookingId: b._id, orderId: oid, statusAfterOrder: eb.status };
});

await expectError("overCapacity", async () => {
  need(serviceId, input.tinyEventId);
  return bookClass({ serviceId, eventId: input.tinyEventId, contactId: input.memberContactId });
});

await expectError("getOrderUnknown", async () => wix.orders.getOrder(input.unknownOrderId));

await expectError("markOrderAsPaidAgain", async () => {
  need(orderId);
  return wix.orders.paymentCollectionMarkOrderAsPaid(orderId, { userDefinedPaymentMethodName: { predefined: "CASH" } });
});

await expectError("setAttendanceWithoutSession", async () => {
  need(bookingId);
  return wix.attendance.setAttendance({ bookingId, status: "NOT_ATTENDED" });
});

await step("slotsAfter", async () => {
  need(serviceId);
  const res = await wix.eventTimeSlots.listEventTimeSlots({ fromLocalDate: input.fromLocalDate, toLocalDate: input.toLocalDate, serviceIds: [serviceId] });
  const slots = res.timeSlots ?? [];
  const byId = Object.fromEntries(slots.map((s) => [get(s, "eventInfo.eventId"), s]));
  return {
    remainingCapacity: byId[input.eventId]?.remainingCapacity ?? null,
    tinyRemainingCapacity: byId[input.tinyEventId]?.remainingCapacity ?? null,
    tinyBookable: byId[input.tinyEventId]?.bookable ?? null,
  };
});

// Cursor paging as the SDK does it: the next page is asked for with the cursor alone.
await step("pageExtendedBookings", async () => {
  let page = await wix.extendedBookings.queryExtendedBookings({ withEcomOrder: true }).limit(2).find();
  const ids = page.items.map((x) => x.booking?._id);
  const sizes = [page.items.length];
  while (page.hasNext() && sizes.length < 20) {
    page = await page.next();
    ids.push(...page.items.map((x) => x.booking?._id));
    sizes.push(page.items.length);
  }
  return { pages: sizes.length, sizes, ids, distinct: new Set(ids).size };
});

process.stdout.write(JSON.stringify({ results, shapeGaps, requests: requestLog }) + "\n");
