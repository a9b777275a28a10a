"""Fuzzing the API over HTTP: whatever a client sends, the server answers in time, with
a Kubernetes Status below 500, and a refused write stores nothing.

Two generators, both seeded (hypothesis `derandomize`), so a run is the same every time:
- `test_requests_built_from_the_schemas`: for every served resource and verb (create,
  update, the four patch types, delete, delete-collection, subresource writes, list and
  get), a body grown from the kind's own schema along random paths, each path ending
  in a value of the right type or of any JSON type at all (null, huge or fractional
  numbers, odd strings, nested lists); sent as JSON or YAML, or truncated, or nested
  deeper than allowed; with known query parameters given odd values and unknown ones.
- `test_operations_of_the_openapi_documents`: schemathesis reads the server's own
  /openapi/v3 documents and generates negative cases (values that break the documented
  schema at every place it can) for a sample of operations.

Properties checked on every answer: it arrives within REQUEST_TIMEOUT; its code is
below 500; an error is a `Status` carrying the same code; and after a 4xx to a write the
store's revision is the one it had before (nothing was written, in any resource).

FUZZ_EXAMPLES=n raises the number of examples for a longer exploratory run.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests
import yaml
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from kubelite.api.catalogue import RESOURCES, ResourceSpec
from kubelite.api.schemas import Schema, resolve, resource_schema, types_of
from kubelite.apiserver import crds
from kubelite.apiserver.app import APIServer
from kubelite.storage.factory import open_backend

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))
REQUEST_TIMEOUT = 20.0
NAMESPACE = "fuzz"
NAMES = ("f-a", "f-b")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Writes the server makes on its own after some requests would move the revision
# under a later, refused request: deleting a namespace (its finalizer empties it) and
# creating a CRD (its Established condition). Both are covered by their own tests.
SKIPPED = frozenset({("", "namespaces"), ("apiextensions.k8s.io", "customresourcedefinitions")})
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.fuzz.example.com"},
    "spec": {"group": "fuzz.example.com", "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "subresources": {"status": {}, "scale": {
                               "specReplicasPath": ".spec.replicas",
                               "statusReplicasPath": ".status.replicas"}},
                           "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                               "spec": {"type": "object", "required": ["replicas"],
                                        "properties": {
                                   "replicas": {"type": "integer", "minimum": 0,
                                                "default": 1},
                                   "port": {"x-kubernetes-int-or-string": True},
                                   "mode": {"type": "string", "enum": ["a", "b"]},
                                   "ratio": {"type": "number", "maximum": 1},
                                   "tags": {"type": "array", "maxItems": 3,
                                            "items": {"type": "string"}},
                                   "labels": {"type": "object",
                                              "additionalProperties": {"type": "string"}},
                                   "free": {"type": "object",
                                            "x-kubernetes-preserve-unknown-fields": True},
                                   "template": {"type": "object",
                                                "x-kubernetes-embedded-resource": True,
                                                "x-kubernetes-preserve-unknown-fields": True},
                               }},
                               "status": {"type": "object", "properties": {
                                   "replicas": {"type": "integer"}}}}}}}]},
}
FUZZED = [s for s in RESOURCES if (s.group, s.plural) not in SKIPPED] + \
    [crds.spec_from_crd(CRD)]


class ThreadedServer:
    """An APIServer on SQLite with its own event loop in a thread, so hypothesis can
    drive it with plain blocking requests."""

    def __init__(self, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.server = APIServer(backend=open_backend(f"sqlite://{data_dir}/db"), port=0,
                                compaction_interval=0)
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        self.run(self.server.start())

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(REQUEST_TIMEOUT)

    def stop(self) -> None:
        self.run(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(REQUEST_TIMEOUT)
        self.loop.close()


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    s = ThreadedServer(tmp_path_factory.mktemp("fuzz"))
    s.start()
    session = requests.Session()
    session.post(s.server.url + "/api/v1/namespaces", json={
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        timeout=REQUEST_TIMEOUT).raise_for_status()
    session.post(s.server.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                 json=CRD, timeout=REQUEST_TIMEOUT).raise_for_status()
    widgets = s.server.url + collection_path(FUZZED[-1], "v1")
    deadline = time.monotonic() + REQUEST_TIMEOUT
    while session.get(widgets, timeout=REQUEST_TIMEOUT).status_code != 200:
        assert time.monotonic() < deadline, "the fuzzed CRD was never served"
        time.sleep(0.02)
    for spec in FUZZED:  # something to update, patch and delete, where a bare one will do
        for name in NAMES:
            session.post(s.server.url + collection_path(spec, spec.versions[0]),
                         json=seed(spec, spec.versions[0], name), timeout=REQUEST_TIMEOUT)
    yield s
    s.stop()


def collection_path(spec: ResourceSpec, version: str) -> str:
    root = f"/apis/{spec.group}/{version}" if spec.group else f"/api/{version}"
    ns = f"/namespaces/{NAMESPACE}" if spec.namespaced else ""
    return f"{root}{ns}/{spec.plural}"


SEED_SPECS: dict[str, dict[str, Any]] = {
    "ConfigMap": {"data": {"k": "v"}},
    "Secret": {"data": {"k": "dg=="}},
    "Pod": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    "Deployment": {"spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {
        "metadata": {"labels": {"a": "b"}},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}},
    "Service": {"spec": {"ports": [{"port": 80}]}},
    "Lease": {"spec": {"holderIdentity": "x"}},
    "Widget": {"spec": {"replicas": 1, "port": "http"}},
}


def seed(spec: ResourceSpec, version: str, name: str) -> dict[str, Any]:
    extra = SEED_SPECS.get(spec.kind, {})
    return {"apiVersion": spec.gvk(version).api_version, "kind": spec.kind,
            "metadata": {"name": name, "labels": {"fuzz": "yes"}}, **orjson.loads(
                orjson.dumps(extra))}


# --- values ------------------------------------------------------------------------

ODD_STRINGS = ["", " ", "a" * 300, "1Gi", "100m", "-1", "1e3", "25%", "http", "TCP",
               "2024-01-01T00:00:00Z", "not-a-time", "Always", "x/y", "a.b-c_d",
               "\u00e9\u2603", "\x00", "YWJj", "abc=", "null", "true", "{}", "[]"]
ODD_INTS = [0, 1, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63, 10**30]
ODD_FLOATS = [0.5, 1.0, -0.0, 1e308, 1e-300, 3.14]

scalars = st.one_of(st.none(), st.booleans(), st.sampled_from(ODD_INTS),
                    st.integers(-1000, 1000), st.sampled_from(ODD_FLOATS),
                    st.sampled_from(ODD_STRINGS), st.text(max_size=12))
any_json = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["a", "name", "spec", "k8s.io/x", "", "0"]), inner,
                    max_size=3)), max_leaves=8)


def well_typed(schema: Schema, depth: int = 0) -> st.SearchStrategy[Any]:
    """A value of the type the schema asks for (Quantity, IntOrString and free-form
    definitions take their usual spellings), not necessarily a valid one."""
    s = resolve(schema)
    if "oneOf" in s:  # Quantity, IntOrString
        return st.one_of(st.sampled_from(ODD_STRINGS), st.sampled_from(ODD_INTS),
                         st.sampled_from(ODD_FLOATS))
    types = types_of(s)
    if "enum" in s:
        return st.sampled_from([*s["enum"], "Bogus"])
    if "string" in types:
        return st.one_of(st.sampled_from(ODD_STRINGS), st.text(max_size=8))
    if "integer" in types:
        return st.one_of(st.sampled_from(ODD_INTS), st.integers(-5, 5))
    if "number" in types:
        return st.sampled_from(ODD_FLOATS + [1, 0])
    if "boolean" in types:
        return st.booleans()
    if depth > 2:
        return st.just({})
    if "array" in types and isinstance(s.get("items"), dict):
        return st.lists(well_typed(s["items"], depth + 1), max_size=2)
    if isinstance(s.get("additionalProperties"), dict):
        return st.dictionaries(st.sampled_from(["a", "b.io/c"]),
                               well_typed(s["additionalProperties"], depth + 1), max_size=2)
    return st.just({}) if s.get("properties") else any_json


@st.composite
def schema_path(draw: st.DrawFn, schema: Schema) -> tuple[list[str | int], Schema]:
    """A random path into the schema (`spec`, `template`, `spec`, `containers`, 0, ...),
    and the schema found there."""
    path: list[str | int] = []
    node = schema
    for _ in range(12):
        s = resolve(node)
        props = s.get("properties") or {}
        items = s.get("items")
        extra = s.get("additionalProperties")
        if path and draw(st.integers(0, 4)) == 0:
            break
        if props:
            key = draw(st.sampled_from(sorted(props)))
            path.append(key)
            node = props[key]
        elif isinstance(items, dict):
            path.append(draw(st.integers(0, 1)))
            node = items
        elif isinstance(extra, dict):
            path.append(draw(st.sampled_from(["a", "x.io/b"])))
            node = extra
        else:
            break
    return path, node


def set_path(body: Any, path: list[str | int], value: Any) -> Any:
    """`body` with `value` at `path`, creating (or overwriting) what lies on the way."""
    if not path:
        return value
    step, rest = path[0], path[1:]
    if isinstance(step, int):
        items = body if isinstance(body, list) else []
        while len(items) <= step:
            items.append({})
        items[step] = set_path(items[step], rest, value)
        return items
    obj = body if isinstance(body, dict) else {}
    obj[step] = set_path(obj.get(step), rest, value)
    return obj


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any], schema: Schema | None) -> Any:
    body: Any = orjson.loads(orjson.dumps(base))
    if schema is None:
        return body
    for _ in range(draw(st.integers(0, 3))):
        path, leaf = draw(schema_path(schema))
        if path and path[0] in ("apiVersion", "kind") and draw(st.integers(0, 3)):
            continue  # mostly keep the identity, so the body reaches the deeper checks
        value = draw(st.one_of(well_typed(leaf), any_json))
        body = set_path(body, path, value)
    return body


QUERY_VALUES = {
    "dryRun": ["All", "bogus", ""], "fieldValidation": ["Strict", "Warn", "Ignore", "x"],
    "fieldManager": ["fuzzer", "", "m" * 200], "force": ["true", "false", "maybe"],
    "resourceVersion": ["0", "1", "-1", "abc", "99999999999999999999"],
    "resourceVersionMatch": ["NotOlderThan", "Exact", "x"],
    "gracePeriodSeconds": ["0", "-1", "abc", "99999999999999999999"],
    "propagationPolicy": ["Orphan", "Background", "Foreground", "x"],
    "labelSelector": ["fuzz=yes", "a in (b", "!!", "a=" + "b" * 70, "x,,y"],
    "fieldSelector": ["metadata.name=f-a", "spec.bogus=1", "a==", "metadata.name!=x"],
    "limit": ["1", "0", "-5", "abc"], "continue": ["abc", "eyJ2IjoxfQ==", ""],
    "timeoutSeconds": ["1", "-1", "x"], "pretty": ["true"], "allowWatchBookmarks": ["x"],
    "orphanDependents": ["true", "x"], "bogus": ["1", ""],
}
queries = st.dictionaries(st.sampled_from(sorted(QUERY_VALUES)), st.just(""), max_size=3) \
    .flatmap(lambda keys: st.fixed_dictionaries(
        {k: st.sampled_from(QUERY_VALUES[k]) for k in keys}))

VERBS = ["create", "update", "merge", "json-patch", "strategic", "apply", "delete",
         "deletecollection", "status", "subresource-post", "get", "list"]


@st.composite
def api_request(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes, str]:
    """(method, path, query, body, content type)."""
    spec = draw(st.sampled_from(FUZZED))
    version = draw(st.sampled_from(spec.versions))
    verb = draw(st.sampled_from(VERBS))
    name = draw(st.sampled_from(NAMES))
    base = collection_path(spec, version)
    schema = resource_schema(spec, version)
    body: Any = draw(mutated(seed(spec, version, name), schema))
    query = draw(queries)
    ctype = "application/json"
    if verb == "create":
        method, path = "POST", base
    elif verb == "subresource-post":
        sub = draw(st.sampled_from([*spec.subresources, "token", "bogus"]))
        method, path = "POST", f"{base}/{name}/{sub}"
        body = draw(st.one_of(st.just(body), any_json, st.fixed_dictionaries({
            "apiVersion": st.sampled_from(["v1", "policy/v1", "authentication.k8s.io/v1"]),
            "kind": st.sampled_from(["Binding", "Eviction", "TokenRequest"]),
            "metadata": st.one_of(st.just({"name": name}), any_json),
            "target": any_json, "spec": any_json, "deleteOptions": any_json})))
    elif verb in ("update", "status"):
        method, path = "PUT", f"{base}/{name}"
        if verb == "status" or draw(st.integers(0, 5)) == 0:
            path += "/" + draw(st.sampled_from([*spec.subresources, "status", "bogus"]))
    elif verb in ("merge", "json-patch", "strategic", "apply"):
        method, path = "PATCH", f"{base}/{name}"
        ctype = {"merge": "application/merge-patch+json",
                 "json-patch": "application/json-patch+json",
                 "strategic": "application/strategic-merge-patch+json",
                 "apply": "application/apply-patch+yaml"}[verb]
        if verb == "apply":
            query.setdefault("fieldManager", "fuzzer")
        if verb == "json-patch":
            body = draw(st.lists(st.fixed_dictionaries({
                "op": st.sampled_from(["add", "replace", "remove", "test", "move", "copy",
                                       "bogus"]),
                "path": st.sampled_from(["/metadata/labels/a", "/spec", "/data", "/spec/x/0",
                                         "/metadata/name", "", "/", "x", "/-", "/~2"]),
                "value": st.one_of(any_json, st.just(body)),
                "from": st.sampled_from(["/metadata", "/spec", "/nope"])}), max_size=3))
    elif verb == "delete":
        method, path = "DELETE", f"{base}/{name}"
        body = draw(mutated({"apiVersion": "v1", "kind": "DeleteOptions"}, None)
                    | st.fixed_dictionaries({"gracePeriodSeconds": any_json,
                                             "preconditions": any_json,
                                             "dryRun": any_json}))
    elif verb == "deletecollection":
        method, path = "DELETE", base
        query.setdefault("labelSelector", "fuzz=no")  # keep the seeds
        body = {}
    else:
        method, path = "GET", base if verb == "list" else f"{base}/{name}"
        body = None
        query.pop("timeoutSeconds", None)
    encoded = b"" if body is None else json.dumps(body).encode()  # orjson: 64-bit ints only
    shape = draw(st.sampled_from(["json", "json", "json", "yaml", "truncated", "deep"]))
    if body is not None and shape == "yaml":
        encoded = yaml.safe_dump(body).encode()
        ctype = ctype if verb in ("merge", "json-patch", "strategic", "apply") \
            else "application/yaml"
    elif body is not None and shape == "truncated":
        encoded = encoded[:draw(st.integers(0, max(len(encoded) - 1, 0)))]
    elif body is not None and shape == "deep":
        depth = draw(st.sampled_from([100, 151, 300, 2000]))
        encoded = encoded[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + b"}" \
            if encoded.endswith(b"}") else b"[" * depth + b"]" * depth
    return method, path, query, encoded, ctype


def stored(s: ThreadedServer, path: str) -> dict[str, int]:
    """Every key of the resource a path names, with its revision, straight from the
    store. A refused write must leave this as it was; the whole store's revision would
    also move with the server's own writes (a deleted Service's reservations)."""
    parts = path.split("?")[0].strip("/").split("/")
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
        rest = rest[2:]
    spec = next((x for x in RESOURCES if (x.group, x.plural) == (group, rest[0])), None) \
        if rest else None
    if spec is None:
        return {}
    listed = s.run(s.server.backend.range(spec.key_prefix()))
    return {kv.key: kv.mod_revision for kv in listed.kvs}


# Answers upstream gives with a 5xx, kept as they are:
UPSTREAM_5XX = (
    "does not contain declared merge key",  # strategic merge patch: 500, as upstream
    "Too large resource version",  # 504: the watch cache never reached the version asked
)


def check_answer(s: ThreadedServer, session: requests.Session, method: str, path: str,
                 query: dict[str, str], body: bytes, ctype: str) -> None:
    before = stored(s, path) if method in WRITES else {}
    answer = session.request(method, s.server.url + path, params=query, data=body or None,
                             headers={"Content-Type": ctype}, timeout=REQUEST_TIMEOUT)
    where = f"{method} {path} {query} {ctype} {body[:300]!r}"
    if answer.status_code >= 500 and any(m in answer.text for m in UPSTREAM_5XX):
        return
    assert answer.status_code < 500, f"{where}\n-> {answer.status_code} {answer.text[:500]}"
    if answer.status_code >= 400:
        status = answer.json()
        assert (status.get("kind"), status.get("code")) == ("Status", answer.status_code), \
            f"{where}\n-> {answer.text[:500]}"
        if method in WRITES:
            assert stored(s, path) == before, \
                f"{where}\n-> {answer.status_code} {answer.text[:300]}, yet stored something"


@settings(max_examples=EXAMPLES or 250, deadline=None, database=None, derandomize=True,
          suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.generate, Phase.shrink])
@given(request=api_request())
# What earlier runs found (each was a 500), replayed first.
@example(request=("PATCH", "/api/v1/namespaces/fuzz/pods/f-a", {"fieldManager": "fuzzer"},
                  b'{"apiVersion": "v1", "kind": "Pod", "metadata": true}',
                  "application/apply-patch+yaml"))
@example(request=("DELETE", "/apis/networking.k8s.io/v1/namespaces/fuzz/networkpolicies/f-a",
                  {}, b'{"gracePeriodSeconds": [{}], "preconditions": [null]}',
                  "application/json"))
@example(request=("POST", "/api/v1/namespaces/fuzz/pods/f-b/eviction", {},
                  b'{"deleteOptions": [[""]], "metadata": [1], "kind": "Eviction", '
                  b'"apiVersion": "policy/v1"}', "application/json"))
@example(request=("PATCH", "/api/v1/namespaces/fuzz/configmaps/f-b", {"fieldManager": "f"},
                  b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "f-b"}, '
                  b'"data": {"a": "\\ud800"}}', "application/apply-patch+yaml"))
@example(request=("PATCH", "/apis/apps/v1/namespaces/fuzz/replicasets/f-b",
                  {"fieldManager": "f", "fieldValidation": "Strict"},
                  b'{"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "f-b",'
                  b' "annotations": {"a": 1e400}}, "x": 100000000000000000000000}',
                  "application/merge-patch+json"))
@example(request=("POST", "/api/v1/namespaces/fuzz/configmaps", {},
                  b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"}, '
                  b'"x": ' + b"[" * 600 + b"]" * 600 + b"}", "application/json"))
@example(request=("POST", "/api/v1/namespaces/fuzz/configmaps", {},
                  b"a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                  b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                  b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n",
                  "application/yaml"))
def test_requests_built_from_the_schemas(fuzzed_server: ThreadedServer,
                                         request: tuple[str, str, dict[str, str], bytes, str]
                                         ) -> None:
    with requests.Session() as session:
        check_answer(fuzzed_server, session, *request)


def test_oversized_body_is_refused_and_stores_nothing(fuzzed_server: ThreadedServer) -> None:
    body = orjson.dumps(seed(FUZZED[0], "v1", "huge") | {"data": {"a": "x" * (3 << 20)}})
    with requests.Session() as session:
        check_answer(fuzzed_server, session, "POST", collection_path(FUZZED[0], "v1"), {}, body,
                     "application/json")


OPENAPI_SAMPLE = ("configmaps", "secrets", "deployments", "services", "leases",
                  "poddisruptionbudgets", "roles")


def test_operations_of_the_openapi_documents(fuzzed_server: ThreadedServer) -> None:
    import schemathesis
    from schemathesis import GenerationMode

    url = fuzzed_server.server.url
    session = requests.Session()
    index = session.get(url + "/openapi/v3", timeout=REQUEST_TIMEOUT).json()["paths"]
    operations = []
    for ref in index.values():
        doc = session.get(url + ref["serverRelativeURL"], timeout=REQUEST_TIMEOUT).json()
        for result in schemathesis.openapi.from_dict(doc).get_all_operations():
            op = result.ok()
            plural = op.path.rstrip("/").split("/")[-1].strip("{}")
            if "/watch/" in op.path or not any(p in op.path for p in OPENAPI_SAMPLE):
                continue
            if plural in OPENAPI_SAMPLE or op.path.endswith("{name}"):
                operations.append(op)
    assert operations, "no operations found in the OpenAPI documents"

    for op in operations:
        params = {"namespace": NAMESPACE} if "{namespace}" in op.path else None
        query = {"watch": "false"} if op.method.upper() == "GET" else None
        strategy = op.as_strategy(generation_mode=GenerationMode.NEGATIVE,
                                  path_parameters=params, query=query)

        @settings(max_examples=EXAMPLES or 3, deadline=None, database=None,
                  derandomize=True, suppress_health_check=list(HealthCheck),
                  phases=[Phase.generate])
        @given(case=strategy)
        def one(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url=url)
            check_answer(fuzzed_server, session, kwargs["method"],
                         kwargs["url"][len(url):], kwargs.get("params") or {},
                         _body_bytes(kwargs), kwargs.get("headers", {}).get(
                             "Content-Type", "application/json"))

        one()


def _body_bytes(kwargs: dict[str, Any]) -> bytes:
    if "json" in kwargs:
        return json.dumps(kwargs["json"]).encode()
    data = kwargs.get("data")
    if data is None:
        return b""
    return data if isinstance(data, bytes) else str(data).encode()
