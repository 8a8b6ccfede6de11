"""ws_relay settings: the common ones (no database) plus origins, the WebSocket timings and bounds, and the feed's."""
from __future__ import annotations

from dataclasses import dataclass, field

from broker.topology import FeedRetention
from taskwire_common.settings import ServiceSettings, env_int, env_str, read_service_settings

SERVICE = "ws_relay"
DEV_ORIGINS = "http://127.0.0.1:8000,http://localhost:8000"


@dataclass(frozen=True)
class RelaySettings(ServiceSettings):
    allowed_origins: frozenset[str] = frozenset()  # "*" allows any; a request without Origin is allowed
    ping_interval_seconds: int = 25
    send_queue_size: int = 256
    send_timeout_seconds: int = 10
    feed_retention: FeedRetention = field(default_factory=FeedRetention)
    history_size: int = 10_000  # feed entries each relay process keeps in memory for resuming sockets
    replay_readers: int = 4  # resuming sockets per process reading the stream at once (cursors older than that)
    max_sockets_per_user: int = 100  # a user's sockets in one relay process; more are closed with 4429


def load_settings() -> RelaySettings:
    origins = env_str("WS_ALLOWED_ORIGINS", DEV_ORIGINS)
    return read_service_settings(
        SERVICE, None, RelaySettings,
        allowed_origins=frozenset(origin.strip().rstrip("/") for origin in origins.split(",") if origin.strip()),
        ping_interval_seconds=env_int("WS_PING_INTERVAL_SECONDS", 25),
        send_queue_size=env_int("WS_SEND_QUEUE_SIZE", 256),
        send_timeout_seconds=env_int("WS_SEND_TIMEOUT_SECONDS", 10),
        feed_retention=FeedRetention(
            max_age=env_str("FEED_MAX_AGE", FeedRetention.max_age),
            max_bytes=env_int("FEED_MAX_BYTES", FeedRetention.max_bytes),
            segment_bytes=env_int("FEED_SEGMENT_BYTES", FeedRetention.segment_bytes),
        ),
        history_size=env_int("WS_HISTORY_SIZE", 10_000),
        replay_readers=env_int("WS_REPLAY_READERS", 4, minimum=1),
        max_sockets_per_user=env_int("WS_MAX_SOCKETS_PER_USER", 100, minimum=1),
    )
