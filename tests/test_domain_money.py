from decimal import Decimal

import pytest

from agentdesk.domain.money import Money, MoneyError


def test_parses_decimal_strings_exactly() -> None:
    money = Money.parse("39.90", "EUR")
    assert money.amount == Decimal("39.90")
    assert str(money) == "39.90 EUR"
    assert (Money.parse("0.10", "EUR") + Money.parse("0.20", "EUR")).amount == Decimal("0.30")


@pytest.mark.parametrize("amount", [39.9, 40, True, Decimal("1.00")])
def test_numbers_are_refused_because_floats_are_inexact(amount: object) -> None:
    with pytest.raises(MoneyError, match="decimal string"):
        Money.parse(amount, "EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("1.234", "EUR", "more decimals than EUR allows"),
        ("12.5", "JPY", "more decimals than JPY allows"),
        ("1e3", "EUR", "not a decimal string"),
        ("", "EUR", "not a decimal string"),
        ("10.00", "EURO", "unknown currency"),
        ("10.00", "eur", "unknown currency"),
    ],
)
def test_bad_money_names_the_problem(amount: str, currency: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        Money.parse(amount, currency)


def test_currencies_never_mix() -> None:
    with pytest.raises(MoneyError, match="cannot combine"):
        Money.parse("1.00", "EUR") + Money.parse("1.00", "USD")


def test_text_uses_the_currency_precision() -> None:
    assert Money.parse("5", "EUR").text == "5.00"
    assert Money.parse("5", "JPY").text == "5"
    assert Money.parse("1.5", "KWD").text == "1.500"
