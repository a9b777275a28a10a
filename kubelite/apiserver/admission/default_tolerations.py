"""DefaultTolerationSeconds (plugin/pkg/admission/defaulttolerationseconds upstream):
every pod tolerates a not-ready or unreachable node for a while before it is evicted.

A pod created or updated without a toleration that covers the NoExecute taint
`node.kubernetes.io/not-ready` (a toleration with that key or no key, and effect
NoExecute or none) gets `{key: not-ready, operator: Exists, effect: NoExecute,
tolerationSeconds: 300}`; the same for `node.kubernetes.io/unreachable`. A pod that
already says how it tolerates them is left alone, so `tolerationSeconds: 5` or a
toleration of everything keeps its meaning. The seconds are the server's
`--default-not-ready-toleration-seconds` / `--default-unreachable-toleration-seconds`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubelite.apiserver.admission.chain import Attributes, Operation

Obj = dict[str, Any]

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_TOLERATION_SECONDS = 300


def covers(toleration: Obj, key: str) -> bool:
    """Whether the toleration already speaks for the NoExecute taint `key` (upstream
    compares key and effect only: an empty one matches any)."""
    return (toleration.get("key") or "") in ("", key) \
        and (toleration.get("effect") or "") in ("", "NoExecute")


class DefaultTolerationSeconds:
    name: ClassVar[str] = "DefaultTolerationSeconds"

    def __init__(self, *, not_ready_seconds: int = DEFAULT_TOLERATION_SECONDS,
                 unreachable_seconds: int = DEFAULT_TOLERATION_SECONDS) -> None:
        self.defaults = ((NOT_READY, not_ready_seconds), (UNREACHABLE, unreachable_seconds))

    def handles(self, attrs: Attributes) -> bool:
        return attrs.operation in (Operation.CREATE, Operation.UPDATE) \
            and attrs.is_resource("", "pods") and not attrs.subresource

    async def admit(self, attrs: Attributes) -> None:
        spec = attrs.obj.get("spec")
        if not isinstance(spec, dict):
            return  # validation refuses it with the field's own words
        tolerations = spec.get("tolerations")
        present: list[Obj] = [t for t in tolerations if isinstance(t, dict)] \
            if isinstance(tolerations, list) else []
        missing = [{"key": key, "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": seconds}
                   for key, seconds in self.defaults
                   if not any(covers(t, key) for t in present)]
        if missing:
            spec["tolerations"] = [*(tolerations if isinstance(tolerations, list) else []),
                                   *missing]
