"""Invoice items, invoices and their lines, and invoice payments.

Lifecycle (stripe.com/docs/invoicing/overview; reference "Requests and lists"): ``draft`` ->
finalize -> ``open`` -> pay -> ``paid``; ``open`` -> void -> ``void``; ``open`` -> mark_uncollectible
-> ``uncollectible`` (which can still be paid or voided). Only a draft takes line changes and the
full set of update parameters, and only a draft can be deleted; a finalized invoice takes a few
(metadata, description, footer...). An invoice whose total is 0 is paid when finalized.

Since ``2025-03-31.basil`` payments of an invoice are ``invoice_payment`` objects: ``pay`` creates a
PaymentIntent and an invoice payment; ``attach_payment`` adds a PaymentIntent (credited when it
succeeds, at once if it already has); several partial payments can pay one invoice.
"""

from __future__ import annotations

from typing import Any

from .. import fields, money, shapes
from ..errors import StripeError, invalid, required
from ..forms import Params, need, to_int
from ..listing import LIST_PARAMS, page
from ..runtime import Sandbox, track_changes
from . import catalog, payments

ITEM_WRITABLE = {"description": "str", "metadata": "metadata", "discountable": "bool"}
INVOICE_WRITABLE = {"description": "str", "metadata": "metadata", "footer": "str", "auto_advance": "bool",
                    "collection_method": "str", "days_until_due": "int", "due_date": "int",
                    "default_payment_method": "str", "custom_fields": "hash", "statement_descriptor": "str"}
FINALIZED_WRITABLE = ("description", "metadata", "footer", "auto_advance", "default_payment_method",
                      "custom_fields", "statement_descriptor")
TOTALS = ("subtotal", "subtotal_excluding_tax", "total", "total_excluding_tax", "amount_due", "amount_remaining")
LINES_SHOWN = 10


# -- invoice items ------------------------------------------------------------------------------
def _draft(sb: Sandbox, invoice_id: str, param: str = "invoice") -> dict[str, Any]:
    inv = sb.store.get("invoice", invoice_id, param=param)
    if inv["status"] != "draft":
        raise StripeError(400, f"Invoice {invoice_id} is no longer editable: it has been finalized "
                          f"(status {inv['status']}).", code="invoice_not_editable", param=param)
    return inv


def _pricing(sb: Sandbox, item: dict[str, Any], p: Params, currency: str | None) -> None:
    """Set currency, amount, quantity and pricing from ``pricing[price]``, ``price_data`` or ``amount``."""
    quantity = p.integer("quantity", minimum=0)
    quantity = item["quantity"] if quantity is None else quantity
    pricing = p.hash("pricing")
    price_data = p.hash("price_data")
    given = [name for name, present in (("pricing", pricing), ("price_data", price_data),
                                        ("amount", "amount" in p and p.raw("amount") != ""),
                                        ("unit_amount_decimal", "unit_amount_decimal" in p)) if present]
    if len(given) > 1:
        raise invalid(f"You may only specify one of these parameters: {', '.join(given)}.", param=given[1])
    if pricing or price_data:
        if pricing:
            price = sb.store.get("price", str(pricing.get("price") or ""), param="pricing[price]")
            if not price["active"]:
                raise invalid(f"The price specified ({price['id']}) is inactive. This field only accepts active "
                              "prices.", param="pricing[price]")
        else:
            assert price_data is not None
            inner = Params(price_data)
            code = money.currency(inner.text("currency"), "price_data[currency]")
            product = sb.store.get("product", inner.need_text("product"), param="price_data[product]")
            unit, decimal = catalog.amounts(inner, code, "price_data[")
            price = shapes.price(sb.store.new_id("price"), sb.now(), product["id"], code, unit, decimal, None)
            price.update({"active": False, "_inline": True})
            sb.store.add("price", price)
        if currency and currency != price["currency"]:
            raise invalid(f"The price's currency ({price['currency']}) must match the currency ({currency}).",
                          param="currency")
        unit_decimal = price["unit_amount_decimal"]
        amount = round(float(unit_decimal) * quantity)
        item.update({"currency": price["currency"], "pricing": {
            "price_details": {"price": price["id"], "product": price["product"]}, "type": "price_details",
            "unit_amount_decimal": unit_decimal}})
    elif given:
        code = money.currency(currency or item.get("currency"))
        if "amount" in given:
            amount = to_int(p.raw("amount"), "amount")
            unit_decimal = str(amount // quantity) if quantity and amount % quantity == 0 else (
                str(amount / quantity) if quantity else "0")
        else:
            unit_decimal = format(catalog.decimal_string(p.raw("unit_amount_decimal"), "unit_amount_decimal")
                                  .normalize(), "f")
            amount = round(float(unit_decimal) * quantity)
        item.update({"currency": code, "pricing": {"price_details": None, "type": "price_details",
                                                   "unit_amount_decimal": unit_decimal}})
    else:
        amount = round(float(item["pricing"]["unit_amount_decimal"] or 0) * quantity)
    money.check_amount(abs(amount), item["currency"])
    item.update({"amount": amount, "net_amount": amount, "quantity": quantity, "quantity_decimal": str(quantity)})


def create_item(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only("customer", "invoice", "currency", "amount", "unit_amount_decimal", "quantity", "pricing", "price_data",
           "period", *ITEM_WRITABLE, "tax_rates", "tax_behavior", "tax_code", "discounts", "subscription")
    customer_id = p.text("customer")
    invoice_id = p.text("invoice")
    inv = _draft(sb, invoice_id) if invoice_id else None
    if inv is not None and customer_id and customer_id != inv["customer"]:
        raise invalid(f"The invoice {invoice_id} belongs to another customer.", param="invoice")
    customer_id = customer_id or (inv["customer"] if inv else None)
    if not customer_id:
        raise required("customer")
    sb.store.get("customer", customer_id, param="customer")
    currency = money.currency(p.text("currency")) if p.text("currency") else (inv["currency"] if inv else None)
    item = shapes.invoiceitem(sb.store.new_id("invoiceitem"), sb.now(), customer_id, currency or "")
    _pricing(sb, item, p, currency)
    if not item["currency"]:
        raise required("currency")
    if inv is not None and item["currency"] != inv["currency"]:
        raise invalid(f"The currency of the invoice item ({item['currency']}) must match the currency of the "
                      f"invoice ({inv['currency']}).", param="currency")
    item.update(fields.read(item, p, ITEM_WRITABLE))
    item["discountable"] = True if item["discountable"] is None else item["discountable"]
    period = p.hash("period")
    if period:
        item["period"] = {"end": to_int(period.get("end"), "period[end]"),
                          "start": to_int(period.get("start"), "period[start]")}
    item["invoice"] = invoice_id
    sb.store.add("invoiceitem", item)
    sb.emit("invoiceitem.created", item)
    if inv is not None:
        _attach_line(sb, inv, item)
    return item


def _attach_line(sb: Sandbox, inv: dict[str, Any], item: dict[str, Any]) -> None:
    item["invoice"] = inv["id"]
    line = shapes.line_item(sb.store.new_id("line_item"), item)
    line["_item"] = item["id"]
    sb.store.add("line_item", line)
    refresh(sb, inv)


def _sync_line(sb: Sandbox, item: dict[str, Any]) -> None:
    for line in sb.store.all("line_item"):
        if line.get("_item") == item["id"]:
            fresh = shapes.line_item(line["id"], item)
            line.update(fresh)


def refresh(sb: Sandbox, inv: dict[str, Any], event: bool = True) -> None:
    """Recompute the invoice's lines and totals; an ``invoice.updated`` event if totals moved."""
    lines = sorted((ln for ln in sb.store.all("line_item") if ln["invoice"] == inv["id"]), key=lambda ln: ln["_seq"])
    subtotal = sum(int(ln["amount"]) for ln in lines)
    due = max(subtotal + inv["starting_balance"], 0)
    changes = {"subtotal": subtotal, "subtotal_excluding_tax": subtotal, "total": subtotal,
               "total_excluding_tax": subtotal, "amount_due": due,
               "amount_remaining": max(due - inv["amount_paid"], 0)}
    inv["lines"] = {"object": "list", "data": [{k: v for k, v in ln.items() if not k.startswith("_")}
                                               for ln in lines[:LINES_SHOWN]],
                    "has_more": len(lines) > LINES_SHOWN, "url": f"/v1/invoices/{inv['id']}/lines"}
    previous = track_changes(inv, changes)
    if event:
        sb.updated("invoice.updated", inv, previous)


def retrieve_item(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    return sb.store.get("invoiceitem", id)


def _editable_item(sb: Sandbox, id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    item = sb.store.get("invoiceitem", id)
    inv = _draft(sb, item["invoice"], "id") if item["invoice"] else None
    return item, inv


def update_item(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("amount", "unit_amount_decimal", "quantity", "pricing", "price_data", "period", *ITEM_WRITABLE,
           "tax_rates", "tax_behavior", "tax_code", "discounts")
    item, inv = _editable_item(sb, id)
    before = {k: item[k] for k in ("amount", "currency", "net_amount", "pricing", "quantity", "quantity_decimal")}
    if {"amount", "unit_amount_decimal", "quantity", "pricing", "price_data"} & set(p.data):
        _pricing(sb, item, p, item["currency"] if "price_data" not in p and "pricing" not in p else None)
        if inv is not None and item["currency"] != inv["currency"]:
            item.update(before)
            raise invalid("The currency of the invoice item must match the currency of the invoice.",
                          param="currency")
    changes = fields.read(item, p, ITEM_WRITABLE)
    previous = {k: v for k, v in before.items() if item[k] != v}
    previous.update(track_changes(item, changes))
    sb.updated("invoiceitem.updated", item, previous)
    if inv is not None:
        _sync_line(sb, item)
        refresh(sb, inv)
    return item


def delete_item(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    item, inv = _editable_item(sb, id)
    sb.store.remove("invoiceitem", id)
    for line in [ln for ln in sb.store.all("line_item") if ln.get("_item") == id]:
        sb.store.remove("line_item", line["id"])
    sb.emit("invoiceitem.deleted", item)
    if inv is not None:
        refresh(sb, inv)
    return shapes.deleted(id, "invoiceitem")


def list_items(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "customer", "invoice", "pending")
    customer, invoice, pending = p.text("customer"), p.text("invoice"), p.boolean("pending")
    found = [o for o in sb.store.all("invoiceitem") if (customer is None or o["customer"] == customer)
             and (invoice is None or o["invoice"] == invoice)
             and (pending is None or (o["invoice"] is None) == pending)]
    return page(found, p, "/v1/invoiceitems", "invoiceitem")


# -- invoices -----------------------------------------------------------------------------------
def _check_collection(inv: dict[str, Any]) -> None:
    need(inv["collection_method"] in ("charge_automatically", "send_invoice"), "Invalid collection_method",
         "collection_method")
    if inv["collection_method"] == "charge_automatically" and (inv.get("_days_until_due") or inv["due_date"]):
        raise invalid("Invoices with `collection_method=charge_automatically` cannot have a due date.",
                      param="due_date")


def create_invoice(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only("customer", "currency", "pending_invoice_items_behavior", "number", *INVOICE_WRITABLE,
           "automatic_tax", "default_tax_rates", "discounts", "rendering", "shipping_details", "payment_settings",
           "effective_at", "account_tax_ids", "on_behalf_of", "issuer", "subscription")
    customer = sb.store.get("customer", p.need_text("customer"), param="customer")
    code = money.currency(p.text("currency")) if p.text("currency") else (customer["currency"] or "usd")
    inv = shapes.invoice(sb.store.new_id("invoice"), sb.now(), customer, code)
    changes = fields.read(inv, p, INVOICE_WRITABLE)
    inv["_days_until_due"] = changes.pop("days_until_due", None)
    inv.update(changes)
    inv["auto_advance"] = bool(inv["auto_advance"])
    inv["collection_method"] = inv["collection_method"] or "charge_automatically"
    _check_collection(inv)
    behavior = p.text("pending_invoice_items_behavior") or "exclude"
    need(behavior in ("include", "exclude"), "Invalid pending_invoice_items_behavior",
         "pending_invoice_items_behavior")
    sb.store.add("invoice", inv)
    if behavior == "include":
        for item in sb.store.all("invoiceitem"):
            if item["customer"] == customer["id"] and item["invoice"] is None and item["currency"] == code:
                item["invoice"] = inv["id"]
                _attach_line(sb, inv, item)
    refresh(sb, inv, event=False)
    sb.emit("invoice.created", inv)
    return inv


def retrieve_invoice(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    return sb.store.get("invoice", id)


def update_invoice(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only(*INVOICE_WRITABLE, "automatic_tax", "default_tax_rates", "discounts", "rendering", "shipping_details",
           "payment_settings", "effective_at", "account_tax_ids", "on_behalf_of", "issuer", "number")
    inv = sb.store.get("invoice", id)
    if inv["status"] != "draft":
        extra = sorted(k for k in p.data if k != "expand" and k not in FINALIZED_WRITABLE)
        if extra:
            raise StripeError(400, f"Finalized invoices can't be updated in this way: {extra[0]} can only be "
                              f"changed on a draft. Updatable once finalized: {', '.join(FINALIZED_WRITABLE)}.",
                              code="invoice_not_editable", param=extra[0])
    changes = fields.read(inv, p, INVOICE_WRITABLE)
    if "days_until_due" in changes:
        inv["_days_until_due"] = changes.pop("days_until_due")
    trial = {**inv, **changes}
    _check_collection(trial)
    sb.updated("invoice.updated", inv, track_changes(inv, changes))
    return inv


def delete_invoice(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    inv = sb.store.get("invoice", id)
    if inv["status"] != "draft":
        raise StripeError(400, "You can only delete draft invoices. Void an open invoice instead.", param="id")
    for line in [ln for ln in sb.store.all("line_item") if ln["invoice"] == id]:
        sb.store.remove("line_item", line["id"])
    for item in [i for i in sb.store.all("invoiceitem") if i["invoice"] == id]:
        sb.store.remove("invoiceitem", item["id"])
        sb.emit("invoiceitem.deleted", item)
    sb.store.remove("invoice", id)
    sb.emit("invoice.deleted", inv)
    return shapes.deleted(id, "invoice")


def finalize(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("auto_advance")
    inv = sb.store.get("invoice", id)
    if inv["status"] != "draft":
        raise StripeError(400, "This invoice is already finalized, you can't re-finalize a non-draft invoice.",
                          param="id")
    money.check_granularity(inv["amount_due"], inv["currency"], "amount_due")
    customer = sb.store.get("customer", inv["customer"], include_deleted=True)
    now = sb.now()
    changes: dict[str, Any] = {
        "status": "open", "number": f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}",
        "status_transitions": {**inv["status_transitions"], "finalized_at": now}, "effective_at": now,
        "hosted_invoice_url": f"https://invoice.stripe.com/i/sandbox/{id}",
        "invoice_pdf": f"https://pay.stripe.com/invoice/sandbox/{id}/pdf",
        "customer_address": customer["address"], "customer_email": customer["email"],
        "customer_name": customer["name"], "customer_phone": customer["phone"]}
    if inv["collection_method"] == "send_invoice" and inv["due_date"] is None:
        days = inv.get("_days_until_due")
        if days is None:
            raise invalid("Invoices with `collection_method=send_invoice` need a `due_date` or `days_until_due`.",
                          param="days_until_due")
        changes["due_date"] = now + int(days) * 86400
    if p.boolean("auto_advance") is not None:
        changes["auto_advance"] = p.boolean("auto_advance")
    customer["next_invoice_sequence"] += 1
    track_changes(inv, changes)
    sb.emit("invoice.finalized", inv)
    if inv["amount_due"] == 0:
        _mark_paid(sb, inv)
    return inv


def _mark_paid(sb: Sandbox, inv: dict[str, Any], earlier: dict[str, Any] | None = None) -> None:
    previous = track_changes(inv, {"status": "paid", "amount_remaining": 0, "attempted": True,
                                   "status_transitions": {**inv["status_transitions"], "paid_at": sb.now()}})
    sb.emit("invoice.updated", inv, {**(earlier or {}), **previous})
    sb.emit("invoice.paid", inv)
    sb.emit("invoice.payment_succeeded", inv)


def _payable(inv: dict[str, Any]) -> None:
    if inv["status"] not in ("open", "uncollectible"):
        raise StripeError(400, f"Invoice is {inv['status']}: only an open or uncollectible invoice can be paid.",
                          param="id")


def _new_invoice_payment(sb: Sandbox, inv: dict[str, Any], amount: int, payment: dict[str, Any]) -> dict[str, Any]:
    record = shapes.invoice_payment(sb.store.new_id("invoice_payment"), sb.now(), inv["id"], inv["currency"], amount,
                                    payment)
    record["is_default"] = not any(ip["invoice"] == inv["id"] for ip in sb.store.all("invoice_payment"))
    sb.store.add("invoice_payment", record)
    return record


def _credit(sb: Sandbox, record: dict[str, Any], amount: int) -> None:
    """Mark an invoice payment paid for ``amount`` and credit its invoice."""
    inv = sb.store.get("invoice", record["invoice"])
    track_changes(record, {"status": "paid", "amount_paid": amount,
                           "status_transitions": {**record["status_transitions"], "paid_at": sb.now()}})
    sb.emit("invoice_payment.paid", record)
    paid = inv["amount_paid"] + amount
    previous = track_changes(inv, {"amount_paid": paid, "amount_remaining": max(inv["amount_due"] - paid, 0),
                                   "amount_overpaid": max(paid - inv["amount_due"], 0), "attempted": True})
    if paid >= inv["amount_due"]:
        _mark_paid(sb, inv, previous)
    else:
        sb.updated("invoice.updated", inv, previous)


def intent_succeeded(sb: Sandbox, pi: dict[str, Any]) -> None:
    """A PaymentIntent succeeded: credit every open invoice payment it backs."""
    for record in sb.store.all("invoice_payment"):
        if record["status"] == "open" and record["payment"].get("payment_intent") == pi["id"]:
            _credit(sb, record, int(pi["amount_received"]))


def pay(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("paid_out_of_band", "payment_method", "source", "forgive", "off_session", "mandate")
    inv = sb.store.get("invoice", id)
    _payable(inv)
    remaining = inv["amount_remaining"]
    if p.boolean("paid_out_of_band"):
        record = _new_invoice_payment(sb, inv, remaining, {"type": "payment_record",
                                                           "payment_record": sb.store.new_id("payment_record")})
        _credit(sb, record, remaining)
        return inv
    customer = sb.store.get("customer", inv["customer"], include_deleted=True)
    method = p.text("payment_method") or p.text("source") or inv["default_payment_method"] or (
        customer["invoice_settings"] or {}).get("default_payment_method")
    if not method:
        raise StripeError(400, "This customer has no attached payment source or default payment method. Please "
                          "consider adding a default payment method.", param="payment_method")
    payments.card_of(method, "payment_method")
    open_records = [r for r in sb.store.all("invoice_payment") if r["invoice"] == id and r["status"] == "open"]
    intent = payments.create_intent(sb, Params({"amount": str(remaining), "currency": inv["currency"],
                                                "customer": inv["customer"], "payment_method": method,
                                                "description": f"Invoice {inv['number']}"}))
    for record in open_records:  # a new attempt replaces an unpaid one
        track_changes(record, {"status": "canceled", "status_transitions": {
            **record["status_transitions"], "canceled_at": sb.now()}})
    _new_invoice_payment(sb, inv, remaining, {"type": "payment_intent", "payment_intent": intent["id"]})
    inv["attempt_count"] += 1
    try:
        payments.confirm_intent(sb, Params({}), intent["id"])
    except StripeError:
        inv["attempted"] = True
        sb.emit("invoice.payment_failed", inv)
        raise
    return inv


def attach_payment(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("payment_intent", "payment_record")
    inv = sb.store.get("invoice", id)
    _payable(inv)
    intent_id = p.need_text("payment_intent")
    pi = sb.store.get("payment_intent", intent_id, label="payment_intent", param="payment_intent")
    if any(r["payment"].get("payment_intent") == intent_id for r in sb.store.all("invoice_payment")):
        raise invalid(f"The PaymentIntent {intent_id} is already attached to an invoice.", param="payment_intent")
    if pi["currency"] != inv["currency"]:
        raise invalid(f"The PaymentIntent's currency ({pi['currency']}) must match the invoice's "
                      f"({inv['currency']}).", param="payment_intent")
    record = _new_invoice_payment(sb, inv, pi["amount"], {"type": "payment_intent", "payment_intent": intent_id})
    if pi["status"] == "succeeded":
        _credit(sb, record, int(pi["amount_received"]))
    return inv


def void(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    inv = sb.store.get("invoice", id)
    if inv["status"] not in ("open", "uncollectible"):
        raise StripeError(400, f"You can only void an open or uncollectible invoice; this one is {inv['status']}.",
                          param="id")
    previous = track_changes(inv, {"status": "void", "status_transitions": {
        **inv["status_transitions"], "voided_at": sb.now()}})
    sb.emit("invoice.voided", inv, previous)
    return inv


def mark_uncollectible(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    inv = sb.store.get("invoice", id)
    if inv["status"] != "open":
        raise StripeError(400, f"You can only mark an open invoice as uncollectible; this one is {inv['status']}.",
                          param="id")
    previous = track_changes(inv, {"status": "uncollectible", "status_transitions": {
        **inv["status_transitions"], "marked_uncollectible_at": sb.now()}})
    sb.emit("invoice.marked_uncollectible", inv, previous)
    return inv


def list_invoices(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "customer", "status", "collection_method", "due_date", "subscription")
    customer, status, method = p.text("customer"), p.text("status"), p.text("collection_method")
    if status is not None:
        need(status in ("draft", "open", "paid", "uncollectible", "void"), f"Invalid status: {status}", "status")
    found = [o for o in sb.store.all("invoice") if (customer is None or o["customer"] == customer)
             and (status is None or o["status"] == status) and (method is None or o["collection_method"] == method)]
    return page(found, p, "/v1/invoices", "invoice")


# -- lines --------------------------------------------------------------------------------------
def list_lines(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("limit", "starting_after", "ending_before")
    sb.store.get("invoice", id)
    lines = [ln for ln in sb.store.all("line_item") if ln["invoice"] == id]
    return page(lines, p, f"/v1/invoices/{id}/lines", "line_item", oldest_first=True)


def add_lines(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("lines", "invoice_metadata")
    inv = _draft(sb, id, "id")
    lines = p.array("lines")
    if not lines:
        raise required("lines")
    for index, line in enumerate(lines):
        if not isinstance(line, dict):
            raise invalid("Invalid lines", param=f"lines[{index}]")
        existing = line.get("invoice_item")
        if existing:
            item = sb.store.get("invoiceitem", existing, param=f"lines[{index}][invoice_item]")
            need(item["invoice"] is None, f"The invoice item {existing} is already on an invoice.",
                 f"lines[{index}][invoice_item]")
            _attach_line(sb, inv, item)
            continue
        create_item(sb, Params({**line, "invoice": id, "customer": inv["customer"]}))
    if "invoice_metadata" in p:
        update_invoice(sb, Params({"metadata": p.raw("invoice_metadata")}), id)
    return inv


def _line(sb: Sandbox, invoice_id: str, line_id: str, param: str) -> dict[str, Any]:
    line = sb.store.get("line_item", line_id, label="line item", param=param)
    if line["invoice"] != invoice_id:
        raise invalid(f"The line {line_id} is not on invoice {invoice_id}.", param=param)
    return line


def update_lines(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("lines", "invoice_metadata")
    _draft(sb, id, "id")
    for index, change in enumerate(p.array("lines") or []):
        line = _line(sb, id, str(change.get("id") or ""), f"lines[{index}][id]")
        update_item(sb, Params({k: v for k, v in change.items() if k != "id"}), line["_item"])
    return sb.store.get("invoice", id)


def update_line(sb: Sandbox, p: Params, id: str, line_id: str) -> dict[str, Any]:
    p.only("amount", "description", "quantity", "pricing", "price_data", "period", "metadata", "discountable",
           "tax_rates", "tax_amounts", "discounts")
    _draft(sb, id, "id")
    line = _line(sb, id, line_id, "line_item_id")
    update_item(sb, p, line["_item"])
    return sb.store.get("line_item", line_id)


def remove_lines(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only("lines", "invoice_metadata")
    inv = _draft(sb, id, "id")
    for index, change in enumerate(p.array("lines") or []):
        line = _line(sb, id, str(change.get("id") or ""), f"lines[{index}][id]")
        behavior = change.get("behavior")
        need(behavior in ("delete", "unassign"), "lines[][behavior] must be delete or unassign",
             f"lines[{index}][behavior]")
        if behavior == "delete":
            delete_item(sb, Params({}), line["_item"])
        else:
            item = sb.store.get("invoiceitem", line["_item"])
            sb.store.remove("line_item", line["id"])
            sb.updated("invoiceitem.updated", item, track_changes(item, {"invoice": None}))
            refresh(sb, inv)
    return inv


# -- invoice payments ---------------------------------------------------------------------------
def retrieve_invoice_payment(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    return sb.store.get("invoice_payment", id, label="invoice payment")


def list_invoice_payments(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "invoice", "payment", "status")
    invoice, status = p.text("invoice"), p.text("status")
    payment = p.hash("payment") or {}
    found = [o for o in sb.store.all("invoice_payment") if (invoice is None or o["invoice"] == invoice)
             and (status is None or o["status"] == status)
             and all(o["payment"].get(k) == v for k, v in payment.items())]
    return page(found, p, "/v1/invoice_payments", "invoice payment")
