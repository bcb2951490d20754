"""Benchmarks and the fault-injection soak of the wrapper and the mock servers (``make bench``).

``python -m bench`` starts its own mock servers on 127.0.0.1, measures, prints a
table with each target beside its figure, writes ``reports/bench.json`` and exits
1 when a target is missed. Ratios are measured within one run, in alternating
rounds, because the machines it runs on are shared and noisy.
"""
