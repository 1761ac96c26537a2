"""Stand-in for numpy in the Lambda artifact only (see ../pandas/__init__.py and docs/deploy.md):
alpaca-py imports it at module level and never uses it on the handler's paths."""

MESSAGE = "numpy is not shipped in the rebalance-executor Lambda artifact; see docs/deploy.md"


def __getattr__(name: str) -> object:
    raise AttributeError(f"numpy.{name}: {MESSAGE}")
