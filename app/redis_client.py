"""Redis connections with every call bounded: a frozen or vanished Redis costs a caller at most
the configured timeouts, never a hung request or worker."""
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry


def connect(config, socket_timeout: float | None = None) -> Redis:
    """A client for REDIS_URL with the configured timeouts (`socket_timeout` overrides the
    per-call one, e.g. for a worker's blocking wait).

    A broken connection is tried once more at once (a pooled connection may have outlived a
    Redis restart); a timeout is not, so a frozen Redis costs one timeout, not four (redis-py's
    default is three retries with back-off)."""
    return Redis.from_url(
        config["REDIS_URL"],
        socket_timeout=socket_timeout or config["REDIS_SOCKET_TIMEOUT"],
        socket_connect_timeout=config["REDIS_CONNECT_TIMEOUT"],
        health_check_interval=config["REDIS_HEALTH_CHECK_INTERVAL"],
        socket_keepalive=True,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
