"""Payment intents, charges and refunds, with Stripe's test payment methods.

Test cards (stripe.com/docs/testing): ``pm_card_visa``, ``pm_card_mastercard``, ``pm_card_amex`` (and
``tok_visa``... for the legacy ``POST /v1/charges``) succeed; ``pm_card_chargeDeclined`` /
``tok_chargeDeclined`` decline with ``card_declined`` (402 ``card_error``),
``pm_card_chargeDeclinedInsufficientFunds`` with ``insufficient_funds``. Amounts that move money obey
the currency rules of :mod:`..money`. A refund may not exceed what is left of its charge.
"""

from __future__ import annotations

from typing import Any

from .. import fields, money, shapes
from ..errors import StripeError, invalid, required
from ..forms import Params, need
from ..listing import LIST_PARAMS, page
from ..runtime import Sandbox, track_changes

CARDS = {"visa": ("visa", "4242"), "mastercard": ("mastercard", "4444"), "amex": ("amex", "8431"),
         "chargeDeclined": ("visa", "0002"), "visa_chargeDeclined": ("visa", "0002"),
         "chargeDeclinedInsufficientFunds": ("visa", "9995")}
DECLINES = {"chargeDeclined": "generic_decline", "visa_chargeDeclined": "generic_decline",
            "chargeDeclinedInsufficientFunds": "insufficient_funds"}
PI_WRITABLE = {"description": "str", "metadata": "metadata", "receipt_email": "str", "statement_descriptor": "str",
               "statement_descriptor_suffix": "str", "setup_future_usage": "str", "shipping": "hash",
               "transfer_group": "str"}
CHARGE_WRITABLE = {"description": "str", "metadata": "metadata", "receipt_email": "str", "shipping": "hash",
                   "transfer_group": "str"}
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
              "processing")


def card_of(method: str, param: str) -> tuple[str, str, str | None]:
    """(brand, last4, decline code or None) of a test payment method or token."""
    name = method.removeprefix("pm_card_").removeprefix("tok_")
    if name == method or name not in CARDS:
        raise StripeError(400, f"No such PaymentMethod: '{method}'", code="resource_missing", param=param)
    brand, last4 = CARDS[name]
    return brand, last4, DECLINES.get(name)


def _customer(sb: Sandbox, p: Params) -> str | None:
    customer_id = p.text("customer")
    if customer_id:
        sb.store.get("customer", customer_id, param="customer")
    return customer_id


def _charge_for(sb: Sandbox, amount: int, currency: str, method: str, customer: str | None,
                intent: dict[str, Any] | None, capture: bool, description: str | None) -> dict[str, Any]:
    brand, last4, decline = card_of(method, "payment_method" if intent else "source")
    ch = shapes.charge(sb.store.new_id("charge"), sb.now(), amount, currency, method,
                       shapes.card_details(brand, last4, amount))
    ch.update({"customer": customer, "description": description,
               "payment_intent": intent["id"] if intent else None})
    if decline:
        ch.update({"status": "failed", "paid": False, "captured": False, "amount_captured": 0,
                   "failure_code": "card_declined", "failure_message": "Your card was declined."})
        ch["outcome"].update({"network_status": "declined_by_network", "reason": decline,
                              "seller_message": "The bank did not return any further details with this decline.",
                              "type": "issuer_declined"})
    elif not capture:
        ch.update({"captured": False, "amount_captured": 0})
    sb.store.add("charge", ch)
    sb.emit("charge.failed" if decline else "charge.succeeded", ch)
    if decline:
        error = StripeError(402, "Your card was declined.", type="card_error", code="card_declined",
                            extra={"decline_code": decline, "charge": ch["id"]})
        error.extra["_charge"] = ch
        raise error
    return ch


# -- payment intents ----------------------------------------------------------------------------
def create_intent(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only("amount", "currency", "customer", "payment_method", "payment_method_types", "confirm",
           "capture_method", "automatic_payment_methods", "off_session", "return_url", "confirmation_method",
           *PI_WRITABLE)
    code = money.currency(p.text("currency"))
    amount = p.integer("amount", need=True)
    assert amount is not None
    money.check_amount(amount, code, moves_money=True)
    pi = shapes.payment_intent(sb.store.new_id("payment_intent"), sb.now(), amount, code)
    pi["customer"] = _customer(sb, p)
    pi.update(fields.read(pi, p, PI_WRITABLE))
    capture_method = p.text("capture_method") or "automatic"
    need(capture_method in ("automatic", "automatic_async", "manual"), "Invalid capture_method", "capture_method")
    pi["capture_method"] = capture_method
    if "payment_method_types" in p:
        pi["payment_method_types"] = [str(t) for t in p.array("payment_method_types") or []]
        pi["automatic_payment_methods"] = None
    method = p.text("payment_method")
    if method:
        card_of(method, "payment_method")
        pi.update({"payment_method": method, "status": "requires_confirmation"})
    sb.store.add("payment_intent", pi)
    sb.emit("payment_intent.created", pi)
    if p.boolean("confirm"):
        _confirm(sb, pi)
    return pi


def _confirm(sb: Sandbox, pi: dict[str, Any]) -> None:
    if pi["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise StripeError(400, f"This PaymentIntent's status is {pi['status']} and cannot be confirmed.",
                          code="payment_intent_unexpected_state")
    if not pi["payment_method"]:
        raise StripeError(400, "You cannot confirm this PaymentIntent because it's missing a payment method.",
                          code="payment_intent_unexpected_state", param="payment_method")
    manual = pi["capture_method"] == "manual"
    try:
        ch = _charge_for(sb, pi["amount"], pi["currency"], pi["payment_method"], pi["customer"], pi, not manual,
                         pi["description"])
    except StripeError as error:
        ch = error.extra.pop("_charge")
        previous = track_changes(pi, {
            "status": "requires_payment_method", "latest_charge": ch["id"],
            "last_payment_error": {**error.body()["error"], "payment_method": {"id": pi["payment_method"]}}})
        sb.emit("payment_intent.payment_failed", pi, previous)
        error.extra["payment_intent"] = {k: v for k, v in pi.items() if not k.startswith("_")}
        raise
    if manual:
        previous = track_changes(pi, {"status": "requires_capture", "latest_charge": ch["id"],
                                      "amount_capturable": pi["amount"]})
        sb.emit("payment_intent.amount_capturable_updated", pi, previous)
    else:
        _succeed(sb, pi, ch)


def _succeed(sb: Sandbox, pi: dict[str, Any], ch: dict[str, Any]) -> None:
    previous = track_changes(pi, {"status": "succeeded", "latest_charge": ch["id"], "amount_capturable": 0,
                                  "amount_received": ch["amount_captured"], "last_payment_error": None})
    sb.emit("payment_intent.succeeded", pi, previous)
    from .billing import intent_succeeded  # billing records the invoice payment this intent pays

    intent_succeeded(sb, pi)


def confirm_intent(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("payment_method", "return_url", "off_session", "capture_method", "receipt_email")
    pi = sb.store.get("payment_intent", id, label="payment_intent")
    method = p.text("payment_method")
    if method:
        card_of(method, "payment_method")
        pi["payment_method"] = method
    _confirm(sb, pi)
    return pi


def capture_intent(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("amount_to_capture", "metadata", "statement_descriptor", "statement_descriptor_suffix", "final_capture")
    pi = sb.store.get("payment_intent", id, label="payment_intent")
    if pi["status"] != "requires_capture":
        raise StripeError(400, f"This PaymentIntent could not be captured because it has a status of {pi['status']}."
                          " Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                          code="payment_intent_unexpected_state")
    amount = p.integer("amount_to_capture") or pi["amount"]
    need(amount <= pi["amount"], "The amount to capture is greater than the amount capturable.", "amount_to_capture")
    money.check_amount(amount, pi["currency"], "amount_to_capture", moves_money=True)
    ch = sb.store.get("charge", pi["latest_charge"])
    previous = track_changes(ch, {"captured": True, "amount_captured": amount})
    sb.emit("charge.captured", ch, previous)
    _succeed(sb, pi, ch)
    return pi


def cancel_intent(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("cancellation_reason")
    pi = sb.store.get("payment_intent", id, label="payment_intent")
    if pi["status"] not in CANCELABLE:
        raise StripeError(400, f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. "
                          f"Only a PaymentIntent with one of the following statuses may be canceled: "
                          f"{', '.join(CANCELABLE)}.", code="payment_intent_unexpected_state")
    previous = track_changes(pi, {"status": "canceled", "canceled_at": sb.now(), "amount_capturable": 0,
                                  "cancellation_reason": p.text("cancellation_reason")})
    sb.emit("payment_intent.canceled", pi, previous)
    return pi


def update_intent(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("amount", "currency", "customer", "payment_method", "payment_method_types", *PI_WRITABLE)
    pi = sb.store.get("payment_intent", id, label="payment_intent")
    changes = fields.read(pi, p, PI_WRITABLE)
    money_fields = {"amount", "currency", "payment_method"} & set(p.data)
    if money_fields and pi["status"] in ("succeeded", "canceled", "processing", "requires_capture"):
        raise StripeError(400, f"You cannot update this PaymentIntent because it has a status of {pi['status']}.",
                          code="payment_intent_unexpected_state", param=sorted(money_fields)[0])
    code = money.currency(p.text("currency")) if "currency" in p else pi["currency"]
    if "amount" in p or "currency" in p:
        amount = p.integer("amount") if "amount" in p else pi["amount"]
        assert amount is not None
        money.check_amount(amount, code, moves_money=True)
        changes.update({"amount": amount, "currency": code})
    if "customer" in p:
        changes["customer"] = _customer(sb, p)
    if "payment_method" in p:
        method = p.text("payment_method")
        if method:
            card_of(method, "payment_method")
        changes["payment_method"] = method
        changes["status"] = "requires_confirmation" if method else "requires_payment_method"
    sb.updated("payment_intent.updated", pi, track_changes(pi, changes))
    return pi


def retrieve_intent(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("client_secret")
    return sb.store.get("payment_intent", id, label="payment_intent")


def list_intents(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "customer")
    customer = p.text("customer")
    found = [o for o in sb.store.all("payment_intent") if customer is None or o["customer"] == customer]
    return page(found, p, "/v1/payment_intents", "payment_intent")


# -- charges ------------------------------------------------------------------------------------
def create_charge(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only("amount", "currency", "customer", "source", "capture", "statement_descriptor",
           "statement_descriptor_suffix", *CHARGE_WRITABLE)
    code = money.currency(p.text("currency"))
    amount = p.integer("amount", need=True)
    assert amount is not None
    money.check_amount(amount, code, moves_money=True)
    customer = _customer(sb, p)
    source = p.text("source") or ("tok_visa" if customer else None)
    if not source:
        raise required("source")
    capture = p.boolean("capture")
    ch = _charge_for(sb, amount, code, source, customer, None, capture is not False, p.text("description"))
    changes = fields.read(ch, p, CHARGE_WRITABLE)
    ch.update(changes)
    return ch


def retrieve_charge(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    return sb.store.get("charge", id)


def update_charge(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("customer", "fraud_details", *CHARGE_WRITABLE)
    ch = sb.store.get("charge", id)
    changes = fields.read(ch, p, CHARGE_WRITABLE)
    if "customer" in p:
        need(ch["customer"] is None, "This charge already has a customer.", "customer")
        changes["customer"] = _customer(sb, p)
    sb.updated("charge.updated", ch, track_changes(ch, changes))
    return ch


def capture_charge(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("amount", "receipt_email", "statement_descriptor", "statement_descriptor_suffix")
    ch = sb.store.get("charge", id)
    if ch["captured"] or ch["status"] != "succeeded":
        raise StripeError(400, f"Charge {id} has already been captured.", code="charge_already_captured")
    if ch["payment_intent"]:
        capture_intent(sb, Params({"amount_to_capture": p.raw("amount")} if "amount" in p else {}),
                       ch["payment_intent"])
        return ch
    amount = p.integer("amount") or ch["amount"]
    money.check_amount(amount, ch["currency"], moves_money=True)
    sb.emit("charge.captured", ch, track_changes(ch, {"captured": True, "amount_captured": amount}))
    return ch


def list_charges(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "customer", "payment_intent", "transfer_group")
    customer, intent = p.text("customer"), p.text("payment_intent")
    found = [o for o in sb.store.all("charge") if (customer is None or o["customer"] == customer)
             and (intent is None or o["payment_intent"] == intent)]
    return page(found, p, "/v1/charges", "charge")


# -- refunds ------------------------------------------------------------------------------------
def create_refund(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only("charge", "payment_intent", "amount", "reason", "metadata", "instructions_email", "refund_application_fee",
           "reverse_transfer")
    charge_id, intent_id = p.text("charge"), p.text("payment_intent")
    if charge_id and intent_id:
        raise invalid("You may only specify one of these parameters: charge, payment_intent.", param="charge")
    if intent_id:
        pi = sb.store.get("payment_intent", intent_id, label="payment_intent", param="payment_intent")
        if pi["status"] != "succeeded" or not pi["latest_charge"]:
            raise StripeError(400, f"This PaymentIntent ({intent_id}) does not have a successful charge to refund.",
                              code="charge_not_refundable", param="payment_intent")
        charge_id = pi["latest_charge"]
    if not charge_id:
        raise required("charge")
    ch = sb.store.get("charge", charge_id, param="charge")
    if ch["status"] != "succeeded" or not ch["captured"]:
        raise StripeError(400, f"Charge {charge_id} has not been captured or did not succeed.",
                          code="charge_not_refundable", param="charge")
    left = ch["amount_captured"] - ch["amount_refunded"]
    if left <= 0:
        raise StripeError(400, f"Charge {charge_id} has already been refunded.", code="charge_already_refunded",
                          param="charge")
    amount = p.integer("amount", minimum=1)
    amount = left if amount is None else amount
    if amount > left:
        raise StripeError(400, f"Refund amount ({money.format_amount(amount, ch['currency'])} {ch['currency']}) "
                          f"is greater than unrefunded amount on charge "
                          f"({money.format_amount(left, ch['currency'])} {ch['currency']})",
                          code="amount_too_large", param="amount")
    money.check_granularity(amount, ch["currency"])
    reason = p.text("reason")
    need(reason in (None, "duplicate", "fraudulent", "requested_by_customer"), "Invalid reason", "reason")
    refund = shapes.refund(sb.store.new_id("refund"), sb.now(), amount, ch)
    refund.update({"reason": reason, "metadata": fields.read({}, p, {"metadata": "metadata"}).get("metadata", {})})
    sb.store.add("refund", refund)
    sb.emit("refund.created", refund)
    refunds = [r for r in sb.store.all("refund") if r["charge"] == ch["id"]]
    refunds.sort(key=lambda r: (r["created"], r["_seq"]), reverse=True)
    total = ch["amount_refunded"] + amount
    previous = track_changes(ch, {
        "amount_refunded": total, "refunded": total >= ch["amount_captured"],
        "refunds": {**ch["refunds"], "data": refunds[:10], "has_more": len(refunds) > 10}})
    previous.pop("refunds", None)
    sb.emit("charge.refunded", ch, previous)
    return refund


def retrieve_refund(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    return sb.store.get("refund", id)


def update_refund(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("metadata")
    refund = sb.store.get("refund", id)
    sb.updated("refund.updated", refund, track_changes(refund, fields.read(refund, p, {"metadata": "metadata"})))
    return refund


def cancel_refund(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    refund = sb.store.get("refund", id)
    raise StripeError(400, f"You can't cancel a refund with a status of {refund['status']}.", param="refund")


def list_refunds(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "charge", "payment_intent")
    charge, intent = p.text("charge"), p.text("payment_intent")
    found = [o for o in sb.store.all("refund") if (charge is None or o["charge"] == charge)
             and (intent is None or o["payment_intent"] == intent)]
    return page(found, p, "/v1/refunds", "refund")
