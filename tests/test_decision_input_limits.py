"""What a workstation takes for a decision is what the backend takes: ASCII digits, bounded text.

``agentdesk decide`` as a user runs it (a real process on a real store), and the ledger underneath
it, which the workstation's screens use too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.authority_file import demo_matrix
from agentdesk.store.ledger import Ledger, LedgerError
from tests.test_cli_decide import counts, decide, one_line_err, store  # noqa: F401 (fixture)


@pytest.mark.parametrize("amount", ["１０.００", "٣٠.٠٠", "१५"])
def test_decide_refuses_an_amount_in_other_digits_than_0_to_9(store: Path, amount: str) -> None:
    before = counts(store)
    line = one_line_err(decide(store, "refund", "c-1001", "--as", "a-7", "--amount", amount), code=2)
    assert line == f"agentdesk: --amount {amount!r} has digits other than 0-9"
    assert counts(store) == before


def test_decide_refuses_a_note_over_the_text_limit_and_writes_nothing(store: Path) -> None:
    before = counts(store)
    line = one_line_err(decide(store, "note", "c-1001", "--as", "a-7", "--reason", "x" * 10_001))
    assert line == "agentdesk: reason is 10,001 characters; the limit is 10,000"
    assert counts(store) == before


async def test_the_ledger_refuses_free_text_the_backend_would_refuse(store: Path) -> None:
    from agentdesk.domain.authority import Proposal

    async with Ledger.open(store, demo_matrix()) as ledger:
        with pytest.raises(LedgerError, match="^reason is 10,001 characters; the limit is 10,000$"):
            await ledger.take("a-7", "c-1001", Proposal("note", reason="x" * 10_001))
        with pytest.raises(LedgerError, match="^reason is 20,000 characters; the limit is 10,000$"):
            await ledger.decline("a-9", "d-1", "y" * 20_000)
        taken = await ledger.take("a-7", "c-1001", Proposal("note", reason="x" * 10_000))
    assert taken.decision is not None and taken.decision.reason == "x" * 10_000
