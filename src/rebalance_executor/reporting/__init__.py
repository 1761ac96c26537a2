"""Human-facing views of an execution result: terminal table, HTML page, live progress.

Only the CLI imports this package (it needs ``rich`` and ``matplotlib``); the Lambda never does.
"""
