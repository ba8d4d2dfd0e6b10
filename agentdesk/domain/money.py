"""Money as an exact decimal amount with an ISO 4217 currency; never a float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# Active ISO 4217 codes by number of minor-unit digits (codes with 2 are the rest).
_MINOR_UNITS_0 = "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
_MINOR_UNITS_3 = "BHD IQD JOD KWD LYD OMR TND"
_MINOR_UNITS_4 = "CLF UYW"
_MINOR_UNITS_2 = (
    "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN "
    "BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN "
    "ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD "
    "KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR "
    "MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON "
    "RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT "
    "TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)
MINOR_UNITS: dict[str, int] = {
    code: digits
    for digits, codes in (
        (0, _MINOR_UNITS_0),
        (2, _MINOR_UNITS_2),
        (3, _MINOR_UNITS_3),
        (4, _MINOR_UNITS_4),
    )
    for code in codes.split()
}

# ASCII digits only: Decimal() and int() also read full-width, Arabic-Indic and other digits.
_AMOUNT = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,4})?")


class MoneyError(ValueError):
    """An amount or currency that cannot be money."""


def parse_currency(code: object) -> str:
    if not isinstance(code, str) or code not in MINOR_UNITS:
        raise MoneyError(f"unknown currency {code!r} (expected an ISO 4217 code such as 'EUR')")
    return code


def has_foreign_digits(text: str) -> bool:
    """True when ``text`` holds a digit that is not one of ASCII 0-9 (``"１０"``, ``"٣٠"``, ``"²"``)."""
    return not text.isascii() and any(char.isdigit() for char in text)


def parse_amount(text: object, currency: str) -> Decimal:
    """Parse a decimal string such as ``"39.90"``; numbers are refused because JSON floats are inexact."""
    if isinstance(text, bool) or isinstance(text, (int, float, Decimal)):
        raise MoneyError(f"amount {text!r} must be a decimal string such as \"39.90\", not a number")
    if isinstance(text, str) and has_foreign_digits(text):
        raise MoneyError(f"amount {text!r} has digits other than 0-9")
    if not isinstance(text, str) or not _AMOUNT.fullmatch(text):
        raise MoneyError(f"amount {text!r} is not a decimal string such as \"39.90\"")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
        raise MoneyError(f"amount {text!r} is not a number") from exc
    digits = MINOR_UNITS[currency]
    if -amount.as_tuple().exponent > digits:  # type: ignore[operator]
        raise MoneyError(f"amount {text} has more decimals than {currency} allows ({digits})")
    return amount


@dataclass(frozen=True, slots=True, order=True)
class Money:
    amount: Decimal
    currency: str

    @classmethod
    def parse(cls, amount: object, currency: object) -> Money:
        code = parse_currency(currency)
        return cls(parse_amount(amount, code), code)

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise MoneyError(f"amount must be a Decimal, got {type(self.amount).__name__}")
        parse_currency(self.currency)

    @property
    def text(self) -> str:
        """The amount at the currency's precision, e.g. ``39.90``."""
        digits = MINOR_UNITS[self.currency]
        return f"{self.amount.quantize(Decimal(1).scaleb(-digits)):f}"

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __str__(self) -> str:
        return f"{self.text} {self.currency}"
