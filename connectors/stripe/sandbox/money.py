"""Currency rules as Stripe enforces them (reference "Money"; stripe.com/docs/currencies).

Amounts are integers in the currency's minor unit. Zero-decimal currencies take whole units;
three-decimal currencies (BHD JOD KWD OMR TND) must end in 0 when money moves (charges, payment
intents, refunds, finalized invoices); ISK amounts must be multiples of 100. Minimum charge amounts
follow Stripe's published table for the common currencies.
"""

from __future__ import annotations

from .errors import StripeError, invalid

ZERO_DECIMAL = frozenset(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
                          "xaf", "xof", "xpf"])
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])
WHOLE_HUNDREDS = frozenset({"isk"})
# The currencies this sandbox accepts (Stripe supports ~135; these are the ones worth testing with).
SUPPORTED = frozenset(["usd", "eur", "gbp", "cad", "aud", "nzd", "chf", "sek", "nok", "dkk", "pln", "czk", "huf",
                       "ron", "bgn", "isk", "mxn", "brl", "inr", "sgd", "hkd", "zar", "aed", "ils", "thb", "myr",
                       "php", "idr", "try"]) | ZERO_DECIMAL | THREE_DECIMAL
# Minimum charge amounts in minor units (stripe.com/docs/currencies#minimum-and-maximum-charge-amounts).
MINIMUM_CHARGE = {"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "nzd": 50, "chf": 50, "jpy": 50,
                  "sek": 300, "nok": 300, "dkk": 250, "mxn": 1000, "sgd": 50, "hkd": 400, "pln": 200,
                  "czk": 1500, "huf": 17500, "bhd": 200, "kwd": 200, "jod": 200, "omr": 200, "tnd": 2000}
MAXIMUM_AMOUNT = 99_999_999


def currency(value: str | None, param: str = "currency") -> str:
    """A supported ISO code, lower-cased (Stripe answers in lower case)."""
    if not value:
        raise StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)
    code = value.lower()
    if code not in SUPPORTED:
        raise invalid(f"Invalid currency: {value}. Stripe currently supports these currencies: "
                      + ", ".join(sorted(SUPPORTED)), param=param)
    return code


def decimals(code: str) -> int:
    return 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2


def check_amount(amount: int, code: str, param: str = "amount", *, moves_money: bool = False) -> None:
    """Range always; the currency's granularity and minimum when money actually moves."""
    if amount < 0:
        raise invalid("This value must be greater than or equal to 0.", param=param)
    if amount > MAXIMUM_AMOUNT:
        raise invalid("Amount must be no more than 999,999.99", param=param, code="amount_too_large")
    if moves_money:
        check_granularity(amount, code, param)
        minimum = MINIMUM_CHARGE.get(code)
        if minimum is not None and amount < minimum:
            raise invalid(f"Amount must be at least {format_amount(minimum, code)} {code}", param=param,
                          code="amount_too_small")


def check_granularity(amount: int, code: str, param: str = "amount") -> None:
    """Three-decimal currencies end in 0; ISK in 00 (what card networks can settle)."""
    if code in THREE_DECIMAL and amount % 10:
        raise invalid(f"The amount for {code.upper()} must be a multiple of 10 (its last decimal must be 0): "
                      f"{amount}.", param=param, code="invalid_amount")
    if code in WHOLE_HUNDREDS and amount % 100:
        raise invalid(f"The amount for ISK must be a multiple of 100: {amount}.", param=param,
                      code="invalid_amount")


def format_amount(amount: int, code: str) -> str:
    places = decimals(code)
    return str(amount) if places == 0 else f"{amount / 10 ** places:.{places}f}"
