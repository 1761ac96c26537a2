"""Alpaca credentials: Secrets Manager in AWS, the environment locally (SPEC §3.4, §6).

The secret is a JSON object ``{"api_key": "...", "secret_key": "..."}``. It is fetched once per
container and cached; the values never appear in logs, results or exception messages.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient


class CredentialsError(Exception):
    """Credentials are missing, unreadable or malformed (message never contains them)."""


@dataclass(frozen=True)
class AlpacaCredentials:
    api_key: str = field(repr=False)
    secret_key: str = field(repr=False)


_cache: dict[str, AlpacaCredentials] = {}
_lock = threading.Lock()


def credentials_from_env(api_key: str | None, secret_key: str | None) -> AlpacaCredentials:
    """Local credentials. Raises CredentialsError when either is missing."""
    if not api_key or not secret_key:
        raise CredentialsError("ALPACA_API_KEY and ALPACA_SECRET_KEY must both be set")
    return AlpacaCredentials(api_key=api_key, secret_key=secret_key)


def credentials_from_secret(client: SecretsManagerClient, secret_id: str) -> AlpacaCredentials:
    """Fetch (once per container) and parse the secret. Raises CredentialsError."""
    with _lock:
        cached = _cache.get(secret_id)
        if cached is not None:
            return cached
        try:
            raw = client.get_secret_value(SecretId=secret_id)["SecretString"]
        except (ClientError, BotoCoreError, KeyError) as exc:
            # Only the error type: the AWS message may echo request data.
            raise CredentialsError(
                f"cannot read secret {secret_id}: {type(exc).__name__}"
            ) from None
        try:
            parsed = json.loads(raw)
            creds = AlpacaCredentials(api_key=parsed["api_key"], secret_key=parsed["secret_key"])
        except (json.JSONDecodeError, KeyError, TypeError):
            raise CredentialsError(
                f"secret {secret_id} must be a JSON object with api_key and secret_key"
            ) from None
        if not creds.api_key or not creds.secret_key:
            raise CredentialsError(f"secret {secret_id} has an empty api_key or secret_key")
        _cache[secret_id] = creds
        return creds


def clear_cache() -> None:
    """Forget cached secrets (tests; rotation)."""
    with _lock:
        _cache.clear()
