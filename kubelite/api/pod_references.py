"""The other objects a pod names: its Secrets, ConfigMaps, claims and account
(upstream's podutil.VisitPodSecretNames and VisitPodConfigmapNames, and the claim
names the kubelet resolves). Pure functions over the pod as JSON; whatever is not the
expected shape is skipped, so a malformed pod yields fewer names, never an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

Obj = dict[str, Any]

_CONTAINER_KINDS = ("initContainers", "containers", "ephemeralContainers")
_SECRET_REF_VOLUMES = ("cephfs", "cinder", "flexVolume", "rbd", "scaleIO", "iscsi",
                       "storageos")


def _dicts(value: Any) -> list[Obj]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _obj(value: Any) -> Obj:
    return value if isinstance(value, dict) else {}


def _ref_name(holder: Any, ref_key: str, name_key: str = "name") -> str | None:
    """holder[ref_key][name_key] when holder[ref_key] is an object, else None."""
    ref = holder.get(ref_key) if isinstance(holder, dict) else None
    return str(ref.get(name_key) or "") if isinstance(ref, dict) else None


def _containers(spec: Obj) -> Iterator[Obj]:
    for key in _CONTAINER_KINDS:
        yield from _dicts(spec.get(key))


def pod_secret_names(spec: Obj) -> Iterator[str]:
    """VisitPodSecretNames over every kind of container."""
    found: list[str | None] = [str(ref.get("name") or "")
                               for ref in _dicts(spec.get("imagePullSecrets"))]
    for container in _containers(spec):
        found += [_ref_name(e, "secretRef") for e in _dicts(container.get("envFrom"))]
        found += [_ref_name(e.get("valueFrom"), "secretKeyRef")
                  for e in _dicts(container.get("env"))]
    for volume in _dicts(spec.get("volumes")):
        found.append(_ref_name(volume, "secret", "secretName"))
        if (volume.get("azureFile") or {}).get("secretName"):
            found.append(_ref_name(volume, "azureFile", "secretName"))
        found += [_ref_name(volume.get(source), "secretRef") for source in _SECRET_REF_VOLUMES]
        found.append(_ref_name(volume.get("csi"), "nodePublishSecretRef"))
        found += [_ref_name(p, "secret")
                  for p in _dicts((volume.get("projected") or {}).get("sources"))]
    yield from (name for name in found if name is not None)


def pod_configmap_names(spec: Obj) -> Iterator[str]:
    """VisitPodConfigmapNames over every kind of container."""
    found: list[str | None] = []
    for container in _containers(spec):
        found += [_ref_name(e, "configMapRef") for e in _dicts(container.get("envFrom"))]
        found += [_ref_name(e.get("valueFrom"), "configMapKeyRef")
                  for e in _dicts(container.get("env"))]
    for volume in _dicts(spec.get("volumes")):
        if isinstance(volume.get("projected"), dict):
            found += [_ref_name(p, "configMap")
                      for p in _dicts(volume["projected"].get("sources"))]
        else:
            found.append(_ref_name(volume, "configMap"))
    yield from (name for name in found if name is not None)


def pod_claim_names(pod: Obj) -> Iterator[str]:
    """The PersistentVolumeClaims a pod mounts: named ones, and an ephemeral volume's
    `<pod>-<volume>` (ephemeral.VolumeClaimName)."""
    spec = _obj(pod.get("spec"))
    pod_name = str((pod.get("metadata") or {}).get("name") or "")
    for volume in _dicts(spec.get("volumes")):
        if (claim := _ref_name(volume, "persistentVolumeClaim", "claimName")) is not None:
            yield claim
        elif isinstance(volume.get("ephemeral"), dict):
            yield f"{pod_name}-{volume.get('name') or ''}"


def pod_resource_claim_names(pod: Obj) -> Iterator[str]:
    """resourceclaim.Name for each of the pod's claims that has one: the claim it
    names, or the one made from its template as the pod's status records."""
    spec, status = _obj(pod.get("spec")), _obj(pod.get("status"))
    made = {str(s.get("name") or ""): s.get("resourceClaimName")
            for s in _dicts(status.get("resourceClaimStatuses"))}
    for claim in _dicts(spec.get("resourceClaims")):
        if claim.get("resourceClaimName"):
            yield str(claim["resourceClaimName"])
        elif claim.get("resourceClaimTemplateName"):
            name = made.get(str(claim.get("name") or ""))
            if isinstance(name, str) and name:
                yield name


def pod_account_name(spec: Obj) -> str:
    """The pod's ServiceAccount; v1's deprecated serviceAccount when the name is empty."""
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "")
