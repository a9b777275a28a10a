"""The official `kubernetes` client, used as its README and examples show it.

Run by tests/e2e/test_client_matrix.py with the python of whichever virtualenv holds
the client version under test (the shared venv, or one under .tools/venvs), so this
file imports nothing from kubelite or the test suite:

    python official_client.py KUBECONFIG NAMESPACE

It runs every check in its own try, so one failing check does not hide the others,
and prints one JSON object: check name -> {"result": ...} or {"error": traceback}.
The test asserts on the results; this script asserts nothing.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable
from typing import Any

from kubernetes import __version__, client, config, dynamic, watch

WATCH_SECONDS = 1  # the server ends each watch after this; the stream then ends


def crud(api: client.ApiClient, ns: str) -> dict[str, Any]:
    core = client.CoreV1Api(api)
    body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="crud", labels={"app": "x"}),
                              data={"a": "1"})
    created = core.create_namespaced_config_map(ns, body)
    created.data["a"] = "2"
    replaced = core.replace_namespaced_config_map("crud", ns, created)
    patched = core.patch_namespaced_config_map("crud", ns, {"data": {"b": "3"}})
    listed = core.list_namespaced_config_map(ns, label_selector="app=x")
    read = core.read_namespaced_config_map("crud", ns)
    deleted = core.delete_namespaced_config_map("crud", ns)
    try:
        core.read_namespaced_config_map("crud", ns)
        after_delete = 200
    except client.ApiException as err:
        after_delete = err.status
    return {
        "created_uid": bool(created.metadata.uid),
        "replaced_newer": int(replaced.metadata.resource_version)
        > int(created.metadata.resource_version),
        "patched": patched.data,
        "listed": [cm.metadata.name for cm in listed.items],
        "read": read.data,
        # 32.x decodes the answer into V1Status; 37.x leaves it a dict ("object")
        "deleted_kind": deleted["kind"] if isinstance(deleted, dict) else deleted.kind,
        "after_delete": after_delete,
    }


def _events(w: watch.Watch, core: client.CoreV1Api, ns: str, **kwargs: Any
            ) -> list[tuple[str, str, str]]:
    """Every event of one watch, which ends when the server's timeout does."""
    return [(e["type"], e["object"].metadata.name, e["object"].metadata.resource_version)
            for e in w.stream(core.list_namespaced_config_map, ns, label_selector="watched",
                              timeout_seconds=WATCH_SECONDS, **kwargs)]


def watch_resume(api: client.ApiClient, ns: str) -> dict[str, Any]:
    """Watch until the server ends the stream, then resume from the last event's
    resourceVersion: the second stream has exactly what happened in between."""
    core = client.CoreV1Api(api)
    labels = {"watched": "yes"}
    core.create_namespaced_config_map(ns, {"metadata": {"name": "w1", "labels": labels}})
    first = _events(watch.Watch(), core, ns)
    last_rv = first[-1][2] if first else None
    core.create_namespaced_config_map(ns, {"metadata": {"name": "w2", "labels": labels}})
    core.patch_namespaced_config_map("w1", ns, {"data": {"k": "v"}})
    core.delete_namespaced_config_map("w2", ns)
    w = watch.Watch()
    second = _events(w, core, ns, resource_version=last_rv)
    return {
        "first": [event[:2] for event in first],
        "second": [event[:2] for event in second],
        # the Watch remembers where it got to, for the next stream() to resume from
        "watch_resource_version": w.resource_version,
        "last_event_resource_version": second[-1][2] if second else None,
    }


def dynamic_client(api: client.ApiClient, ns: str) -> dict[str, Any]:
    dyn = dynamic.DynamicClient(api)
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    configmaps.create(namespace=ns, body={"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": "dyn", "labels": {"d": "1"}},
                                          "data": {"a": "1"}})
    got = configmaps.get(name="dyn", namespace=ns)
    patched = configmaps.patch(name="dyn", namespace=ns, body={"data": {"b": "2"}},
                               content_type="application/merge-patch+json")
    current = configmaps.get(name="dyn", namespace=ns).to_dict()
    current["data"] = {"c": "3"}
    replaced = configmaps.replace(namespace=ns, body=current)
    listed = configmaps.get(namespace=ns, label_selector="d=1")
    deployment = deployments.create(namespace=ns, body={
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "dyn"},
        "spec": {"selector": {"matchLabels": {"app": "dyn"}},
                 "template": {"metadata": {"labels": {"app": "dyn"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    configmaps.delete(name="dyn", namespace=ns)
    try:
        configmaps.get(name="dyn", namespace=ns)
        after_delete = 200
    except dynamic.exceptions.NotFoundError as err:
        after_delete = err.status
    return {
        "got": got.data.to_dict(),
        "patched": patched.data.to_dict(),
        "replaced": replaced.data.to_dict(),
        "listed": [item.metadata.name for item in listed.items],
        "list_kind": listed.kind,
        "deployment_replicas": deployment.spec.replicas,
        "after_delete": after_delete,
    }


CHECKS: dict[str, Callable[[client.ApiClient, str], dict[str, Any]]] = {
    "crud": crud, "watch_resume": watch_resume, "dynamic_client": dynamic_client,
}


def main() -> None:
    kubeconfig, ns = sys.argv[1], sys.argv[2]
    api = config.new_client_from_config(config_file=kubeconfig)
    client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    out: dict[str, Any] = {"version": __version__}
    for name, check in CHECKS.items():
        try:
            out[name] = {"result": check(api, ns)}
        except Exception:  # reported to the test, which fails on it
            out[name] = {"error": traceback.format_exc()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
