"""The ``money`` transform: amounts between Money, minor units and decimals, by currency.

The common value is :class:`~syncengine.records.Money`. A side declared ``minor`` holds an
integer count of the currency's minor unit (Stripe's ``amount: 1050`` for 10.50 USD, but
``1050`` for 1050 JPY and ``1050`` for 1.050 KWD); ``decimal`` holds a Decimal or decimal string;
``money`` (the default) holds a Money or a ``{amount, currency|code}`` dict. A side without the
currency in its value reads it from ``<side>_currency_field``/``currency_field`` of the same
record, or takes a fixed ``currency``. Floats are refused everywhere: 0.1 has no exact float.

When either side is ``minor`` the common amount is rounded to the currency's minor unit (half
even), so a decimal side holding ``10.505`` and a minor side holding ``1050`` agree. Minor units
are ISO 4217's (:mod:`syncengine.currencies`: ISK whole krónur, IQD three decimals); a vendor with
its own view (Stripe's two-decimal ISK) converts in its connector, which hands over Money.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any, Literal

from syncengine.currencies import ISO_MINOR_UNITS, minor_unit, quantum
from syncengine.mapping.errors import RecordMappingError
from syncengine.mapping.transforms import SIDES, BuildContext, Converter, RefResolver, Side, Transform
from syncengine.records import Money, get_path

__all__ = [
    "THREE_DECIMAL_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "MoneyTransform",
    "build_money",
    "from_minor",
    "minor_exponent",
    "to_minor",
]

#: ISO 4217's whole-unit and three-decimal currencies (:mod:`syncengine.currencies`).
ZERO_DECIMAL_CURRENCIES = frozenset(code for code, digits in ISO_MINOR_UNITS.items() if digits == 0)
THREE_DECIMAL_CURRENCIES = frozenset(code for code, digits in ISO_MINOR_UNITS.items() if digits == 3)

MoneyKind = Literal["money", "minor", "decimal"]
KINDS: tuple[MoneyKind, ...] = ("money", "minor", "decimal")


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point of the currency's ISO 4217 minor unit (2 for an unlisted code)."""
    return minor_unit(currency)


def from_minor(amount: int, currency: str) -> Money:
    """``1050, "USD"`` -> ``Money(Decimal("10.50"), "USD")``."""
    exponent = minor_exponent(currency)
    return Money(Decimal(amount).scaleb(-exponent).quantize(quantum(exponent)), currency)


def quantize(money: Money) -> Money:
    """Round to the currency's minor unit, half even (banker's rounding, as accountants do)."""
    exponent = minor_exponent(money.currency)
    return Money(money.amount.quantize(quantum(exponent), rounding=ROUND_HALF_EVEN), money.currency)


def to_minor(money: Money) -> int:
    """``Money(Decimal("10.50"), "USD")`` -> ``1050`` (rounded half even to the minor unit)."""
    exponent = minor_exponent(money.currency)
    rounded = money.amount.quantize(quantum(exponent), rounding=ROUND_HALF_EVEN)
    return int(rounded.scaleb(exponent))


def _decimal(value: Any) -> Decimal:
    if isinstance(value, (bool, float)):
        raise RecordMappingError(
            f"amount {value!r} is a {type(value).__name__}; money must be a Decimal, integer or "
            "decimal string (floats cannot hold cents exactly)"
        )
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise RecordMappingError(f"amount {value!r} is not a decimal number") from None


def _money_value(value: Any) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, Mapping):
        currency = value.get("currency", value.get("code"))
        if currency in (None, "") or "amount" not in value:
            raise RecordMappingError(f"money {dict(value)!r} needs 'amount' and 'currency' (or 'code')")
        return Money(_decimal(value["amount"]), str(currency))
    raise RecordMappingError(f"expected money (a Money or an amount/currency mapping), got {value!r}")


class MoneyTransform(Transform):
    """See the module docstring; one instance per field, knowing each side's kind and currency."""

    name = "money"

    def __init__(
        self,
        kinds: Mapping[Side, MoneyKind],
        currency_fields: Mapping[Side, str | None],
        currencies: Mapping[Side, str | None],
    ) -> None:
        self.kinds = dict(kinds)
        self.currency_fields = dict(currency_fields)
        self.currencies = dict(currencies)
        self.rounds = "minor" in self.kinds.values()

    def reads(self, side: Side) -> tuple[str, ...]:
        path = self.currency_fields.get(side)
        return (path,) if path and self.kinds[side] != "money" else ()

    def extra_writes(self, side: Side) -> tuple[str, ...]:
        return self.reads(side)

    def extra_value(self, side: Side, path: str, common: Any) -> Any:
        return common.currency if isinstance(common, Money) else None

    def _currency_getter(self, side: Side) -> Any:
        fixed = self.currencies.get(side)
        path = self.currency_fields.get(side)
        simple = path is not None and "." not in path

        def currency_of(fields: Mapping[str, Any]) -> str:
            if path is not None:
                found = fields.get(path) if simple else get_path(fields, path)
                if found not in (None, ""):
                    return str(found)
                if fixed is None:
                    raise RecordMappingError(f"no currency in field {path!r} for the amount")
            assert fixed is not None
            return fixed

        return currency_of

    def to_common_fn(self, side: Side) -> Converter:
        kind = self.kinds[side]
        rounds = self.rounds
        if kind == "money":

            def money_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
                if value is None:
                    return None
                money = _money_value(value)
                return quantize(money) if rounds else money

            return money_to_common
        currency_of = self._currency_getter(side)
        if kind == "minor":

            def minor_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
                if value is None or value == "":
                    return None
                amount = _decimal(value)
                if amount != amount.to_integral_value():
                    raise RecordMappingError(f"minor-unit amount {value!r} is not a whole number")
                return from_minor(int(amount), currency_of(fields))

            return minor_to_common

        def decimal_to_common(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            if value is None or value == "":
                return None
            money = Money(_decimal(value), currency_of(fields))
            return quantize(money) if rounds else money

        return decimal_to_common

    def from_common_fn(self, side: Side) -> Converter:
        kind = self.kinds[side]
        fixed = self.currencies.get(side) if self.currency_fields.get(side) is None else None

        def check(value: Any) -> Money:
            money = _money_value(value)
            if fixed is not None and money.currency != fixed.upper():
                raise RecordMappingError(
                    f"amount is in {money.currency} but this side holds {fixed.upper()} only"
                )
            return money

        if kind == "money":

            def common_to_money(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
                return None if value is None else _money_value(value)

            return common_to_money
        if kind == "minor":

            def common_to_minor(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
                return None if value is None else to_minor(check(value))

            return common_to_minor

        def common_to_decimal(value: Any, fields: Mapping[str, Any], refs: RefResolver) -> Any:
            return None if value is None else check(value).amount

        return common_to_decimal


_ARGS = frozenset(
    {
        "left",
        "right",
        "currency_field",
        "left_currency_field",
        "right_currency_field",
        "currency",
        "left_currency",
        "right_currency",
    }
)


def build_money(args: Any, options: Mapping[str, Any], ctx: BuildContext) -> Transform | None:
    """``{money: {right: minor, currency_field: currency}}`` -> a :class:`MoneyTransform`."""
    from syncengine.mapping.diagnostics import did_you_mean, one_of

    if args is None:
        args = {}
    if not isinstance(args, Mapping):
        ctx.report((), "money takes a mapping like {right: minor, currency_field: currency}")
        return None
    ok = True
    for key in args:
        if key not in _ARGS:
            ctx.report((key,), f"unknown money option {key!r}{did_you_mean(str(key), _ARGS)}", at_key=True)
            ok = False
    kinds: dict[Side, MoneyKind] = {}
    currency_fields: dict[Side, str | None] = {}
    currencies: dict[Side, str | None] = {}
    for side in SIDES:
        kind = args.get(side, "money")
        if kind not in KINDS:
            ctx.report(
                (side,),
                f"money {side} must be one of {one_of(KINDS)}, not {kind!r}{did_you_mean(str(kind), KINDS)}",
            )
            ok = False
            kind = "money"
        kinds[side] = kind
        for key, store in ((f"{side}_currency_field", currency_fields), (f"{side}_currency", currencies)):
            value = args.get(key, args.get(key.removeprefix(f"{side}_")))
            if value is not None and not isinstance(value, str):
                ctx.report((key if key in args else key.removeprefix(f"{side}_"),), f"{key} must be a string")
                ok = False
                value = None
            store[side] = value
        fixed = currencies[side]
        if fixed is not None and (len(fixed) != 3 or not fixed.isalpha()):
            where = f"{side}_currency" if f"{side}_currency" in args else "currency"
            ctx.report((where,), f"currency {fixed!r} is not an ISO 4217 code like USD")
            ok = False
        if kind != "money" and currency_fields[side] is None and currencies[side] is None:
            ctx.report(
                (side,),
                f"money {side} side is {kind} but has no currency source",
                hint=f"add currency_field: <{side} field holding the currency> or currency: USD",
            )
            ok = False
    if not ok:
        return None
    return MoneyTransform(kinds, currency_fields, currencies)
