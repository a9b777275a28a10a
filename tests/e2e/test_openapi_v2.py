"""/openapi/v2 as kubectl uses it: client-side validation, client-side apply, explain,
and the HTTP caching of the document.

`kubectl get -o yaml` writes a `kind: List`, and kubectl validates a List client-side
from /openapi/v2 in gnostic protobuf whatever /openapi/v3 offers, so the everyday
`kubectl get ... -o yaml > x.yaml; kubectl apply -f x.yaml` needs that document. Every
kubectl case runs with kubectl 1.32 and 1.35 against a real kubelite server.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import textwrap
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cluster import Cluster, tool

VERSIONS = ("1.32", "1.35")
GROUP = "openapi2.kubelite.test"
PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"

# Nested fields that keep unknown fields, nullable fields and embedded resources are
# what kubectl's strict v2 reader would reject if the CRD's schema were published as is.
CRD = textwrap.dedent(f"""\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: gadgets.{GROUP}
    spec:
      group: {GROUP}
      scope: Namespaced
      names: {{plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}}
      versions:
      - name: v1
        served: true
        storage: true
        schema:
          openAPIV3Schema:
            type: object
            properties:
              spec:
                type: object
                required: [size]
                properties:
                  size: {{type: integer, description: How big the gadget is.}}
                  note: {{type: string, nullable: true}}
                  extra:
                    type: object
                    x-kubernetes-preserve-unknown-fields: true
                    properties:
                      known: {{type: string}}
                  template:
                    type: object
                    x-kubernetes-embedded-resource: true
                    properties:
                      data: {{type: object, additionalProperties: {{type: string}}}}
    """)


@pytest.fixture(params=VERSIONS, ids=lambda v: f"kubectl-{v}")
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ns(cluster: Cluster) -> str:
    name = f"oa-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    return name


@pytest.fixture(scope="module")
def gadgets(cluster: Cluster) -> str:
    cluster.kubectl("apply", "-f", "-", input=CRD)
    cluster.kubectl("wait", "--for=condition=Established", f"crd/gadgets.{GROUP}", "--timeout=30s")
    return f"gadgets.{GROUP}"


def several_kinds(ns: str, replicas: Any = 2) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "metadata": {}, "items": [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": ns},
         "data": {"mode": "fast"}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": ns},
         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
         "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                  "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [
                      {"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 8080}],
                       "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}}}]}}}},
        {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": "g1", "namespace": ns},
         "spec": {"size": 3, "note": None, "extra": {"known": "k", "anything": {"deep": [1, 2]}},
                  "template": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "t"},
                               "data": {"a": "b"}}}},
    ]}


def get_json(cluster: Cluster, ns: str, what: str) -> dict[str, Any]:
    return json.loads(cluster.kubectl("get", "-n", ns, what, "-o", "json").stdout)  # type: ignore[no-any-return]


# --- kubectl get -o yaml | kubectl apply -f - ------------------------------------------

def test_get_yaml_piped_to_apply_round_trips(cluster: Cluster, ns: str, version: str) -> None:
    for name in ("one", "two"):
        cluster.kubectl("create", "configmap", name, "-n", ns, "--from-literal=k=v")
    listed = cluster.kubectl("get", "cm", "-n", ns, "-o", "yaml", version=version).stdout
    assert listed.startswith("apiVersion: v1\nitems:") and "kind: List" in listed
    applied = cluster.kubectl("apply", "-f", "-", input=listed, version=version)
    assert "configmap/one configured" in applied.stdout
    assert "configmap/two configured" in applied.stdout
    # Again from a fresh listing: the first one's resourceVersions are stale now, and a
    # stale resourceVersion in an applied file is a conflict, upstream as here.
    listed = cluster.kubectl("get", "cm", "-n", ns, "-o", "yaml", version=version).stdout
    again = cluster.kubectl("apply", "-f", "-", input=listed, version=version)
    assert "configmap/one" in again.stdout and "configmap/two" in again.stdout


def test_get_yaml_saved_to_a_file_applies(cluster: Cluster, ns: str, version: str,
                                          tmp_path: Path) -> None:
    cluster.kubectl("create", "configmap", "saved", "-n", ns, "--from-literal=k=v")
    saved = tmp_path / "x.yaml"
    saved.write_text(cluster.kubectl("get", "cm", "-n", ns, "-o", "yaml", version=version).stdout)
    applied = cluster.kubectl("apply", "-f", str(saved), version=version)
    assert "configmap/saved configured" in applied.stdout
    assert get_json(cluster, ns, "cm/saved")["data"] == {"k": "v"}


def test_edit_of_several_objects_saves(cluster: Cluster, ns: str, version: str) -> None:
    """`kubectl edit` of more than one object edits a List and validates it client-side."""
    for name in ("e1", "e2"):
        cluster.kubectl("create", "configmap", name, "-n", ns, "--from-literal=k=old")
    env = {**os.environ, "KUBECONFIG": cluster.kubeconfig, "HOME": cluster.kubeconfig + ".home",
           "KUBE_EDITOR": "sed -i s/old/new/"}
    edited = subprocess.run([tool(f"kubectl-{version}"), "edit", "-n", ns, "cm", "e1", "e2"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert edited.returncode == 0, edited.stderr
    assert get_json(cluster, ns, "cm/e1")["data"] == get_json(cluster, ns, "cm/e2")["data"] == {"k": "new"}


# --- a List of several kinds, custom resources included ----------------------------

@pytest.mark.parametrize("mode", [(), ("--server-side",)], ids=["client-side", "server-side"])
def test_list_of_several_kinds_applies(cluster: Cluster, ns: str, version: str, gadgets: str,
                                       mode: tuple[str, ...]) -> None:
    doc = json.dumps(several_kinds(ns))
    applied = cluster.kubectl("apply", *mode, "-f", "-", input=doc, version=version)
    verb = "serverside-applied" if mode else "created"
    for name in ("configmap/settings", "service/web", "deployment.apps/web", f"gadget.{GROUP}/g1"):
        assert f"{name} {verb}" in applied.stdout, applied.stdout
    assert get_json(cluster, ns, "cm/settings")["data"] == {"mode": "fast"}
    assert get_json(cluster, ns, "svc/web")["spec"]["ports"][0]["targetPort"] == 8080
    assert get_json(cluster, ns, "deploy/web")["spec"]["replicas"] == 2
    gadget = get_json(cluster, ns, f"{gadgets}/g1")
    assert gadget["spec"]["extra"] == {"known": "k", "anything": {"deep": [1, 2]}}
    assert gadget["spec"]["template"]["metadata"] == {"name": "t"}
    again = cluster.kubectl("apply", *mode, "-f", "-", input=doc, version=version)
    assert ("unchanged" in again.stdout) != bool(mode), again.stdout


def test_list_with_bad_fields_is_refused_client_side(cluster: Cluster, ns: str, version: str,
                                                     gadgets: str) -> None:
    doc = several_kinds(ns, replicas="two")
    doc["items"][0]["dataa"] = {"typo": "x"}
    refused = cluster.kubectl("apply", "-f", "-", input=json.dumps(doc), version=version,
                              check=False)
    assert refused.returncode != 0
    assert "error validating data" in refused.stderr
    assert 'unknown field "dataa" in io.k8s.api.core.v1.ConfigMap' in refused.stderr
    assert ("invalid type for io.k8s.api.apps.v1.DeploymentSpec.replicas: "
            'got "string", expected "integer"') in refused.stderr
    assert "Gadget" not in refused.stderr  # its unknown and null fields are allowed
    missing = cluster.kubectl("get", "-n", ns, "cm/settings", check=False, version=version)
    assert missing.returncode != 0  # validation failed before anything was sent


def test_create_validate_strict_still_refuses_an_unknown_field(cluster: Cluster, ns: str,
                                                               version: str) -> None:
    bad = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "strict", "namespace": ns},
           "dataa": {"typo": "x"}}
    refused = cluster.kubectl("create", "--validate=strict", "-f", "-", input=json.dumps(bad),
                              version=version, check=False)
    assert refused.returncode != 0
    assert 'unknown field "dataa"' in refused.stderr


def test_client_side_apply_merges_containers_by_name(cluster: Cluster, ns: str,
                                                     version: str) -> None:
    """A List is validated against /openapi/v2, then each item gets a three-way
    strategic merge patch (merge keys from /openapi/v3; v2 is kubectl's fallback): a
    container apply never set stays, one it set and then dropped goes."""
    def deployment(*containers: tuple[str, str]) -> str:
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": [{
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "pair", "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": "pair"}}, "template": {
                "metadata": {"labels": {"app": "pair"}},
                "spec": {"containers": [{"name": n, "image": i} for n, i in containers]}}}}]})

    def containers() -> dict[str, str]:
        spec = get_json(cluster, ns, "deploy/pair")["spec"]["template"]["spec"]
        return {c["name"]: c["image"] for c in spec["containers"]}

    cluster.kubectl("apply", "-f", "-", input=deployment(("a", "nginx:1"), ("b", "redis:7")),
                    version=version)
    cluster.kubectl("patch", "-n", ns, "deploy/pair", "-p", json.dumps({"spec": {"template": {
        "spec": {"containers": [{"name": "sidecar", "image": "busybox"}]}}}}))
    cluster.kubectl("apply", "-f", "-", input=deployment(("a", "nginx:1"), ("b", "redis:8")),
                    version=version)
    assert containers() == {"a": "nginx:1", "b": "redis:8", "sidecar": "busybox"}
    cluster.kubectl("apply", "-f", "-", input=deployment(("b", "redis:8")), version=version)
    assert containers() == {"b": "redis:8", "sidecar": "busybox"}


def test_explain_reads_the_v2_document(cluster: Cluster, version: str, gadgets: str) -> None:
    built_in = cluster.kubectl("explain", "deployment.spec.strategy",
                               "--output=plaintext-openapiv2", version=version).stdout
    assert "RESOURCE: strategy <Object>" in built_in and "rollingUpdate\t<Object>" in built_in
    custom = cluster.kubectl("explain", f"{gadgets}.spec", "--output=plaintext-openapiv2",
                             version=version).stdout
    assert "size\t<integer> -required-" in custom and "How big the gadget is." in custom


def test_kubectl_revalidates_its_cached_document_by_etag(cluster: Cluster, ns: str,
                                                         version: str, tmp_path: Path) -> None:
    """kubectl's disk cache keeps /openapi/v2 and asks again with If-None-Match; a 304
    answer is logged as the cached response (`X-From-Cache`)."""
    cluster.kubectl("create", "configmap", "cached", "-n", ns, "--from-literal=k=v")
    env = {**os.environ, "KUBECONFIG": cluster.kubeconfig, "HOME": str(tmp_path)}

    def v2_response_headers() -> str:
        listed = cluster.kubectl("get", "cm", "-n", ns, "-o", "yaml").stdout
        run = subprocess.run([tool(f"kubectl-{version}"), "apply", "-f", "-", "-v=8"], input=listed,
                             capture_output=True, text=True, env=env, timeout=60, check=True)
        return run.stderr.rsplit("/openapi/v2", 1)[1].split("https://", 1)[0]

    first = v2_response_headers()
    assert "Etag:" in first and "X-From-Cache" not in first
    assert "X-From-Cache: 1" in v2_response_headers()


# --- the document over raw HTTP --------------------------------------------------------

def fetch(cluster: Cluster, **headers: str) -> tuple[int, dict[str, list[str]], bytes]:
    request = urllib.request.Request(cluster.url + "/openapi/v2",
                                     headers={k.replace("_", "-"): v for k, v in headers.items()})
    try:
        with cluster.open(request, timeout=30) as resp:
            status, message, body = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, message, body = err.code, err.headers, err.read()
    return status, {k: message.get_all(k) or [] for k in set(message.keys())}, body


def test_protobuf_and_json_are_one_document_with_one_etag(cluster: Cluster) -> None:
    status, headers, body = fetch(cluster, Accept=PROTOBUF)
    assert status == 200
    assert headers["Content-Type"] == ["application/com.github.proto-openapi.spec.v2.v1.0+protobuf"]
    assert headers["Vary"] == ["Accept", "Accept-Encoding"]
    assert body.startswith(b"\n\x032.0\x12")  # Document.swagger = "2.0", then Document.info
    etag = headers["Etag"][0]
    status, headers, body = fetch(cluster, Accept="application/json")
    assert status == 200 and headers["Etag"] == [etag]
    assert json.loads(body)["swagger"] == "2.0"
    status, headers, _ = fetch(cluster)  # no Accept: */*, and JSON comes first
    assert headers["Content-Type"] == ["application/json"]


@pytest.mark.parametrize(("conditions", "expected"), [
    ({"If-None-Match": "{etag}"}, 304),
    ({"If-None-Match": 'W/"other", {etag}'}, 304),
    ({"If-None-Match": "*"}, 304),
    ({"If-None-Match": '"stale"'}, 200),
    ({"If-Modified-Since": "{last_modified}"}, 304),
    ({"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}, 200),
    ({"If-None-Match": '"stale"', "If-Modified-Since": "{last_modified}"}, 200),
], ids=["etag", "etag-in-list", "any", "stale-etag", "not-modified-since", "modified-since",
        "etag-decides-over-date"])
def test_conditional_requests(cluster: Cluster, conditions: dict[str, str], expected: int) -> None:
    _, headers, _ = fetch(cluster, Accept=PROTOBUF)
    values = {"etag": headers["Etag"][0], "last_modified": headers["Last-Modified"][0]}
    status, answer, body = fetch(cluster, Accept=PROTOBUF,
                                 **{k: v.format(**values) for k, v in conditions.items()})
    assert status == expected
    if expected == 304:
        assert body == b"" and answer["Etag"] == [values["etag"]]


def test_gzip_is_a_form_of_its_own(cluster: Cluster) -> None:
    _, plain_headers, plain = fetch(cluster, Accept=PROTOBUF)
    status, headers, body = fetch(cluster, Accept=PROTOBUF, Accept_Encoding="gzip")
    assert status == 200 and headers["Content-Encoding"] == ["gzip"]
    assert gzip.decompress(body) == plain
    assert headers["Etag"] == [plain_headers["Etag"][0][:-1] + '-gzip"']
    assert fetch(cluster, Accept=PROTOBUF, Accept_Encoding="gzip;q=0")[1].get("Content-Encoding") is None


@pytest.mark.parametrize(("accept", "expected"), [
    ("text/html", None),
    ("application/json;q=0.5, application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
     "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"),
    ("application/*", "application/json"),
    ("text/html, */*;q=0.1", "application/json"),
], ids=["unacceptable", "by-quality", "wildcard-subtype", "fallback"])
def test_accept_picks_the_form(cluster: Cluster, accept: str, expected: str | None) -> None:
    status, headers, _ = fetch(cluster, Accept=accept)
    if expected is None:
        assert status == 406
    else:
        assert status == 200 and headers["Content-Type"] == [expected]


def test_a_new_crd_changes_the_document_and_its_etag(cluster: Cluster) -> None:
    _, headers, _ = fetch(cluster, Accept=PROTOBUF)
    old = headers["Etag"][0]
    group = f"g{uuid.uuid4().hex[:8]}.{GROUP}"
    cluster.kubectl("apply", "-f", "-", input=textwrap.dedent(f"""\
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {{name: sprockets.{group}}}
        spec:
          group: {group}
          scope: Cluster
          names: {{plural: sprockets, singular: sprocket, kind: Sprocket}}
          versions:
          - name: v1
            served: true
            storage: true
            schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
        """))
    try:
        cluster.kubectl("wait", "--for=condition=Established", f"crd/sprockets.{group}",
                        "--timeout=30s")
        status, headers, body = fetch(cluster, Accept=PROTOBUF, If_None_Match=old)
        assert status == 200 and headers["Etag"][0] != old
        definition = ".".join([*reversed(group.split(".")), "v1", "Sprocket"])
        assert definition.encode() in body
    finally:
        cluster.kubectl("delete", f"crd/sprockets.{group}", "--wait=false")
