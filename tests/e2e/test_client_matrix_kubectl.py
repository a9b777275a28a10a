"""`kubectl get -o yaml | kubectl apply -f -` for every kind kubelite serves that can be
created, with kubectl 1.32 and 1.35, for one object (`get KIND NAME`) and for the
`kind: List` that a listing prints (`get KIND --field-selector metadata.name=NAME`).

The kinds come from the catalogue, every served version of each: a kind without a
manifest in tests/e2e/clients/every_kind.yaml fails its test, so a new kind brings one.
The gets run per object, as a person would type them; their outputs then go to one
`kubectl apply` per kubectl version and form, as a multi-document stream, since
kubectl applies each object of a stream on its own and reports each on its own line
(one apply per object would cost a minute). Upstream answers every round trip with
`configured` and leaves the object as it was, apart from the annotation kubectl apply
keeps and the resourceVersion.
"""

from __future__ import annotations

import difflib
import json
import string
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
import yaml

from kubelite.api.catalogue import RESOURCES, ResourceSpec
from tests.cluster import Cluster

MANIFESTS = Path(__file__).parent / "clients" / "every_kind.yaml"
KUBECTLS = ("1.32", "1.35")
FORMS = ("object", "list")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class Kind:
    """One kind at one served version."""
    spec: ResourceSpec
    version: str

    @property
    def id(self) -> str:
        return ".".join(p for p in (self.spec.plural, self.version, self.spec.group) if p)

    @property
    def api_version(self) -> str:
        return f"{self.spec.group}/{self.version}" if self.spec.group else self.version

    @property
    def kubectl_resource(self) -> str:
        # `events` alone is core/v1 for kubectl, as for upstream's RESTMapper
        return self.spec.plural if not self.spec.group else self.id

    def applied_prefix(self, name: str) -> str:
        """How `kubectl apply` names the object on its line of output."""
        group = f".{self.spec.group}" if self.spec.group else ""
        return f"{self.spec.kind.lower()}{group}/{name} "


KINDS = [Kind(spec, version) for spec in RESOURCES if "create" in spec.verbs
         for version in spec.versions]


@dataclass
class RoundTrips:
    ns: str
    manifests: dict[str, dict[str, Any]]  # kind id -> manifest
    created: CompletedProcess[str]
    before: dict[str, Any]  # kind id -> the object, as created
    after: dict[str, Any] = field(default_factory=dict)  # ... after every round trip
    gets: dict[tuple[str, str, str], CompletedProcess[str]] = field(default_factory=dict)
    applies: dict[tuple[str, str], CompletedProcess[str]] = field(default_factory=dict)


def load_manifests(ns: str, run_id: str) -> dict[str, dict[str, Any]]:
    text = string.Template(MANIFESTS.read_text()).substitute(ns=ns, id=run_id)
    by_gvk = {(m["apiVersion"], m["kind"]): m for m in yaml.safe_load_all(text)}
    return {k.id: by_gvk[(k.api_version, k.spec.kind)] for k in KINDS
            if (k.api_version, k.spec.kind) in by_gvk}


def read_object(cluster: Cluster, kind: Kind, manifest: dict[str, Any]) -> Any:
    meta = manifest["metadata"]
    base = f"/apis/{kind.spec.group}/{kind.version}" if kind.spec.group else "/api/v1"
    scope = f"/namespaces/{meta['namespace']}" if kind.spec.namespaced else ""
    try:
        with cluster.open(
                f"{cluster.url}{base}{scope}/{kind.spec.plural}/{meta['name']}") as r:
            return json.load(r)
    except urllib.error.HTTPError as err:
        return {"error": err.code}


def get_yaml(cluster: Cluster, kind: Kind, manifest: dict[str, Any], kubectl: str,
             form: str) -> CompletedProcess[str]:
    meta = manifest["metadata"]
    scope = ["-n", meta["namespace"]] if kind.spec.namespaced else []
    which = [meta["name"]] if form == "object" else [
        f"--field-selector=metadata.name={meta['name']}"]
    return cluster.kubectl("get", kind.kubectl_resource, *which, *scope, "-o", "yaml",
                           version=kubectl, check=False)


@pytest.fixture(scope="module")
def round_trips(cluster: Cluster) -> Iterator[RoundTrips]:
    run_id = uuid.uuid4().hex[:6]
    ns = f"rt-{run_id}"
    cluster.kubectl("create", "namespace", ns)
    manifests = load_manifests(ns, run_id)
    created = cluster.kubectl("create", "-f", "-", check=False,
                              input=yaml.safe_dump_all(manifests.values()))
    kinds = [k for k in KINDS if k.id in manifests]
    with ThreadPoolExecutor(max_workers=4) as pool:
        def snapshot() -> dict[str, Any]:
            return dict(zip((k.id for k in kinds), pool.map(
                lambda k: read_object(cluster, k, manifests[k.id]), kinds)))
        trips = RoundTrips(ns, manifests, created, snapshot())
        for kubectl in KUBECTLS:
            for form in FORMS:
                gets = list(pool.map(
                    lambda k: get_yaml(cluster, k, manifests[k.id], kubectl, form), kinds))
                trips.gets.update({(k.id, kubectl, form): got for k, got in zip(kinds, gets)})
                stream = "---\n".join(got.stdout for got in gets if got.returncode == 0)
                trips.applies[(kubectl, form)] = cluster.kubectl(
                    "apply", "-f", "-", input=stream, version=kubectl, check=False)
        trips.after = snapshot()
    yield trips
    # the cluster outlives this module: take away what other tests would see cluster-wide
    cluster_wide = [m for k in kinds if not k.spec.namespaced for m in [manifests[k.id]]]
    cluster.kubectl("delete", "--wait=false", "--ignore-not-found", "-f", "-",
                    input=yaml.safe_dump_all(cluster_wide), check=False)


def comparable(obj: Any) -> Any:
    """The object less what a round trip may change: resourceVersion, managedFields,
    the annotation `kubectl apply` keeps and, for a Deployment, the generation, which
    upstream bumps on every change of annotations (they are copied to its ReplicaSets:
    pkg/registry/apps/deployment/strategy.go, PrepareForUpdate)."""
    obj = json.loads(json.dumps(obj))
    meta = obj.get("metadata", {})
    if obj.get("kind") == "Deployment":
        meta.pop("generation", None)
    meta.pop("resourceVersion", None)
    meta.pop("managedFields", None)
    annotations = meta.get("annotations", {})
    annotations.pop(LAST_APPLIED, None)
    if not annotations:
        meta.pop("annotations", None)
    return obj


def created_object(trips: RoundTrips, kind: Kind) -> dict[str, Any]:
    assert kind.id in trips.manifests, f"no {kind.api_version} {kind.spec.kind} in {MANIFESTS}"
    before = trips.before[kind.id]
    assert "error" not in before, f"creating it failed:\n{trips.created.stderr}"
    return trips.manifests[kind.id]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("kubectl", KUBECTLS)
@pytest.mark.parametrize("kind", KINDS, ids=[k.id for k in KINDS])
def test_get_yaml_applies_back(round_trips: RoundTrips, kind: Kind, kubectl: str,
                               form: str) -> None:
    manifest = created_object(round_trips, kind)
    got = round_trips.gets[(kind.id, kubectl, form)]
    assert got.returncode == 0, got.stderr
    printed = yaml.safe_load(got.stdout)
    if form == "list":
        assert printed["kind"] == "List"
        assert [i["metadata"]["name"] for i in printed["items"]] == \
            [manifest["metadata"]["name"]]
    else:
        assert (printed["apiVersion"], printed["kind"]) == (kind.api_version, kind.spec.kind)
    applied = round_trips.applies[(kubectl, form)]
    prefix = kind.applied_prefix(manifest["metadata"]["name"])
    outcome = [line[len(prefix):] for line in applied.stdout.splitlines()
               if line.startswith(prefix)]
    assert outcome in (["configured"], ["unchanged"]), (
        f"`kubectl-{kubectl} apply` said:\n{applied.stdout}\n{applied.stderr}")


@pytest.mark.parametrize("kind", KINDS, ids=[k.id for k in KINDS])
def test_round_trips_leave_the_object_as_it_was(round_trips: RoundTrips, kind: Kind) -> None:
    created_object(round_trips, kind)
    before = json.dumps(comparable(round_trips.before[kind.id]), indent=1, sort_keys=True)
    after = json.dumps(comparable(round_trips.after[kind.id]), indent=1, sort_keys=True)
    assert after == before, "\n".join(difflib.unified_diff(
        before.splitlines(), after.splitlines(), "created", "after the round trips",
        lineterm=""))
