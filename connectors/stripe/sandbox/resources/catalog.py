"""Products and prices.

Rules (stripe.com/docs/api/products, /prices; reference "Requests and lists"): a product that has
prices cannot be deleted, only archived (``active=false``); a price's ``unit_amount``, ``currency``
and ``product`` cannot change (they are not parameters of the update endpoint, so sending them is
``parameter_unknown``); prices are never deleted, only archived. Lists filter products by ``active``
and ``ids[]``, prices by ``product``, ``active``, ``currency``, ``type`` and ``lookup_keys[]``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from .. import fields, money, shapes
from ..errors import StripeError, invalid, required
from ..forms import Params, need
from ..listing import LIST_PARAMS, page
from ..runtime import Sandbox, track_changes

PRODUCT_WRITABLE = {"name": "str", "active": "bool", "description": "str", "metadata": "metadata",
                    "images": "strings", "package_dimensions": "hash", "shippable": "bool",
                    "statement_descriptor": "str", "tax_code": "str", "unit_label": "str", "url": "str"}
PRICE_WRITABLE = {"active": "bool", "nickname": "str", "metadata": "metadata", "lookup_key": "str",
                  "tax_behavior": "str"}
TAX_BEHAVIORS = ("inclusive", "exclusive", "unspecified")


def create_product(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*PRODUCT_WRITABLE, "id", "default_price_data", "marketing_features", "tax_details")
    name = p.need_text("name")
    object_id = p.text("id") or sb.store.new_id("product")
    if sb.store.find("product", object_id) is not None:
        raise invalid(f"Product already exists: {object_id}", param="id", code="resource_already_exists")
    obj = shapes.product(object_id, sb.now(), name)
    obj.update(fields.read(obj, p, PRODUCT_WRITABLE))
    obj["active"] = True if obj["active"] is None else obj["active"]
    sb.store.add("product", obj)
    sb.emit("product.created", obj)
    price_data = p.hash("default_price_data")
    if price_data:
        price = _new_price(sb, Params({**price_data, "product": object_id}), "default_price_data")
        previous = track_changes(obj, {"default_price": price["id"]})
        sb.updated("product.updated", obj, previous)
    return obj


def retrieve_product(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    return sb.store.get("product", id)


def update_product(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only(*PRODUCT_WRITABLE, "default_price", "marketing_features", "tax_details")
    obj = sb.store.get("product", id)
    changes = fields.read(obj, p, PRODUCT_WRITABLE)
    if "name" in changes and not changes["name"]:
        raise required("name")
    if "default_price" in p:
        price_id = p.text("default_price")
        if price_id is not None:
            price = sb.store.get("price", price_id, param="default_price")
            need(price["product"] == id, f"The price {price_id} does not belong to product {id}.", "default_price")
            need(price["active"], f"The price {price_id} is archived and cannot be the default price.",
                 "default_price")
        changes["default_price"] = price_id
    previous = track_changes(obj, changes)
    if previous:
        obj["updated"] = sb.now()
    sb.updated("product.updated", obj, previous)
    return obj


def delete_product(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    obj = sb.store.get("product", id)
    if any(price["product"] == id for price in sb.store.all("price")):
        raise invalid("This product cannot be deleted because it has one or more user-created prices.",
                      param="id")
    obj["_deleted"] = True
    sb.emit("product.deleted", obj)
    return shapes.deleted(id, "product")


def list_products(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "active", "ids", "shippable", "url")
    active = p.boolean("active")
    wanted = set(p.array("ids") or []) or None
    found = [o for o in sb.store.all("product") if not o.get("_deleted")
             and (active is None or o["active"] == active) and (wanted is None or o["id"] in wanted)]
    return page(found, p, "/v1/products", "product")


# -- prices -------------------------------------------------------------------------------------
def decimal_string(value: Any, param: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {value}", param=param) from None
    if not number.is_finite() or number < 0:
        raise invalid(f"Invalid decimal: {value}", param=param)
    return number


def amounts(p: Params, currency: str, prefix: str = "") -> tuple[int | None, str]:
    """``unit_amount`` or ``unit_amount_decimal`` (exactly one): (integer amount or None, decimal string)."""
    has_int = "unit_amount" in p and p.raw("unit_amount") != ""
    has_dec = "unit_amount_decimal" in p and p.raw("unit_amount_decimal") != ""
    if has_int and has_dec:
        raise invalid("You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
                      param=prefix + "unit_amount")
    if has_int:
        amount = p.integer("unit_amount")
        assert amount is not None
        money.check_amount(amount, currency, prefix + "unit_amount")
        return amount, str(amount)
    if has_dec:
        number = decimal_string(p.raw("unit_amount_decimal"), prefix + "unit_amount_decimal")
        whole = int(number) if number == number.to_integral_value() else None
        if whole is not None:
            money.check_amount(whole, currency, prefix + "unit_amount_decimal")
        return whole, format(number.normalize(), "f")
    raise required(prefix + "unit_amount")


def _new_price(sb: Sandbox, p: Params, prefix: str = "") -> dict[str, Any]:
    code = money.currency(p.text("currency"), prefix + "currency" if prefix else "currency")
    product_id = p.text("product")
    product_data = p.hash("product_data")
    if product_id and product_data:
        raise invalid("You may only specify one of these parameters: product, product_data.", param="product")
    if product_data:
        product = create_product(sb, Params(product_data))
        product_id = product["id"]
    if not product_id:
        raise required("product")
    product = sb.store.get("product", product_id, param="product")
    unit_amount, unit_amount_decimal = amounts(p, code)
    recurring = p.hash("recurring")
    rendered_recurring = None
    if recurring:
        interval = recurring.get("interval")
        need(interval in ("day", "week", "month", "year"), "Invalid recurring[interval]", "recurring[interval]")
        rendered_recurring = {"interval": interval, "interval_count": int(recurring.get("interval_count", 1)),
                              "meter": None, "trial_period_days": None, "usage_type": "licensed"}
    obj = shapes.price(sb.store.new_id("price"), sb.now(), product["id"], code, unit_amount, unit_amount_decimal,
                       rendered_recurring)
    obj.update(fields.read(obj, p, PRICE_WRITABLE))
    obj["active"] = True if obj["active"] is None else obj["active"]
    obj["tax_behavior"] = obj["tax_behavior"] or "unspecified"
    need(obj["tax_behavior"] in TAX_BEHAVIORS, "Invalid tax_behavior", "tax_behavior")
    sb.store.add("price", obj)
    sb.emit("price.created", obj)
    return obj


def create_price(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only("currency", "product", "product_data", "unit_amount", "unit_amount_decimal", "recurring",
           "billing_scheme", *PRICE_WRITABLE)
    return _new_price(sb, p)


def retrieve_price(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    p.only()
    return sb.store.get("price", id)


def update_price(sb: Sandbox, p: Params, id: str) -> dict[str, Any]:
    # unit_amount, currency, product are deliberately absent: a price is immutable in its amount.
    p.only(*PRICE_WRITABLE, "currency_options", "transfer_lookup_key")
    obj = sb.store.get("price", id)
    changes = fields.read(obj, p, PRICE_WRITABLE)
    if changes.get("active") is False:
        product = sb.store.find("product", obj["product"])
        if product is not None and product["default_price"] == id:
            raise StripeError(400, "This price cannot be archived because it is the default price of its product.",
                              param="active")
    if "tax_behavior" in changes:
        need(changes["tax_behavior"] in TAX_BEHAVIORS, "Invalid tax_behavior", "tax_behavior")
        need(obj["tax_behavior"] in ("unspecified", changes["tax_behavior"]),
             "tax_behavior cannot be changed once it is set to inclusive or exclusive.", "tax_behavior")
    sb.updated("price.updated", obj, track_changes(obj, changes))
    return obj


def list_prices(sb: Sandbox, p: Params) -> dict[str, Any]:
    p.only(*LIST_PARAMS, "active", "currency", "product", "type", "lookup_keys", "recurring")
    active, currency, product, kind = p.boolean("active"), p.text("currency"), p.text("product"), p.text("type")
    keys = set(p.array("lookup_keys") or []) or None
    found = [o for o in sb.store.all("price")
             if (active is None or o["active"] == active) and (currency is None or o["currency"] == currency.lower())
             and (product is None or o["product"] == product) and (kind is None or o["type"] == kind)
             and (keys is None or o["lookup_key"] in keys)]
    return page(found, p, "/v1/prices", "price")
