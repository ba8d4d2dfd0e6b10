"""Look-up keys: one key for one phone number however it is written; the country a national number is dialled in."""

from __future__ import annotations

import pytest

from agentdesk.domain.contact import customer_phone_key, customer_region, phone_key
from agentdesk.domain.model import Customer


@pytest.mark.parametrize("written", ["+49 151 5550142", "+491515550142", "0049 151 555-0142", "+49 (0)151 5550142"])
def test_one_number_written_many_ways_gives_one_key(written: str) -> None:
    assert phone_key(written, "DE") == "+491515550142"


def test_a_national_number_is_read_in_the_customers_country() -> None:
    german = Customer("c-1", "Petra", phone="0151 5550142", location="Nürnberg, DE")
    assert customer_phone_key(german) == phone_key("+49 151 5550142") == "+491515550142"
    in_vienna = Customer("c-2", "Anna", phone="0664 5550142", timezone="Europe/Vienna")
    assert customer_phone_key(in_vienna) == "+436645550142"


def test_the_country_comes_from_the_location_before_the_time_zone() -> None:
    assert customer_region(Customer("c", "n", location="Basel, ch", timezone="Europe/Berlin")) == "CH"
    assert customer_region(Customer("c", "n", location="Nürnberg", timezone="Europe/Berlin")) == "DE"
    assert customer_region(Customer("c", "n", timezone="Etc/UTC")) is None
    assert customer_region(Customer("c", "n")) is None


def test_a_number_that_cannot_be_read_keeps_its_digits() -> None:
    assert phone_key("0151 5550142") == "01515550142", "a national number without a country"
    assert phone_key("  +1 555") == "+1555"
    assert phone_key("n/a") is None and phone_key("") is None and phone_key(None) is None
