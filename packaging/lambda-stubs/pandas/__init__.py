"""Stand-in for pandas in the Lambda artifact only (docs/deploy.md, "Cold start").

alpaca-py imports pandas (and numpy) at module level, but only for helpers the handler never
calls: ``.df`` on market-data responses and one date parse in account-activity requests. Real
pandas + numpy are ~90 MiB of the artifact and ~320 ms of every cold start, so the build ships
this module instead: importing it works, using it fails loudly with this explanation.
"""

MESSAGE = (
    "pandas is not shipped in the rebalance-executor Lambda artifact (a stand-in replaces it to "
    "keep the cold start under 1 s); the handler never needs it — see docs/deploy.md"
)


class _Unavailable:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError(MESSAGE)


class DataFrame(_Unavailable):
    """Named by alpaca-py's annotations; constructing one fails."""


class Timestamp(_Unavailable):
    """Used by one alpaca-py request validator the handler never builds; constructing one fails."""


def __getattr__(name: str) -> object:
    raise AttributeError(f"pandas.{name}: {MESSAGE}")
