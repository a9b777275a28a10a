"""CustomResourceDefinitions: apiextensions-apiserver's strategy (pkg/registry/
customresourcedefinition/strategy.go), v1 defaults and validation (pkg/apis/apiextensions/
v1/defaults.go, validation/validation.go).

What a CRD gets on its way to storage:
- create: status starts over, with acceptedNames empty and storedVersions holding the
  storage version; metadata.generation = 1;
- update: status is the old one (the status subresource writes it), plus the storage
  version if it is new; the generation counts spec changes;
- defaults (every write): names.singular = lower(kind), names.listKind = kind + "List",
  conversion = {strategy: None}, a conversion service's port 443, and storedVersions
  when empty;
- validation: the name is `<plural>.<group>`, the spec (`crdspec`: group, scope, names,
  versions, schemas, subresources, printer columns, conversion), status.acceptedNames,
  status.storedVersions (every stored version still listed, the storage version among
  them), the api-approved.kubernetes.io annotation for *.k8s.io and *.kubernetes.io
  groups, and preserveUnknownFields false;
- on update also: group and names.plural never change, scope and names.kind not once
  the CRD is Established, and a changed conversion caBundle must be valid once the CRD
  serves with a valid one;
- delete: the first delete adds the `customresourcecleanup.apiextensions.k8s.io`
  finalizer and a Terminating condition (InstanceDeletionPending), as upstream's CRD
  REST Delete does, so no CRD goes before the finalizer loop (crd_controller.py) has
  deleted its custom objects, however soon after its creation it is deleted.

Upstream relaxes some rules on update for CRDs stored under older rules (non-structural
schemas, unpruned defaults, preserveUnknownFields: true); a strategy's `validate` does
not know whether it is checking a create or an update, so kubelite applies the create
rules to every write.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from kubelite.apiserver.registry.strategy import DefaultStrategy, StatusStrategy, Strategy
from kubelite.machinery.conditions import set_condition
from kubelite.machinery.errors import BadRequest, Cause
from kubelite.machinery.go_json import cannot_be_handled
from kubelite.machinery.timestamps import now_rfc3339

from .causes import immutable, invalid, required
from .crddecode import crd_decode_problem
from .crdspec import names_causes, spec_causes
from .crdwebhook import ca_bundle_causes, ca_bundle_of, ca_bundle_problem
from .jsonvalues import as_object, as_str

Obj = dict[str, Any]

API_APPROVAL_ANNOTATION = "api-approved.kubernetes.io"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_APPROVAL_PR = "see https://github.com/kubernetes/enhancements/pull/1111"


class CustomResourceDefinitionStrategy(DefaultStrategy):
    has_status = True
    tracks_generation = True
    allow_unconditional_update = False

    def prepare_for_create(self, crd: Obj) -> None:
        super().prepare_for_create(crd)
        # A new CRD shows a status at once, before it is established, so clients
        # waiting on its conditions can read it.
        storage = storage_version(crd)
        crd["status"] = {"acceptedNames": {"plural": "", "kind": ""},
                         "storedVersions": [storage] if storage else []}

    def deletion_finalizers(self, crd: Obj) -> list[str]:
        # A live CRD is held by the cleanup finalizer mark_deleting is about to add.
        if (crd.get("metadata") or {}).get("deletionTimestamp"):
            return []
        return [CLEANUP_FINALIZER]

    def mark_deleting(self, crd: Obj) -> None:
        finalizers = crd["metadata"].setdefault("finalizers", [])
        if CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CLEANUP_FINALIZER)
        status = crd.get("status")
        status = crd["status"] = status if isinstance(status, dict) else {}
        conditions = status.get("conditions")
        status["conditions"] = set_condition(
            conditions if isinstance(conditions, list) else [],
            {"type": "Terminating", "status": "True", "lastTransitionTime": now_rfc3339(),
             "reason": "InstanceDeletionPending",
             "message": "CustomResourceDefinition marked for deletion; CustomResource "
                        "deletion will begin soon"})

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        storage = storage_version(new)
        status = new.get("status")
        if storage and isinstance(status, dict):
            stored = status.get("storedVersions")
            stored = stored if isinstance(stored, list) else []
            if storage not in stored:
                new["status"] = {**status, "storedVersions": [*stored, storage]}

    def default(self, crd: Obj) -> None:
        # Decoding comes before defaulting upstream: a keyword of the wrong type is a 400.
        problem = crd_decode_problem(crd)
        if problem:
            raise BadRequest(cannot_be_handled("CustomResourceDefinition", "v1", problem))
        spec = crd.get("spec")
        if not isinstance(spec, dict):
            return
        names = spec.get("names")
        if isinstance(names, dict):
            kind = as_str(names.get("kind"))
            if not names.get("singular"):
                names["singular"] = kind.lower()
            if not names.get("listKind") and kind:
                names["listKind"] = kind + "List"
        if spec.get("conversion") is None:
            spec["conversion"] = {"strategy": "None"}
        conversion = spec["conversion"]
        webhook = conversion.get("webhook") if isinstance(conversion, dict) else None
        client = webhook.get("clientConfig") if isinstance(webhook, dict) else None
        service = client.get("service") if isinstance(client, dict) else None
        if isinstance(service, dict) and service.get("port") is None:
            service["port"] = 443
        status = crd.get("status")
        if isinstance(status, dict) and not status.get("storedVersions"):
            storage = storage_version(crd)
            if storage:
                status["storedVersions"] = [storage]

    def validate(self, crd: Obj) -> list[Cause]:
        spec = as_object(crd.get("spec"))
        status = as_object(crd.get("status"))
        metadata = as_object(crd.get("metadata"))
        causes = name_causes(metadata, spec)
        causes.extend(spec_causes(spec))
        causes.extend(names_causes(as_object(status.get("acceptedNames")),
                                   "status.acceptedNames"))
        causes.extend(stored_versions_causes(status.get("storedVersions"),
                                             spec.get("versions")))
        causes.extend(approval_causes(spec.get("group"), metadata.get("annotations")))
        if spec.get("preserveUnknownFields") is True:
            causes.append(invalid("spec.preserveUnknownFields", True, "cannot set to true, set "
                                  "x-kubernetes-preserve-unknown-fields to true in "
                                  "spec.versions[*].schema instead"))
        return causes

    def subresource_strategies(self) -> dict[str, Strategy]:
        return {"status": CustomResourceDefinitionStatusStrategy(self)}

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        spec = as_object(new.get("spec"))
        old_spec = as_object(old.get("spec"))
        names = as_object(spec.get("names"))
        old_names = as_object(old_spec.get("names"))
        causes: list[Cause] = []
        established = is_established(old)
        if established:
            # these decide where and how objects are stored
            if spec.get("scope") != old_spec.get("scope"):
                causes.append(immutable("spec.scope", spec.get("scope") or ""))
            if names.get("kind") != old_names.get("kind"):
                causes.append(immutable("spec.names.kind", names.get("kind") or ""))
        # these make up the resource's name, which never changes
        if spec.get("group") != old_spec.get("group"):
            causes.append(immutable("spec.group", spec.get("group") or ""))
        if names.get("plural") != old_names.get("plural"):
            causes.append(immutable("spec.names.plural", names.get("plural") or ""))
        if established:
            old_bundle = ca_bundle_of(old_spec.get("conversion"))
            if not old_bundle or not ca_bundle_problem(old_bundle):
                causes.extend(ca_bundle_causes(spec.get("conversion")))
        return causes


def storage_version(crd: Obj) -> str:
    """The name of the first version marked storage ("" if none)."""
    spec = crd.get("spec")
    versions = spec.get("versions") if isinstance(spec, dict) else None
    for version in versions if isinstance(versions, list) else ():
        if isinstance(version, dict) and version.get("storage") is True:
            name = version.get("name")
            return name if isinstance(name, str) else ""
    return ""


def is_established(crd: Obj) -> bool:
    status = crd.get("status")
    conditions = status.get("conditions") if isinstance(status, dict) else None
    return any(isinstance(c, dict) and c.get("type") == "Established"
               and c.get("status") == "True" for c in conditions or ())


def name_causes(metadata: Obj, spec: Obj) -> list[Cause]:
    """The CRD's own name rule (upstream's nameValidationFn); the DNS-subdomain part is
    the registry's, checked before the strategy runs."""
    names = as_object(spec.get("names"))
    wanted = f"{names.get('plural') or ''}.{spec.get('group') or ''}"
    message = 'must be spec.names.plural+"."+spec.group'
    causes: list[Cause] = []
    if metadata.get("generateName") and metadata["generateName"] != wanted:
        causes.append(invalid("metadata.generateName", metadata["generateName"], message))
    name = metadata.get("name")
    if name and name != wanted:
        causes.append(invalid("metadata.name", name, message))
    return causes


def stored_versions_causes(stored: Any, versions: Any) -> list[Cause]:
    """ValidateCustomResourceDefinitionStoredVersions."""
    at = "status.storedVersions"
    stored = [v if isinstance(v, str) else "" for v in stored] if isinstance(stored, list) \
        else []
    if not stored:
        return [invalid(at, stored, "must have at least one stored version")]
    causes: list[Cause] = []
    index = {name: i for i, name in enumerate(stored)}
    for version in versions if isinstance(versions, list) else ():
        version = version if isinstance(version, dict) else {}
        name = version.get("name")
        if version.get("storage") is True and name not in index:
            causes.append(invalid(at, stored, f"must have the storage version {name}"))
        index.pop(name, None)
    for name, i in sorted(index.items(), key=lambda item: item[1]):
        causes.append(invalid(f"{at}[{i}]", name, f"missing from spec.versions; {name} was "
                              "previously a storage version, and must remain in spec.versions "
                              "until a storage migration ensures no data remains persisted in "
                              f"{name} and removes {name} from status.storedVersions"))
    return causes


def is_protected_group(group: Any) -> bool:
    """apihelpers.IsProtectedCommunityGroup: the Kubernetes project's own API groups."""
    if not isinstance(group, str):
        return False
    return group in ("k8s.io", "kubernetes.io") or group.endswith((".k8s.io", ".kubernetes.io"))


def approval_causes(group: Any, annotations: Any) -> list[Cause]:
    """validateAPIApproval on create: a protected group needs a URL (or "unapproved...")."""
    if not is_protected_group(group):
        return []
    at = f"metadata.annotations[{API_APPROVAL_ANNOTATION}]"
    value = annotations.get(API_APPROVAL_ANNOTATION) if isinstance(annotations, dict) else None
    value = value if isinstance(value, str) else ""
    if not value:
        return [required(at, f'protected groups must have approval annotation '
                             f'"{API_APPROVAL_ANNOTATION}", {_APPROVAL_PR}')]
    if value.startswith("unapproved"):
        return []
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        return []  # approved: the URL of the approving pull request
    return [invalid(at, value, f'protected groups must have approval annotation '
                               f'"{API_APPROVAL_ANNOTATION}" with either a URL or a reason '
                               f'starting with "unapproved", {_APPROVAL_PR}')]



class CustomResourceDefinitionStatusStrategy(StatusStrategy):
    """The CRD's status subresource, written by the API server's own CRD loop: upstream
    (ValidateUpdateCustomResourceDefinitionStatus) checks only the accepted names there,
    so a CRD stored under older rules can still be established."""

    def validate(self, crd: Obj) -> list[Cause]:
        status = as_object(crd.get("status"))
        return names_causes(as_object(status.get("acceptedNames")), "status.acceptedNames")
