import pathlib

import pytest

from kubelite.api.protobuf import extract, fields

KUBECTL = pathlib.Path(__file__).parents[3] / ".tools" / "bin" / "kubectl-1.35"


@pytest.mark.skipif(not KUBECTL.exists(), reason="no kubectl 1.35 binary in .tools/bin")
def test_table_matches_what_the_pinned_kubectl_binary_describes() -> None:
    generated = extract.render(extract._structs(extract._Binary.load(str(KUBECTL))))
    assert generated == (pathlib.Path(__file__).parent / "table.py").read_text()


@pytest.mark.parametrize("definition,number,name", [
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", 17, "managedFields"),
    ("io.k8s.api.core.v1.PodSpec", 37, "hostUsers"),
    ("io.k8s.api.apps.v1.DeploymentSpec", 9, "progressDeadlineSeconds"),
    ("io.k8s.api.core.v1.Container", 1, "name"),
], ids=["object-meta", "pod-spec", "deployment-spec", "container"])
def test_table_knows_field_numbers(definition: str, number: int, name: str) -> None:
    assert fields.message(definition)[number].name == name


KINDS = [
    ("v1", "Pod", "io.k8s.api.core.v1.Pod"),
    ("apps/v1", "Deployment", "io.k8s.api.apps.v1.Deployment"),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", "io.k8s.api.rbac.v1.ClusterRole"),
    ("policy/v1", "PodDisruptionBudget", "io.k8s.api.policy.v1.PodDisruptionBudget"),
    ("v1", "DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
    ("apps/v1", "DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
    ("example.com/v1", "Widget", None),
]


@pytest.mark.parametrize("api_version,kind,definition", KINDS, ids=[f"{a} {k}" for a, k, _ in KINDS])
def test_definition_for_finds_the_message_of_a_kind(api_version: str, kind: str, definition: str | None) -> None:
    assert fields.definition_for(api_version, kind) == definition
