"""The carriers contract suite: schemathesis against every carrier of the registry.

Installed with ``carriers[contract]``; run it with ``carriers contract`` or
``python -m carriers_contract`` from any directory.
"""
