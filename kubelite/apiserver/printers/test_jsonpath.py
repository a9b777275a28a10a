import pytest

from kubelite.apiserver.printers.jsonpath import PathError, compile_path, evaluate

OBJ = {
    "metadata": {"name": "db", "labels": {"app.kubernetes.io/name": "pg", "tier": "data"}},
    "spec": {"replicas": 3, "ports": [{"name": "pg", "port": 5432}, {"name": "metrics", "port": 9187}]},
    "status": {
        "ready": True,
        "conditions": [
            {"type": "Progressing", "status": "True", "priority": 1},
            {"type": "Ready", "status": "False", "priority": 5},
            {"type": "Ready", "status": "True", "priority": 7},
        ],
    },
}


@pytest.mark.parametrize(
    ("path", "want"),
    [
        (".spec.replicas", [3]),
        ("{.spec.replicas}", [3]),
        (".metadata.name", ["db"]),
        (".spec.missing", []),
        (".spec.replicas.deeper", []),
        (".spec.ports[0].port", [5432]),
        (".spec.ports[-1].name", ["metrics"]),
        (".spec.ports[5].name", []),
        (".spec.ports[*].port", [5432, 9187]),
        (".spec.ports[0:1].name", ["pg"]),
        (".spec.ports[0,1].name", ["pg", "metrics"]),
        (".metadata.labels['app.kubernetes.io/name']", ["pg"]),
        (".metadata.labels.app\\.kubernetes\\.io/name", ["pg"]),
        ('.status.conditions[?(@.type=="Ready")].status', ["False", "True"]),
        (".status.conditions[?(@.type == 'Progressing')].status", ["True"]),
        (".status.conditions[?(@.priority > 4)].type", ["Ready", "Ready"]),
        (".status.conditions[?(@.priority<=1)].type", ["Progressing"]),
        ('.status.conditions[?(@.type!="Ready")].type', ["Progressing"]),
        (".spec.ports[?(@.name)].port", [5432, 9187]),
        ("..port", [5432, 9187]),
        (".status.ready", [True]),
    ],
)
def test_evaluate_selects_what_client_go_selects(path: str, want: list) -> None:
    assert evaluate(compile_path(path), OBJ) == want


@pytest.mark.parametrize("path", ["", ".spec[", ".spec.[abc]", ".spec.ports[?(@.a ==)]"])
def test_malformed_paths_are_rejected(path: str) -> None:
    with pytest.raises(PathError):
        compile_path(path)


def test_compiled_paths_are_cached() -> None:
    assert compile_path(".spec.replicas") is compile_path(".spec.replicas")
