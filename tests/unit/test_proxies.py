"""Forwarded addresses: believed from the gateway's address only, and the local stack and compose name that address."""
import ipaddress

import pytest
import yaml
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

from stack import config, render
from taskwire_common.proxies import TrustedProxyFix
from taskwire_common.settings import ConfigurationError, ServiceSettings, read_service_settings

GATEWAY = "127.0.0.8"
FORWARDING = {"X-Forwarded-For": "192.0.2.1, 203.0.113.7", "X-Forwarded-Proto": "https",
              "X-Forwarded-Host": "evil.example", "X-Real-IP": "203.0.113.9", "Forwarded": "for=203.0.113.10"}


@Request.application
def echo(request: Request) -> Response:
    """What a view would see: the client's address, the scheme, and which forwarding headers reached it."""
    seen = sorted(name for name in FORWARDING if name in request.headers)
    return Response(f"{request.remote_addr} {request.scheme} {','.join(seen)}")


def seen_from(peer, trusted=(GATEWAY,), headers=FORWARDING):
    client = Client(TrustedProxyFix(echo, trusted))
    return client.get("/", headers=headers, environ_base={"REMOTE_ADDR": peer}).get_data(as_text=True).split(" ")


def test_from_the_gateway_the_client_is_the_last_forwarded_address_and_the_scheme_forwarded():
    address, scheme, _ = seen_from(GATEWAY)
    assert (address, scheme) == ("203.0.113.7", "https")


def test_from_the_gateway_a_client_sent_forwarded_for_before_nginxs_entry_is_never_the_address():
    # nginx appends the peer it saw to whatever the client sent: only that last hop counts.
    assert seen_from(GATEWAY, headers={"X-Forwarded-For": "127.0.0.1, 10.0.0.1, 198.51.100.4"})[0] == "198.51.100.4"


def test_from_anyone_else_the_forwarding_headers_are_dropped_and_the_peer_is_the_client():
    assert seen_from("127.0.0.1") == ["127.0.0.1", "http", ""]
    assert seen_from("203.0.113.7") == ["203.0.113.7", "http", ""]


def test_a_trusted_network_trusts_each_of_its_addresses_and_no_other():
    assert seen_from("10.0.0.77", trusted=("10.0.0.0/24",))[0] == "203.0.113.7"
    assert seen_from("10.0.1.1", trusted=("10.0.0.0/24",))[0] == "10.0.1.1"


def test_an_ipv4_gateway_on_a_dual_stack_socket_is_still_trusted():
    assert seen_from("::ffff:127.0.0.8")[0] == "203.0.113.7"
    assert seen_from("::1", trusted=("::1",))[0] == "203.0.113.7"


def test_no_trusted_proxy_means_no_forwarded_address_is_believed():
    assert seen_from(GATEWAY, trusted=())[0] == GATEWAY


def test_a_trusted_proxies_entry_that_is_no_address_stops_the_service():
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXIES: 'gateway'"):
        TrustedProxyFix(echo, ("127.0.0.8", "gateway"))


def test_trusted_proxies_is_a_comma_list_and_defaults_to_the_local_gateways_address(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", " 172.31.240.250 , 10.0.0.0/8,,")
    assert read_service_settings("x", None, ServiceSettings).trusted_proxies == ("172.31.240.250", "10.0.0.0/8")
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert read_service_settings("x", None, ServiceSettings).trusted_proxies == (
        config.load_profile("dev").gateway_source_address,)


@pytest.mark.parametrize("name", ["dev", "test", "chaos"])
def test_locally_nginx_connects_from_the_one_address_every_process_trusts(name, tmp_path):
    profile = config.load_profile(name)
    address = profile.gateway_source_address
    assert ipaddress.ip_address(address).is_loopback and address != "127.0.0.1"  # clients connect from 127.0.0.1
    assert {config.process_env(profile, proc, environ={})["TRUSTED_PROXIES"] for proc in profile.processes} == {
        address}
    conf = render.render_template(render.NGINX_TEMPLATE.read_text(), render.nginx_values(profile))
    assert f"proxy_bind {address};" in conf


def test_in_compose_the_services_trust_the_gateway_containers_fixed_address():
    compose = yaml.safe_load((config.REPO / "docker-compose.yml").read_text())
    address = compose["services"]["gateway"]["networks"]["default"]["ipv4_address"]
    [subnet] = [block["subnet"] for block in compose["networks"]["default"]["ipam"]["config"]]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    assert compose["x-env"]["TRUSTED_PROXIES"] == address
    assert "proxy_bind off;" in render.compose_nginx_conf()
