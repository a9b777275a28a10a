"""serviceaccounts/<name>/token: a TokenRequest in, the same TokenRequest with a
signed token out (upstream's pkg/registry/core/serviceaccount/storage/token.go).

    metadata.name / namespace   when given, must be the ServiceAccount's (422)
    the ServiceAccount          must exist (404)
    spec.audiences              default: the API audiences
    spec.expirationSeconds      default 3600; at least 600 and at most 2^32 (422);
                                above --service-account-max-token-expiration it is
                                shortened, with a warning
    spec.boundObjectRef         a v1 Pod (running as this ServiceAccount), Secret or
                                Node that must exist (404), with the uid given if any
                                (409); any other kind is a 400
    a pod-bound token for the API audiences asking 3607 s (the kubelet's request)
    lasts a year and warns after 3607 s, unless --service-account-extend-token-expiration
    is off; status.expirationTimestamp still says 3607 s

The answer is 201 with status.token and status.expirationTimestamp; nothing is
stored.
"""

from __future__ import annotations

import datetime
from typing import Any

from aiohttp import web

from kubelite.api.catalogue import GVK, RESOURCES
from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.auth.attributes import USER
from kubelite.apiserver.auth.serviceaccount import claims
from kubelite.apiserver.auth.serviceaccount.claims import ObjectRef
from kubelite.apiserver.auth.serviceaccount.issuer import TokenIssuer
from kubelite.apiserver.create_only import CreateOnly, Created
from kubelite.apiserver.registry.store import StoreTable
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery import errors
from kubelite.machinery.timestamps import format_time

Obj = dict[str, Any]

TOKEN_REQUEST = GVK("authentication.k8s.io", "v1", "TokenRequest")
DEFAULT_EXPIRATION_SECONDS = 60 * 60
MIN_EXPIRATION_SECONDS = 10 * 60
MAX_EXPIRATION_SECONDS = 1 << 32
_BINDABLE = {"Pod": "pods", "Secret": "secrets", "Node": "nodes"}


def _invalid(name: str, field: str, value: Any, message: str) -> errors.Invalid:
    return errors.invalid(TOKEN_REQUEST.group, TOKEN_REQUEST.kind, name, [errors.Cause(
        "FieldValueInvalid", f"Invalid value: {value}: {message}", field)])


def _gvk_string(api_version: str, kind: str) -> str:
    """schema.GroupVersionKind.String() of FromAPIVersionAndKind."""
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={kind}"


def check_expiration(seconds: Any) -> int:
    """ValidateTokenRequest on spec.expirationSeconds."""
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise errors.BadRequest("spec.expirationSeconds must be an integer")
    if seconds < MIN_EXPIRATION_SECONDS:
        raise _invalid("", "spec.expirationSeconds", seconds,
                       "may not specify a duration less than 10 minutes")
    if seconds > MAX_EXPIRATION_SECONDS:
        raise _invalid("", "spec.expirationSeconds", seconds,
                       "may not specify a duration larger than 2^32 seconds")
    return seconds


class TokenRequests:
    """The create of serviceaccounts/token, signing with `issuer`."""

    def __init__(self, *, issuer: TokenIssuer, stores: StoreTable) -> None:
        self.issuer = issuer
        self.stores = stores

    def endpoint(self) -> CreateOnly:
        spec = next(s for s in RESOURCES if s.group == "" and s.plural == "serviceaccounts")
        return CreateOnly(spec=spec, kind=TOKEN_REQUEST, create=self.create,
                          subresource="token")

    async def _get(self, plural: str, namespace: str, name: str) -> Obj:
        return (await self.stores.store_for("", plural).get(namespace, name)).obj

    async def create(self, request: web.Request, info: RequestInfo, body: Obj) -> Created:
        namespace, name = info.namespace, info.name
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != name:
            raise _invalid(name, "metadata.name", meta["name"],
                           "must match the service account name if specified")
        if meta.get("namespace") and meta["namespace"] != namespace:
            raise _invalid(name, "metadata.namespace", meta["namespace"],
                           "must match the service account namespace if specified")
        account = await self._get("serviceaccounts", namespace, name)
        # admitted as a create of serviceaccounts/token (NodeRestriction: a node's
        # tokens must be bound to a pod of its own)
        store = self.stores.store_for("", "serviceaccounts")
        await store.admission.admit(Attributes(store.spec, Operation.CREATE, namespace, name,
                                               body, subresource="token",
                                               user=request.get(USER)))
        spec = body.get("spec") or {}
        audiences = list(spec.get("audiences") or self.issuer.api_audiences)
        now = int(self.issuer.clock())
        requested = spec.get("expirationSeconds")
        expiration = check_expiration(DEFAULT_EXPIRATION_SECONDS if requested is None
                                      else requested)
        pod, secret, node = await self._bound_objects(namespace, name,
                                                      spec.get("boundObjectRef"))
        warnings: list[str] = []
        limit = self.issuer.max_expiration_seconds
        if limit > 0 and expiration > limit:
            warnings.append(f"requested expiration of {expiration} seconds shortened to "
                            f"{limit} seconds")
            expiration = limit
        lifetime, warn_after = expiration, 0
        if (self.issuer.extend_expiration and pod is not None
                and expiration == claims.WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS
                and all(a in self.issuer.api_audiences for a in audiences)):
            lifetime, warn_after = claims.EXPIRATION_EXTENSION_SECONDS, expiration
        issued = self.issuer.issue(
            namespace=namespace, name=name, uid=account["metadata"].get("uid", ""),
            audiences=audiences, expiration_seconds=lifetime, pod=pod, secret=secret,
            node=node, warn_after_seconds=warn_after)
        expires = datetime.datetime.fromtimestamp(now + expiration, datetime.UTC)
        out_spec: Obj = {"audiences": audiences, "expirationSeconds": expiration}
        if spec.get("boundObjectRef"):
            out_spec["boundObjectRef"] = spec["boundObjectRef"]
        out: Obj = {
            "kind": TOKEN_REQUEST.kind, "apiVersion": TOKEN_REQUEST.api_version,
            "metadata": {**meta, "name": name, "namespace": namespace,
                         "creationTimestamp": format_time(
                             datetime.datetime.fromtimestamp(now, datetime.UTC))},
            "spec": out_spec,
            "status": {"token": issued.token, "expirationTimestamp": format_time(expires)},
        }
        return Created(out, tuple(warnings))

    async def _bound_objects(self, namespace: str, account: str, ref: Any
                             ) -> tuple[ObjectRef | None, ObjectRef | None, ObjectRef | None]:
        if not ref:
            return None, None, None
        if not isinstance(ref, dict):
            raise errors.BadRequest("spec.boundObjectRef must be an object")
        api_version, kind = ref.get("apiVersion") or "", ref.get("kind") or ""
        ref_name, ref_uid = ref.get("name") or "", ref.get("uid") or ""
        group = api_version.rpartition("/")[0]
        plural = _BINDABLE.get(kind) if group == "" else None
        if plural is None:
            raise errors.BadRequest(
                f"cannot bind token to object of type {_gvk_string(api_version, kind)}")
        obj = await self._get(plural, "" if kind == "Node" else namespace, ref_name)
        uid = obj["metadata"].get("uid", "")
        if kind == "Pod" and (obj.get("spec") or {}).get("serviceAccountName") != account:
            raise errors.BadRequest(f'cannot bind token for serviceaccount "{account}" to pod '
                                    f"running with different serviceaccount name.")
        if ref_uid and ref_uid != uid:
            raise errors.conflict("", kind, ref_name,
                                  f"the UID in the bound object reference ({ref_uid}) does "
                                  f"not match the UID in record. The object might have "
                                  f"been deleted and then recreated")
        bound = ObjectRef(obj["metadata"]["name"], uid)
        if kind == "Pod":
            return bound, None, await self._pod_node(obj)
        if kind == "Secret":
            return None, bound, None
        return None, None, bound

    async def _pod_node(self, pod: Obj) -> ObjectRef | None:
        """The node of a pod-bound token: its name, and its uid if it exists."""
        node_name = (pod.get("spec") or {}).get("nodeName")
        if not node_name:
            return None
        try:
            node = await self._get("nodes", "", node_name)
        except errors.NotFound:
            return ObjectRef(node_name)
        return ObjectRef(node_name, node["metadata"].get("uid", ""))
