"""Interchange JSONL: the pure codec (:mod:`.codec`), import (:mod:`.load`) and export (:mod:`.dump`).

Import the submodules directly; this package stays empty so that the codec can
be used without pulling in the store's SQLAlchemy engine.
"""
