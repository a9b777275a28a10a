"""A pod's resolv.conf and hosts file, as upstream's kubelet (dns_test.go,
kubelet_pods_test.go) and containerd write them."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.cri import DNSConfig
from kubelite.kubelet.network.dns import (
    host_network_hosts_file,
    hosts_file,
    parse_resolv_conf,
    pod_dns_config,
    pod_hostname_and_domain,
    resolv_conf,
)

NODE_RESOLV = """# generated
nameserver 192.0.2.53
nameserver 192.0.2.54
search corp.example. lab.example
options rotate timeout:2
"""


@pytest.mark.parametrize(("text", "expected"), [
    (NODE_RESOLV, DNSConfig(("192.0.2.53", "192.0.2.54"), ("corp.example", "lab.example"),
                            ("rotate", "timeout:2"))),
    ("search a b\nsearch c\noptions x\noptions y z\n", DNSConfig((), ("c",), ("y", "z"))),
    ("nameserver\n  # nameserver 1.1.1.1\n\n", DNSConfig()),
    ("", DNSConfig()),
], ids=["node-file", "last-search-and-options-win", "comments-and-empty-lines", "empty"])
def test_parse_resolv_conf(text: str, expected: DNSConfig) -> None:
    assert parse_resolv_conf(text) == expected


def _pod(policy: str | None = None, *, host_network: bool = False,
         dns_config: dict[str, Any] | None = None, namespace: str = "team") -> dict[str, Any]:
    spec: dict[str, Any] = {"hostNetwork": host_network}
    if policy is not None:
        spec["dnsPolicy"] = policy
    if dns_config is not None:
        spec["dnsConfig"] = dns_config
    return {"metadata": {"name": "web", "namespace": namespace}, "spec": spec}


CLUSTER_SEARCH = ("team.svc.cluster.local", "svc.cluster.local", "cluster.local")
NODE_DNS = parse_resolv_conf(NODE_RESOLV)


@pytest.mark.parametrize(("pod", "cluster_dns", "node_resolv", "expected"), [
    (_pod("ClusterFirst"), ["10.43.0.10"], NODE_RESOLV,
     DNSConfig(("10.43.0.10",), CLUSTER_SEARCH + NODE_DNS.searches, ("ndots:5",))),
    (_pod(), ["10.43.0.10"], NODE_RESOLV,
     DNSConfig(("10.43.0.10",), CLUSTER_SEARCH + NODE_DNS.searches, ("ndots:5",))),
    (_pod("ClusterFirst", host_network=True), ["10.43.0.10"], NODE_RESOLV, NODE_DNS),
    (_pod("ClusterFirstWithHostNet", host_network=True), ["10.43.0.10"], NODE_RESOLV,
     DNSConfig(("10.43.0.10",), CLUSTER_SEARCH + NODE_DNS.searches, ("ndots:5",))),
    (_pod("Default"), ["10.43.0.10"], NODE_RESOLV, NODE_DNS),
    (_pod("None", dns_config={"nameservers": ["1.1.1.1"], "searches": ["x.example"],
                              "options": [{"name": "ndots", "value": "2"}]}),
     ["10.43.0.10"], NODE_RESOLV, DNSConfig(("1.1.1.1",), ("x.example",), ("ndots:2",))),
    (_pod("Default"), ["10.43.0.10"], None, DNSConfig(("127.0.0.1",), (".",), ())),
    (_pod("ClusterFirst", dns_config={
        "nameservers": ["10.43.0.10", "9.9.9.9"], "searches": ["svc.cluster.local", "extra"],
        "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}),
     ["10.43.0.10"], "",
     DNSConfig(("10.43.0.10", "9.9.9.9"), CLUSTER_SEARCH + ("extra",), ("ndots:2", "edns0"))),
    (_pod("Default", dns_config={"options": [{"name": "rotate"},
                                             {"name": "timeout", "value": "5"}]}),
     [], NODE_RESOLV,
     DNSConfig(NODE_DNS.servers, NODE_DNS.searches, ("rotate", "timeout:5"))),
], ids=["cluster-first", "policy-defaults-to-cluster-first", "cluster-first-on-host-net-is-default",
        "cluster-first-with-host-net", "default-is-the-nodes", "none-is-only-the-pods",
        "default-without-resolv-conf-is-loopback", "pod-config-appended-without-duplicates",
        "pod-options-override-by-name"])
def test_pod_dns_config(pod: dict[str, Any], cluster_dns: list[str], node_resolv: str | None,
                        expected: DNSConfig) -> None:
    config, warnings = pod_dns_config(pod, cluster_dns=cluster_dns,
                                      cluster_domain="cluster.local",
                                      node_resolv_conf=node_resolv)
    assert (config, warnings) == (expected, [])


def test_cluster_first_without_a_cluster_dns_falls_back_to_the_nodes_with_a_warning() -> None:
    config, warnings = pod_dns_config(_pod("ClusterFirst"), cluster_dns=[],
                                      cluster_domain="cluster.local",
                                      node_resolv_conf=NODE_RESOLV)
    assert config == NODE_DNS
    assert warnings == ['kubelet does not have ClusterDNS IP configured and cannot create Pod '
                        'using "ClusterFirst" policy. Falling back to "Default" policy.']


def test_cluster_first_without_a_cluster_domain_keeps_the_nodes_searches() -> None:
    config, _ = pod_dns_config(_pod(), cluster_dns=["10.43.0.10"], cluster_domain="",
                               node_resolv_conf=NODE_RESOLV)
    assert config.searches == NODE_DNS.searches


def test_more_than_three_nameservers_are_cut_with_a_warning() -> None:
    pod = _pod("None", dns_config={"nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]})
    config, warnings = pod_dns_config(pod, cluster_dns=[], cluster_domain="cluster.local",
                                      node_resolv_conf="")
    assert config.servers == ("1.1.1.1", "2.2.2.2", "3.3.3.3")
    assert warnings == ["Nameserver limits were exceeded, some nameservers have been omitted, "
                        "the applied nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3"]


@pytest.mark.parametrize(("searches", "kept"), [
    ([f"d{i}.example" for i in range(40)], [f"d{i}.example" for i in range(32)]),
    (["a.example", "x" * 254, "b.example"], ["a.example", "b.example"]),
    ([("%02d" % i) + "y" * 250 for i in range(9)], [("%02d" % i) + "y" * 250 for i in range(8)]),
], ids=["more-than-32", "longer-than-253", "line-longer-than-2048"])
def test_search_domains_are_cut_to_the_resolvers_limits(searches: list[str],
                                                        kept: list[str]) -> None:
    config, warnings = pod_dns_config(_pod("None", dns_config={"searches": searches}),
                                      cluster_dns=[], cluster_domain="",
                                      node_resolv_conf="")
    assert config.searches == tuple(kept)
    assert warnings == ["Search Line limits were exceeded, some search paths have been "
                        f"omitted, the applied search line is: {' '.join(kept)}"]


@pytest.mark.parametrize(("config", "expected"), [
    (DNSConfig(("10.43.0.10", "9.9.9.9"), CLUSTER_SEARCH, ("ndots:5",)),
     "search team.svc.cluster.local svc.cluster.local cluster.local\n"
     "nameserver 10.43.0.10\nnameserver 9.9.9.9\noptions ndots:5\n"),
    (DNSConfig(("1.1.1.1",)), "nameserver 1.1.1.1\n"),
    (DNSConfig(options=("edns0",)), "options edns0\n"),
    (DNSConfig(), NODE_RESOLV),
    (None, NODE_RESOLV),
], ids=["search-nameservers-options", "servers-only", "options-only", "empty-is-the-nodes",
        "none-is-the-nodes"])
def test_resolv_conf(config: DNSConfig | None, expected: str) -> None:
    assert resolv_conf(config, NODE_RESOLV) == expected


LOCALHOST = ("127.0.0.1\tlocalhost\n"
             "::1\tlocalhost ip6-localhost ip6-loopback\n"
             "fe00::0\tip6-localnet\n"
             "fe00::0\tip6-mcastprefix\n"
             "fe00::1\tip6-allnodes\n"
             "fe00::2\tip6-allrouters\n")


@pytest.mark.parametrize(("args", "expected"), [
    ((["10.42.1.2"], "web", "", ()),
     "# Kubernetes-managed hosts file.\n" + LOCALHOST + "10.42.1.2\tweb\n"),
    ((["10.42.1.2", "fd00::2"], "web-0", "web.team.svc.cluster.local", ()),
     "# Kubernetes-managed hosts file.\n" + LOCALHOST
     + "10.42.1.2\tweb-0.web.team.svc.cluster.local\tweb-0\n"
     + "fd00::2\tweb-0.web.team.svc.cluster.local\tweb-0\n"),
    ((["10.42.1.2"], "web", "", (("123.45.67.89", ("foo", "bar")), ("10.0.0.1", ("baz",)))),
     "# Kubernetes-managed hosts file.\n" + LOCALHOST + "10.42.1.2\tweb\n"
     + "\n# Entries added by HostAliases.\n123.45.67.89\tfoo\n123.45.67.89\tbar\n"
     + "10.0.0.1\tbaz\n"),
], ids=["plain", "subdomain-fqdn-for-every-ip", "host-aliases"])
def test_hosts_file(args: tuple[Any, ...], expected: str) -> None:
    assert hosts_file(*args) == expected


def test_a_host_network_pods_hosts_file_is_the_nodes_with_its_aliases() -> None:
    assert host_network_hosts_file("127.0.0.1 localhost\n", (("10.0.0.1", ("db",)),)) == (
        "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n"
        "\n# Entries added by HostAliases.\n10.0.0.1\tdb\n")


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, ("web", "")),
    ({"hostname": "web-0", "subdomain": "web"}, ("web-0", "web.team.svc.cluster.local")),
    ({"hostname": "a" * 62 + "-b"}, ("a" * 62, "")),
], ids=["name", "hostname-and-subdomain", "long-hostname-cut-without-trailing-dash"])
def test_pod_hostname_and_domain(spec: dict[str, Any], expected: tuple[str, str]) -> None:
    pod = {"metadata": {"name": "web", "namespace": "team"}, "spec": spec}
    assert pod_hostname_and_domain(pod, "cluster.local") == expected
