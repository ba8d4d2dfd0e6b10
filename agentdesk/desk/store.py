"""The store as the front ends use it: reading (:class:`StoreReader`) and deciding (:class:`Ledger`).

Both are the store's own classes, named here so that front ends reach the store through
this layer only (an import-linter contract says so). Neither imports SQLAlchemy.
"""

from agentdesk.store.files import StoreError
from agentdesk.store.ledger import Choices, Ledger, LedgerError, ReplyContext, ReplyDraft, Taken
from agentdesk.store.reader import OPEN_PROMISE_STATES, CustomerCard, StoreReader

__all__ = ["OPEN_PROMISE_STATES", "Choices", "CustomerCard", "Ledger", "LedgerError", "ReplyContext",
           "ReplyDraft", "StoreError", "StoreReader", "Taken"]
