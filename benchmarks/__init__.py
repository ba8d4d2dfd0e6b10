"""Benchmarks of agentdesk against same-run baselines: ``python -m benchmarks [--quick]``.

Each benchmark runs its baseline interleaved with the measured runs (A B A B …)
so that drift of the machine hits both alike, and adds rows to one table:

* ``demo_build``: ``build_demo`` of the default demo; baseline: generating its records only.
* ``cold_start``: ``agentdesk --db DEMO --as a-7`` in a pty until its first painted queue;
  baseline: a bare Textual app (``bare_app.py``) run the same way.
* ``peak_rss``: the same command driven through a customer's whole timeline; baseline: the bare app.
* ``timeline`` (rows ``timeline_open``, ``timeline_jump``): in-process with Pilot, a customer
  holding 100,000 entries; baseline: one holding 10.
* ``import_rate``: ``load_jsonl`` of ~200,000 lines; baseline: raw ``executemany`` of the same rows.
* ``decision_commit``: keystroke to durable commit, ``Ledger.take()`` of a pending decision on a copy
  of the demo store; baseline: a raw ``sqlite3`` single-row INSERT + COMMIT, WAL + ``synchronous=FULL``.
* ``decision_paint``: in-process with Pilot, ``r`` on a story customer until the customer screen's
  ``decision_painted`` hook is set (committed and painted); baseline: ``home``/``end`` in its timeline.
  Its target is on the p95 (``Target.p95_at_most``), the others on the median.

Scratch files live in a temporary directory that is removed afterwards.
"""
