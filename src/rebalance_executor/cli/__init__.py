"""The ``rebalance-executor`` command line (SPEC §3.5)."""
