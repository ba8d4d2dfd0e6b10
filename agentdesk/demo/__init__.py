"""Deterministic demo data: the product brief's five stories plus generated bulk, as interchange records.

``agentdesk.demo.records.demo_records`` yields them in dependency order; the same
seed and the same ``now`` always give byte-identical records.
"""
