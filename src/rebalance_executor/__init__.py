"""rebalance-executor: executes portfolio rebalance plans against Alpaca exactly once."""
