"""What every integration test shares: the environment, the broker (a channel, a tap, outbox publishers)."""
import pytest

from tests.integration.support import IT_ENV
from tests.support import it_jwks_file, it_key_dir


@pytest.fixture(scope="session")
def it_env():
    # users_svc signs with the test keys (made on first use); the other services verify with their public
    # halves, from a file.
    env = {**IT_ENV, "JWT_SIGNING_KEY_DIR": str(it_key_dir()), "JWKS_FILE": str(it_jwks_file())}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        yield env


class EventTap:
    """An exclusive queue on the real broker bound to every event: what a consumer would see."""

    def __init__(self, amqp_url, routing_key="#"):
        import pika

        from broker import topology
        from taskwire_common.messaging import connection_parameters

        self.connection = pika.BlockingConnection(connection_parameters(amqp_url))
        self.channel = self.connection.channel()
        topology.declare(self.channel)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, topology.EXCHANGE, routing_key)
        self.messages = []

    def drain(self):
        from taskwire_common.contracts import parse_event

        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return self.messages
            self.messages.append((method.routing_key, properties, parse_event(body)))

    def close(self):
        if self.connection.is_open:
            self.connection.close()


@pytest.fixture
def channel(it_env):
    """A channel on the real broker, Taskwire's topology declared."""
    import pika

    from broker import topology
    from taskwire_common.messaging import connection_parameters

    connection = pika.BlockingConnection(connection_parameters(it_env["AMQP_URL"]))
    channel = connection.channel()
    topology.declare(channel)
    yield channel
    if connection.is_open:
        connection.close()


@pytest.fixture
def event_tap(it_env):
    tap = EventTap(it_env["AMQP_URL"])
    yield tap
    tap.close()


@pytest.fixture
def run_publisher(it_env):
    """Start outbox publishers in threads against users_db_it; all are stopped after the test."""
    import threading

    import pika

    from broker import topology
    from taskwire_common.messaging import connection_parameters
    from taskwire_common.outbox_publisher import OutboxPublisher

    # A publisher checks that the feed stream takes writes before it publishes; in the stack a relay has made
    # the stream. Here no relay runs, and a test of the feed may have deleted it: make it as the relay would.
    connection = pika.BlockingConnection(connection_parameters(it_env["AMQP_URL"]))
    topology.declare_feed(connection, topology.FeedRetention())
    connection.close()
    publishers = []

    def start(amqp_url=None, **options):
        publisher = OutboxPublisher(it_env["DATABASE_URL"], amqp_url or it_env["AMQP_URL"], topology, **options)
        thread = threading.Thread(target=publisher.run, daemon=True)
        thread.start()
        publishers.append((publisher, thread))
        return publisher

    yield start
    for publisher, _thread in publishers:
        publisher.stop.set()
    for _publisher, thread in publishers:
        thread.join(timeout=10)
