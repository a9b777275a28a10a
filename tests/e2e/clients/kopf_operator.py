"""A small kopf operator, written the way kopf's documentation writes one.

Run by tests/e2e/test_client_matrix.py as `kopf run --standalone --namespace NS
kopf_operator.py` with KUBECONFIG pointing at kubelite. It serves `knobs` of the
group `clients.kubelite.io` (the test creates the CRD) and leaves a trace of every
handler the test can read back:

- on create and on update: the handler's return value, which kopf stores in
  `status.<handler name>`;
- a timer: `status.ticks`, counting up while the object exists;
- on delete: a ConfigMap `deleted-<name>`, written with the official client as kopf's
  docs do for children; kopf holds the object with its finalizer until this ran.
"""

from __future__ import annotations

from typing import Any

import kopf
from kubernetes import client, config

GROUP, VERSION, PLURAL = "clients.kubelite.io", "v1", "knobs"


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    config.load_kube_config()
    settings.watching.server_timeout = 2  # the server ends each watch: kopf watches again


@kopf.on.create(GROUP, VERSION, PLURAL)
def created(spec: kopf.Spec, **_: Any) -> dict[str, Any]:
    return {"size": spec.get("size")}


@kopf.on.update(GROUP, VERSION, PLURAL, field="spec.size")
def resized(old: Any, new: Any, **_: Any) -> dict[str, Any]:
    return {"from": old, "to": new}


@kopf.timer(GROUP, VERSION, PLURAL, interval=0.5)
def tick(status: kopf.Status, patch: kopf.Patch, **_: Any) -> None:
    patch.status["ticks"] = (status.get("ticks") or 0) + 1


@kopf.on.delete(GROUP, VERSION, PLURAL)
def deleted(name: str, namespace: str, spec: kopf.Spec, **_: Any) -> None:
    client.CoreV1Api().create_namespaced_config_map(namespace, {
        "metadata": {"name": f"deleted-{name}"},
        "data": {"size": str(spec.get("size"))},
    })
