"""One way to make a ``redis.asyncio`` client for Valkey/Redis (ingest dedupe, writers, chat
memory): a command that meets a dropped connection (the server restarted, e.g. the embedded
Valkey brought back by its watchdog) is retried once on a fresh connection instead of
failing the request.
"""

from __future__ import annotations

from typing import Any

__all__ = ["async_redis"]


def async_redis(url: str, **options: Any) -> Any:
    """``redis.asyncio.Redis.from_url(url, **options)`` retrying once on ``ConnectionError``."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError

    return Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 1),
        retry_on_error=[RedisConnectionError],
        **options,
    )
