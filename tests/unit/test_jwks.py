"""The public key set services other than users_svc verify with: fetched, cached, refetched sparingly."""
import threading

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from taskwire_common.jwks import MIN_FETCH_INTERVAL, KeysUnavailable, RemoteKeySet, parse_jwks


def jwk(kid, key=None):
    public = (key or Ed25519PrivateKey.generate()).public_key()
    return {**OKPAlgorithm.to_jwk(public, as_dict=True), "kid": kid, "alg": "EdDSA", "use": "sig"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


class Source:
    """users_svc's JWKS as the fetch sees it; counts fetches; can be down."""

    def __init__(self, *kids):
        self.document = {"keys": [jwk(kid) for kid in kids]}
        self.fetches = 0
        self.down = False

    def __call__(self):
        self.fetches += 1
        if self.down:
            raise requests.ConnectionError("users_svc is down")
        return self.document


@pytest.fixture
def clock():
    return Clock()


def key_set(source, clock, refresh=300.0):
    return RemoteKeySet(source, refresh_seconds=refresh, clock=clock, sleep=clock.sleep)


def test_keys_are_fetched_once_and_served_from_the_cache(clock):
    source = Source("a")
    keys = key_set(source, clock)
    assert keys.public_key("a") is not None and keys.public_key("a") is not None
    assert source.fetches == 1


def test_an_unknown_kid_fetches_again_at_most_once_per_interval_and_finds_a_rotated_key(clock):
    source = Source("a")
    keys = key_set(source, clock)
    keys.public_key("a")
    source.document["keys"].append(jwk("b"))  # users_svc rotated
    start = clock.now
    assert keys.public_key("b") is not None
    assert source.fetches == 2
    for _ in range(5):  # a flood of made-up kids: each waits for the next fetch, one per interval
        assert keys.public_key("made-up") is None
    assert source.fetches == 7 and clock.now - start >= 5 * MIN_FETCH_INTERVAL


def test_a_removed_key_stops_verifying_after_the_refresh_period(clock):
    source = Source("a", "b")
    keys = key_set(source, clock, refresh=60)
    assert keys.public_key("a") is not None
    source.document["keys"] = [k for k in source.document["keys"] if k["kid"] != "a"]
    clock.now += 30
    assert keys.public_key("a") is not None  # still cached
    clock.now += 31
    assert keys.public_key("a") is None


def test_users_svc_down_at_the_start_means_unavailable_not_invalid_and_a_cached_set_outlives_it(clock):
    source = Source("a")
    source.down = True
    keys = key_set(source, clock)
    with pytest.raises(KeysUnavailable):
        keys.public_key("a")
    assert keys.health()[0] is False
    source.down = False
    clock.now += MIN_FETCH_INTERVAL
    assert keys.public_key("a") is not None and keys.health() == (True, {"keys": 1})
    source.down = True
    clock.now += 301  # due for a refresh, which fails: the keys held are kept
    assert keys.public_key("a") is not None


def test_only_ed25519_keys_with_a_kid_are_taken():
    document = {"keys": [jwk("good"), {**jwk("no-kid"), "kid": ""}, {"kty": "RSA", "kid": "rsa", "n": "x", "e": "AQAB"},
                         {**jwk("x448"), "crv": "X448"}]}
    assert list(parse_jwks(document)) == ["good"]
    with pytest.raises(ValueError):
        parse_jwks({"keys": "nope"})


class WatchedLock:
    """The key set's lock, telling when a second caller has come to wait for it."""

    def __init__(self):
        self.lock, self.second_waits, self.takers = threading.Lock(), threading.Event(), 0

    def __enter__(self):
        self.takers += 1
        if self.takers == 2:
            self.second_waits.set()
        return self.lock.__enter__()

    def __exit__(self, *exc):
        return self.lock.__exit__(*exc)


def test_a_request_that_comes_in_while_a_fetch_is_on_its_way_takes_the_key_from_it(clock):
    """A worker's first fetch, or a refresh: the requests that arrive meanwhile do not wait for a second one."""
    fetching, release = threading.Event(), threading.Event()
    source = Source("a")

    def slow_fetch():
        fetching.set()
        release.wait(5)
        return source()
    keys = RemoteKeySet(slow_fetch, clock=clock, sleep=clock.sleep)
    keys._lock = lock = WatchedLock()
    first = threading.Thread(target=keys.public_key, args=("a",))
    first.start()
    assert fetching.wait(5)
    clock.now += 0.01  # the second request arrives after the fetch began
    found = []
    second = threading.Thread(target=lambda: found.append(keys.public_key("a")))
    second.start()
    assert lock.second_waits.wait(5)  # it found no key and waits for the fetch on its way
    release.set()
    first.join(5)
    second.join(5)
    assert found and found[0] is not None
    assert source.fetches == 1 and clock.now == 1000.01  # no second fetch, no wait for one
    assert keys.public_key("made-up") is None and source.fetches == 2  # an unknown kid still fetches
