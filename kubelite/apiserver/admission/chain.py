"""The admission chain: what every write passes besides its kind's own strategy
(k8s.io/apiserver/pkg/admission interfaces.go and chain.go upstream).

A plugin sees the request's `Attributes` (the resource, the operation, the new object
and, on update, the old one) and either lets the write go on or raises a Status error
that ends it. Two phases, as upstream:

- `admit` (mutating): runs before the kind's strategy, on the object as the client sent
  it. A plugin may change the object (Priority sets a pod's priority) or reject the
  write (NamespaceLifecycle). What admission adds is the server's, never the writer's:
  the store has taken the writer's managedFields snapshot before this phase.
- `validate`: runs after the strategy has defaulted and validated the object, just
  before it is written. A plugin may reject the write, and may claim something from a
  pool shared by every object, filling in what it got (a Service's ClusterIP and
  NodePorts). A claim comes back as a `Finish`, which the store calls once the write
  is settled: `finish(True)` when it was stored, `finish(False)` when it failed or was
  a dry run, so nothing stays claimed for a write that did not happen.

Plugins run in the chain's order; each says which requests it `handles`, so a plugin
about pods never sees a ConfigMap. A plugin that raises stops the chain; in the
validate phase the claims of the plugins before it are given back first.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from kubelite.api.catalogue import ResourceSpec
from kubelite.apiserver.auth.user import UserInfo
from kubelite.machinery import errors

Obj = dict[str, Any]
Finish = Callable[[bool], Awaitable[None]]


class Operation(enum.StrEnum):
    CREATE = "CREATE"
    UPDATE = "UPDATE"
    DELETE = "DELETE"  # mutating plugins only, with obj and old both the stored object


@dataclass(slots=True)
class Attributes:
    """One write as admission sees it. `obj` is the object being written, which
    mutating plugins edit in place; `old` is the stored object on update and delete,
    else None."""

    resource: ResourceSpec
    operation: Operation
    namespace: str
    name: str
    obj: Obj
    old: Obj | None = None
    subresource: str = ""
    dry_run: bool = False
    user: UserInfo | None = None  # the writer; None for the server's own writes

    def is_resource(self, group: str, plural: str) -> bool:
        return self.resource.group == group and self.resource.plural == plural

    def object_name(self) -> str:
        """upstream's extractResourceName: the request's name, else the object's, else its
        generateName (mutating admission runs before a name is generated), else Unknown."""
        meta = (self.obj or {}).get("metadata") or {}
        return self.name or meta.get("name") or meta.get("generateName") or "Unknown"

    def forbidden(self, reason: str, *causes: errors.Cause) -> errors.Forbidden:
        """upstream's admission.NewForbidden: `pods "web-" is forbidden: <reason>`."""
        resource = self.resource.plural + (f".{self.resource.group}" if self.resource.group else "")
        name = self.object_name()
        return errors.Forbidden(f'{resource} "{name}" is forbidden: {reason}',
                                group=self.resource.group, kind=self.resource.plural, name=name,
                                causes=causes)


class MutatingPlugin(Protocol):
    name: ClassVar[str]

    def handles(self, attrs: Attributes) -> bool:
        """True if this plugin has something to say about the request."""

    async def admit(self, attrs: Attributes) -> None:
        """Edit attrs.obj, or raise a StatusError to refuse the write. Runs again
        for each try of a write the store retries, so it must be idempotent."""


class ValidatingPlugin(Protocol):
    name: ClassVar[str]

    def handles(self, attrs: Attributes) -> bool:
        """True if this plugin has something to say about the request."""

    async def validate(self, attrs: Attributes) -> Finish | None:
        """Raise a StatusError to refuse the write; otherwise None, or a Finish that
        gives back (False) or settles (True) what this call claimed."""


async def _nothing_claimed(stored: bool) -> None:
    return None


class Chain:
    def __init__(self, *, mutating: Sequence[MutatingPlugin] = (),
                 validating: Sequence[ValidatingPlugin] = ()) -> None:
        self.mutating = tuple(mutating)
        self.validating = tuple(validating)

    def add_mutating(self, plugin: MutatingPlugin) -> None:
        """A plugin the server's configuration adds (NodeRestriction), last."""
        self.mutating = (*self.mutating, plugin)

    def add_validating(self, plugin: ValidatingPlugin) -> None:
        """A plugin the server's configuration adds (RBAC's escalation check), last."""
        self.validating = (*self.validating, plugin)

    async def admit(self, attrs: Attributes) -> None:
        for plugin in self.mutating:
            if plugin.handles(attrs):
                await plugin.admit(attrs)

    async def validate(self, attrs: Attributes) -> Finish:
        finishes: list[Finish] = []
        try:
            for plugin in self.validating:
                if plugin.handles(attrs):
                    finish = await plugin.validate(attrs)
                    if finish is not None:
                        finishes.append(finish)
        except BaseException:
            for finish in reversed(finishes):
                await finish(False)
            raise
        if not finishes:
            return _nothing_claimed

        async def finish_all(stored: bool) -> None:
            for finish in reversed(finishes):
                await finish(stored)
        return finish_all
