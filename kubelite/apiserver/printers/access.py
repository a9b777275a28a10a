"""Access control and admission: upstream's printRoleBinding, printClusterRoleBinding,
printCertificateSigningRequest, printClusterTrustBundle, the webhook configuration
printers and the admission policy printers.

Roles and ClusterRoles have no printer upstream and get the default table.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.age import human_duration, since
from kubelite.apiserver.printers.cells import NONE, UNSET, get, int_of, meta, name_of
from kubelite.apiserver.printers.printer import AGE, NAME, Obj, Printer, column, name_cells_age


def subjects_strings(subjects: list[Obj]) -> tuple[list[str], list[str], list[str]]:
    """rbac.SubjectsStrings: users, groups and "namespace/name" service accounts."""
    users: list[str] = []
    groups: list[str] = []
    service_accounts: list[str] = []
    for subject in subjects:
        kind = subject.get("kind")
        if kind == "ServiceAccount":
            service_accounts.append(f"{subject.get('namespace') or ''}/{subject.get('name') or ''}")
        elif kind == "User":
            users.append(subject.get("name") or "")
        elif kind == "Group":
            groups.append(subject.get("name") or "")
    return users, groups, service_accounts


def binding_cells(obj: Obj, now: int) -> list[Any]:
    ref = obj.get("roleRef") or {}
    users, groups, service_accounts = subjects_strings(obj.get("subjects") or [])
    return [
        name_of(obj),
        f"{ref.get('kind') or ''}/{ref.get('name') or ''}",
        since(meta(obj).get("creationTimestamp"), now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(service_accounts),
    ]


def _binding(noun: str) -> Printer:
    return Printer(
        columns=(
            NAME,
            column("Role", description="The role this binding grants."),
            AGE,
            column("Users", description=f"Users in the {noun}", priority=1),
            column("Groups", description=f"Groups in the {noun}", priority=1),
            column("ServiceAccounts", description=f"ServiceAccounts in the {noun}", priority=1),
        ),
        cells=binding_cells,
    )


def csr_status(obj: Obj) -> str:
    """extractCSRStatus: Denied > Approved > Pending, then ",Failed" and ",Issued"."""
    types = {condition.get("type") for condition in get(obj, "status", "conditions") or ()}
    status = "Denied" if "Denied" in types else "Approved" if "Approved" in types else "Pending"
    if "Failed" in types:
        status += ",Failed"
    if get(obj, "status", "certificate"):
        status += ",Issued"
    return status


def csr_cells(obj: Obj, now: int) -> list[Any]:
    spec = obj.get("spec") or {}
    expiration = spec.get("expirationSeconds")
    return [
        name_of(obj),
        since(meta(obj).get("creationTimestamp"), now),
        spec.get("signerName") or NONE,
        spec.get("username") or "",
        NONE if expiration is None else human_duration(int_of(expiration) * 1_000_000),
        csr_status(obj),
    ]


CERTIFICATE_SIGNING_REQUEST = Printer(
    columns=(
        NAME,
        AGE,
        column("SignerName", description="The requested signer."),
        column("Requestor", description="The user who created the request."),
        column("RequestedDuration", description="The requested duration of validity of the certificate."),
        column("Condition", description="Approved, Denied, Failed and Issued conditions."),
    ),
    cells=csr_cells,
)

CLUSTER_TRUST_BUNDLE = Printer(
    columns=(NAME, column("SignerName", description="The signer whose trust anchors this bundle holds.")),
    cells=lambda obj, now: [name_of(obj), get(obj, "spec", "signerName") or NONE],
)


def _webhooks() -> Printer:
    return Printer(
        columns=(
            NAME,
            column("Webhooks", "integer", "Webhooks indicates the number of webhooks registered in this configuration"),
            AGE,
        ),
        cells=name_cells_age(lambda obj: len(obj.get("webhooks") or ())),
    )


def _param_kind(obj: Obj) -> str:
    kind = get(obj, "spec", "paramKind")
    if kind is None:
        return UNSET
    return f"{kind.get('apiVersion') or ''}/{kind.get('kind') or ''}"


def _policy(rules: str, title: str, description: str) -> Printer:
    return Printer(
        columns=(
            NAME,
            column(title, "integer", description),
            column("ParamKind", description="The kind of resources used to parameterize this policy."),
            AGE,
        ),
        cells=name_cells_age(lambda obj: len(get(obj, "spec", rules) or ()), _param_kind),
    )


def go_label_selector(selector: Obj) -> str:
    """The generated String() of a *metav1.LabelSelector, as upstream prints a paramRef selector."""
    labels = selector.get("matchLabels") or {}
    rendered_labels = "".join(f"{key}: {labels[key]}," for key in sorted(labels))
    rendered_exprs = "".join(
        "LabelSelectorRequirement{"
        f"Key:{expr.get('key') or ''},Operator:{expr.get('operator') or ''},"
        f"Values:[{' '.join(expr.get('values') or ())}],}},"
        for expr in selector.get("matchExpressions") or ()
    )
    return (
        f"&LabelSelector{{MatchLabels:map[string]string{{{rendered_labels}}},"
        f"MatchExpressions:[]LabelSelectorRequirement{{{rendered_exprs}}},}}"
    )


def _param_ref(obj: Obj) -> str:
    ref = get(obj, "spec", "paramRef")
    if ref is None:
        return UNSET
    if ref.get("name"):
        # Whether the param is cluster-scoped is unknown here, so no namespace means "*".
        return f"{ref.get('namespace') or '*'}/{ref['name']}"
    if ref.get("selector") is not None:
        return go_label_selector(ref["selector"])
    return UNSET


def _policy_binding() -> Printer:
    return Printer(
        columns=(
            NAME,
            column("PolicyName", description="The policy this binding binds."),
            column("ParamRef", description="The resource holding the policy's parameters."),
            AGE,
        ),
        cells=name_cells_age(lambda obj: get(obj, "spec", "policyName") or "", _param_ref),
    )


_ADMISSION = "admissionregistration.k8s.io"
_RBAC = "rbac.authorization.k8s.io"

PRINTERS = {
    (_RBAC, "RoleBinding"): _binding("roleBinding"),
    (_RBAC, "ClusterRoleBinding"): _binding("clusterRoleBinding"),
    ("certificates.k8s.io", "CertificateSigningRequest"): CERTIFICATE_SIGNING_REQUEST,
    ("certificates.k8s.io", "ClusterTrustBundle"): CLUSTER_TRUST_BUNDLE,
    (_ADMISSION, "MutatingWebhookConfiguration"): _webhooks(),
    (_ADMISSION, "ValidatingWebhookConfiguration"): _webhooks(),
    (_ADMISSION, "ValidatingAdmissionPolicy"): _policy(
        "validations",
        "Validations",
        "Validations indicates the number of validation rules defined in this configuration",
    ),
    (_ADMISSION, "MutatingAdmissionPolicy"): _policy(
        "mutations",
        "Mutations",
        "Mutation indicates the number of mutations rules defined in this configuration",
    ),
    (_ADMISSION, "ValidatingAdmissionPolicyBinding"): _policy_binding(),
    (_ADMISSION, "MutatingAdmissionPolicyBinding"): _policy_binding(),
}
