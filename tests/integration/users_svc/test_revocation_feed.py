"""A service's revocation feed on the real broker: snapshot at start, then events, re-synced after a break."""
import pytest

from broker import topology
from taskwire_common.auth import TokenVerifier
from taskwire_common.internal import InternalClient
from taskwire_common.revocation import RevocationFeed, RevocationList
from taskwire_common.settings import DEV_INTERNAL_API_KEY
from tests.support import bearer, wait_for


@pytest.fixture
def verify(users_app):
    return TokenVerifier(users_app.config["TASKWIRE_SETTINGS"].jwt, users_app.extensions["users_svc.keys"]).verify


@pytest.fixture
def start_feed(it_env, users_http):
    feeds = []

    def start(users_url=users_http):
        feed = RevocationFeed(RevocationList(), it_env["AMQP_URL"], topology,
                              InternalClient(users_url, DEV_INTERNAL_API_KEY))
        feed.start()
        feeds.append(feed)
        return feed

    yield start
    for feed in feeds:
        feed.stop()


def test_a_starting_service_learns_revocations_it_missed(client, make_user, login, verify, start_feed, admin_token):
    make_user("ann")
    logged_out = login("ann")
    client.post("/api/auth/logout/", headers=bearer(logged_out))
    bob = make_user("bob")
    bob_token = login("bob")
    client.delete(f"/api/auth/users/{bob}/", headers=bearer(admin_token))
    still_good = login("ann")

    feed = start_feed()
    wait_for(lambda: feed.synced, message="the feed synced")
    assert feed.revocations.is_revoked(verify(logged_out))
    assert feed.revocations.is_revoked(verify(bob_token))
    assert not feed.revocations.is_revoked(verify(still_good))


def test_a_logout_reaches_a_running_service_through_the_broker(client, make_user, login, verify, start_feed,
                                                              run_publisher):
    make_user("ann")
    token = login("ann")
    feed = start_feed()
    run_publisher()
    wait_for(lambda: feed.synced, message="the feed synced")
    assert not feed.revocations.is_revoked(verify(token))
    client.post("/api/auth/logout/", headers=bearer(token))
    wait_for(lambda: feed.revocations.is_revoked(verify(token)), timeout=5, message="the revocation event")


def test_the_feed_is_unhealthy_until_it_can_sync(start_feed):
    feed = start_feed(users_url="http://127.0.0.1:1")
    wait_for(lambda: feed.last_error != "not started", message="a failed attempt")
    healthy, detail = feed.health()
    assert not healthy and "ConnectionError" in detail
