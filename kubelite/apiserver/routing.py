"""From a request path and method to what is asked (upstream's RequestInfoFactory).

Resource paths have the shapes

    /api/v1/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]
    /apis/<group>/<version>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]

plus the legacy `.../watch/...` prefix. `namespaces/<name>/status` and
`namespaces/<name>/finalize` are the Namespace's own subresources, not a namespaced
resource called "status"; upstream makes the same exception.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
# pods' connect subresources: an upgrade by GET or POST, authorized as `create` either way
CONNECT_SUBRESOURCES = frozenset({"exec", "attach", "portforward"})


@dataclass(slots=True)
class RequestInfo:
    group: str
    version: str
    namespace: str
    resource: str
    name: str
    subresource: str
    verb: str  # get list watch create update patch delete deletecollection


def parse_resource_path(method: str, path: str, *, watch_param: bool) -> RequestInfo | None:
    """None when the path is not a resource path (discovery, /version, ...).
    `watch_param`: the request's `?watch`, decoded as a boolean parameter."""
    parts = [p for p in path.split("/") if p]
    if len(parts) < 3:
        return None
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis":
        if len(parts) < 4:
            return None
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    legacy_watch = False
    if rest and rest[0] == "watch":
        legacy_watch = True
        rest = rest[1:]
    namespace = ""
    if len(rest) >= 2 and rest[0] == "namespaces":
        if len(rest) == 2 or (len(rest) == 3 and rest[2] in NAMESPACE_SUBRESOURCES):
            # /namespaces/<name>[/status]: the Namespace object itself.
            pass
        else:
            namespace = rest[1]
            rest = rest[2:]
    if len(rest) > 3 and rest[2] == "proxy":
        rest = rest[:3]  # <resource>/<name>/proxy/<path>: the path goes to the target
    if not rest or len(rest) > 3:
        return None
    resource = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    # `?watch` turns a collection GET into a watch; a GET of one object stays a get,
    # as upstream's RequestInfoFactory decides (a single object is watched through the
    # collection with fieldSelector=metadata.name=<name>, or the legacy /watch/ path).
    verb = _verb(method, bool(name), legacy_watch or (watch_param and not name))
    if verb is None:
        return None
    if resource == "pods" and subresource in CONNECT_SUBRESOURCES and verb == "get":
        verb = "create"
    return RequestInfo(group, version, namespace, resource, name, subresource, verb)


def _verb(method: str, has_name: bool, watch: bool) -> str | None:
    if method in ("GET", "HEAD"):
        if watch:
            return "watch"
        return "get" if has_name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if has_name else "deletecollection"
    return None
