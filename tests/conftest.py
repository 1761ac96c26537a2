"""Shared pytest configuration. Fixtures live in tests/fixtures/ and load as plugins."""

pytest_plugins = [
    "tests.fixtures.sim",
    "tests.fixtures.aws",
    "tests.fixtures.handler",
]
