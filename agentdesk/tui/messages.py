"""Messages the screens send to the app (and that tests and benchmarks may watch)."""

from __future__ import annotations

from textual.message import Message


class OpenCustomer(Message):
    """Open the customer view for ``customer_id`` (posted by the queue and the search)."""

    def __init__(self, customer_id: str) -> None:
        super().__init__()
        self.customer_id = customer_id


class QueuePainted(Message):
    """The queue screen drew its first rows with data (or its empty sentence)."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.rows = rows
