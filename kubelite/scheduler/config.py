"""KubeSchedulerConfiguration (`kubelite scheduler --config FILE`): load, default, validate,
and build one scheduling `Profile` per profile, as kube-scheduler does with its file
(cmd/kube-scheduler/app/options/configfile.go, pkg/scheduler/apis/config/v1/defaults.go,
pkg/scheduler/apis/config/validation, pkg/scheduler/profile/profile.go).

    text ─ load_document ─ strict decode (config_schema) ─ defaults ─ validate ─┐
                                                                                 │
      per profile: merge plugins with the defaults (config_plugins) ─ plugins from
      REGISTRY, built with their pluginConfig args (config_plugin_args, `from_args`)
      ─ place them at each extension point, weigh Score plugins ─► Profile
                                                                                 │
    SchedulerConfiguration(profiles, percentageOfNodesToScore, backoffs, leaderElection)

Guarantees:
- Every problem in a file is reported at once, in one `InvalidConfiguration`, with
  upstream's words and field paths (`profiles[1].schedulerName: Required value`). Only a
  value of the wrong type stops the reading early: nothing after it could be trusted.
- Unknown fields are errors, at every depth, plugin args included (upstream decodes the
  file strictly).
- A plugin kubelite does not have, or one no Kubernetes has, is refused by name; a
  plugin's args go through its own `from_args`, and a plugin without one takes none.
- Nothing here runs or binds anything: the result is plain data for KubeScheduler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubelite.api.protobuf.wellknown import format_duration, parse_duration
from kubelite.scheduler import config_decode
from kubelite.scheduler.config_errors import (
    DecodeError, FieldError, InvalidConfiguration, duplicate, forbidden, index, invalid,
    required, strict_message)
from kubelite.scheduler.config_plugin_args import build_plugins, unknown_plugin
from kubelite.scheduler.config_plugins import (
    MULTI_POINT, PLUGIN_SET_FIELDS, PluginRef, PluginSet, merge_plugins, place_plugins)
from kubelite.scheduler.config_schema import API_VERSION, CONFIGURATION, KIND
from kubelite.scheduler.event_handlers import DEFAULT_SCHEDULER_NAME
from kubelite.scheduler.plugins import REGISTRY
from kubelite.scheduler.schedule_one import Profile

Obj = dict[str, Any]

@dataclass(frozen=True, slots=True)
class LeaderElection:
    """component-base's LeaderElectionConfiguration, with upstream's defaults (seconds)."""

    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    resource_lock: str = "leases"
    resource_name: str = "kube-scheduler"
    resource_namespace: str = "kube-system"


@dataclass(frozen=True, slots=True)
class SchedulerConfiguration:
    profiles: tuple[Profile, ...]
    percentage_of_nodes_to_score: int = 0  # 0: adaptive, as upstream
    pod_initial_backoff_seconds: int = 1
    pod_max_backoff_seconds: int = 10
    parallelism: int = 16
    leader_election: LeaderElection = field(default_factory=LeaderElection)
    kubeconfig: str = ""  # clientConnection.kubeconfig


def load_file(path: str | Path) -> SchedulerConfiguration:
    """The configuration in a file; InvalidConfiguration (also for a file that cannot be
    read) names the file."""
    try:
        text = Path(path).read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidConfiguration([str(error)], source=str(path)) from None
    try:
        return load(text)
    except InvalidConfiguration as error:
        raise InvalidConfiguration(error.messages, source=str(path)) from None


def load(text: str) -> SchedulerConfiguration:
    """Parse, default, validate and build; InvalidConfiguration lists everything wrong."""
    try:
        doc = config_decode.load_document(text)
    except ValueError as error:
        raise InvalidConfiguration([str(error)]) from None
    _check_type(doc)
    decoding = config_decode.check(doc, CONFIGURATION)
    if fatal := config_decode.fatal(decoding):
        raise InvalidConfiguration([str(e) for e in fatal])
    messages: list[str] = []
    if unknown := config_decode.strict(decoding):
        messages.append(strict_message(unknown))
    loader = _Loader(doc, messages)
    configuration = loader.build()
    if messages:
        raise InvalidConfiguration(messages)
    return configuration


def _check_type(doc: Any) -> None:
    """The document must say it is a v1 KubeSchedulerConfiguration (upstream's scheme)."""
    if not isinstance(doc, dict):
        raise InvalidConfiguration([f"couldn't decode as {KIND}: the document is not an object"])
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if not api_version:
        raise InvalidConfiguration(["Object 'apiVersion' is missing"])
    if not kind:
        raise InvalidConfiguration(["Object 'Kind' is missing"])
    if (api_version, kind) != (API_VERSION, KIND):
        shown = kind if isinstance(kind, str) else str(kind)
        raise InvalidConfiguration([
            f'no kind "{shown}" is registered for version "{api_version}" '
            f"(kubelite reads {KIND} of {API_VERSION})"])


def _plugin_set(raw: Obj | None, path: str) -> PluginSet:
    raw = raw or {}
    enabled = [PluginRef(str(p.get("name") or ""), p.get("weight"), index(f"{path}.enabled", i))
               for i, p in enumerate(raw.get("enabled") or ()) if isinstance(p, dict)]
    disabled = [str(p.get("name") or "") for p in raw.get("disabled") or () if isinstance(p, dict)]
    return PluginSet(enabled, disabled)


class _Loader:
    """One pass over a decoded document: defaults, validation and profiles, every error
    appended to `messages`."""

    def __init__(self, doc: Obj, messages: list[str]) -> None:
        self.doc = doc
        self.messages = messages

    def error(self, *errors: FieldError) -> None:
        self.messages.extend(str(e) for e in errors)

    def build(self) -> SchedulerConfiguration:
        doc = self.doc
        parallelism = 16 if doc.get("parallelism") is None else int(doc["parallelism"])
        if parallelism <= 0:
            self.error(invalid("parallelism", parallelism,
                               "should be an integer value greater than zero"))
        leader = self.leader_election(doc.get("leaderElection") or {})
        burst = (doc.get("clientConnection") or {}).get("burst") or 0
        if burst < 0:
            self.error(invalid("clientConnection.burst", burst, "must be non-negative"))
        percentage = doc.get("percentageOfNodesToScore")
        self.check_percentage("percentageOfNodesToScore", percentage)
        initial = 1 if doc.get("podInitialBackoffSeconds") is None else int(doc["podInitialBackoffSeconds"])
        maximum = 10 if doc.get("podMaxBackoffSeconds") is None else int(doc["podMaxBackoffSeconds"])
        if initial <= 0:
            self.error(invalid("podInitialBackoffSeconds", initial, "must be greater than 0"))
        if maximum < initial:
            self.error(invalid("podMaxBackoffSeconds", maximum,
                               "must be greater than or equal to PodInitialBackoffSeconds"))
        if doc.get("extenders"):
            self.error(forbidden("extenders", "scheduler extenders are not supported by kubelite"))
        profiles = self.profiles(doc.get("profiles") or [], percentage or 0)
        return SchedulerConfiguration(
            profiles=tuple(profiles), percentage_of_nodes_to_score=percentage or 0,
            pod_initial_backoff_seconds=initial, pod_max_backoff_seconds=maximum,
            parallelism=parallelism, leader_election=leader,
            kubeconfig=(doc.get("clientConnection") or {}).get("kubeconfig") or "")

    def check_percentage(self, path: str, value: int | None) -> None:
        if value is not None and not 0 <= value <= 100:
            self.error(invalid(path, value, "not in valid range [0-100]"))

    def leader_election(self, raw: Obj) -> LeaderElection:
        """RecommendedDefaultLeaderElectionConfiguration, then component-base's checks
        (only when electing) and the scheduler's own: the lock must be a Lease."""
        defaults = LeaderElection()
        seconds = {key: (parse_duration(raw[key]) / 1e9 if raw.get(key) is not None
                         else getattr(defaults, attr))
                   for key, attr in (("leaseDuration", "lease_duration"),
                                     ("renewDeadline", "renew_deadline"),
                                     ("retryPeriod", "retry_period"))}
        leader = LeaderElection(
            leader_elect=defaults.leader_elect if raw.get("leaderElect") is None else raw["leaderElect"],
            lease_duration=seconds["leaseDuration"], renew_deadline=seconds["renewDeadline"],
            retry_period=seconds["retryPeriod"],
            resource_lock=raw.get("resourceLock") or defaults.resource_lock,
            resource_name=raw.get("resourceName") or defaults.resource_name,
            resource_namespace=raw.get("resourceNamespace") or defaults.resource_namespace)
        if not leader.leader_elect:
            return leader
        for key, value in seconds.items():
            if value <= 0:
                self.error(invalid(f"leaderElection.{key}", _duration(value), "must be greater than zero"))
        if leader.lease_duration <= leader.renew_deadline:
            self.error(invalid("leaderElection.leaseDuration", _duration(leader.renew_deadline),
                               "LeaseDuration must be greater than RenewDeadline"))
        if leader.resource_lock != "leases":
            self.error(invalid("leaderElection.resourceLock", leader.resource_lock,
                               'resourceLock value must be "leases"'))
        return leader

    # --- profiles ----------------------------------------------------------------------

    def profiles(self, raw: list[Obj], percentage: int) -> list[Profile]:
        raw = [p if isinstance(p, dict) else {} for p in raw] or [{}]
        if len(raw) == 1 and raw[0].get("schedulerName") is None:
            raw = [{**raw[0], "schedulerName": DEFAULT_SCHEDULER_NAME}]  # only when alone
        seen: dict[str, int] = {}
        out: list[Profile] = []
        for i, spec in enumerate(raw):
            path = f"profiles[{i}]"
            name = spec.get("schedulerName") or ""
            if not name:
                self.error(required(f"{path}.schedulerName"))
            elif name in seen:
                self.error(duplicate(f"{path}.schedulerName", f"profiles[{seen[name]}].schedulerName"))
            else:
                seen[name] = i
            profile = self.profile(spec, path, name, percentage)
            if profile is not None:
                out.append(profile)
        self.check_common_queue_sort(raw)
        return out

    def check_common_queue_sort(self, raw: list[Obj]) -> None:
        """validateCommonQueueSort: every profile sorts the one shared queue the same way."""
        def queue_sort(spec: Obj) -> Obj:
            return ((spec.get("plugins") or {}).get("queueSort")) or {}

        canon = queue_sort(raw[0])
        if len(canon.get("enabled") or ()) > 1:
            self.error(invalid("profiles[0].plugins.queueSort.Enabled", len(canon["enabled"]),
                               "only one queue sort plugin can be enabled"))
        for i, spec in enumerate(raw[1:], start=1):
            if _normalized(queue_sort(spec)) != _normalized(canon):
                self.error(invalid(f"profiles[{i}].plugins.queueSort", queue_sort(spec),
                                   "must be the same for all profiles"))

    def profile(self, spec: Obj, path: str, name: str, percentage: int) -> Profile | None:
        own_percentage = spec.get("percentageOfNodesToScore")
        self.check_percentage(f"{path}.percentageOfNodesToScore", own_percentage)
        raw_plugins = spec.get("plugins")
        custom = None if raw_plugins is None else {
            point: _plugin_set(raw_plugins.get(point), f"{path}.plugins.{point}")
            for point in PLUGIN_SET_FIELDS}
        self.check_plugin_names(custom or {})
        instances = build_plugins(spec.get("pluginConfig") or [], path, self.messages)
        merged = merge_plugins(custom)
        placement = place_plugins(merged, set(REGISTRY), name)
        self.messages.extend(f"creating profile for scheduler name {name}: {e}"
                             for e in placement.errors)
        if placement.errors:
            return None
        placed = {n for names in placement.points.values() for n in names}
        # one instance per plugin, listed in multiPoint order, then the others as placed
        order = [r.name for r in merged[MULTI_POINT].enabled]
        order += [n for names in placement.points.values() for n in names]
        built: dict[str, Any] = {}
        for plugin in order:
            if plugin in placed and plugin not in built:
                built[plugin] = instances.get(plugin) or REGISTRY[plugin]()
        points = {method: [built[n] for n in names]
                  for method, names in placement.points.items()}
        return Profile(list(built.values()), placement.weights,
                       percentage if own_percentage is None else own_percentage,
                       scheduler_name=name, points=points)

    def check_plugin_names(self, custom: Mapping[str, PluginSet]) -> None:
        """Every enabled name must be a plugin kubelite has; the others are reported here
        and left out of the placement, so one mistake is not reported five times."""
        for plugin_set in custom.values():
            for ref in plugin_set.enabled:
                if problem := unknown_plugin(ref.name):
                    self.error(invalid(ref.path, ref.name, problem))


def _normalized(queue_sort: Obj) -> tuple[tuple[tuple[str, Any], ...], tuple[str, ...]]:
    """A queueSort set compared as Semantic.DeepEqual compares it (null == empty)."""
    enabled = tuple((str(p.get("name")), p.get("weight")) for p in queue_sort.get("enabled") or ())
    disabled = tuple(str(p.get("name")) for p in queue_sort.get("disabled") or ())
    return enabled, disabled


@dataclass(frozen=True, slots=True)
class _Duration:
    """A metav1.Duration in an error: printed by its String(), unquoted, as upstream."""

    seconds: float

    def __str__(self) -> str:
        return format_duration(round(self.seconds * 1e9))


def _duration(seconds: float) -> _Duration:
    return _Duration(seconds)


__all__ = ["DecodeError", "InvalidConfiguration", "LeaderElection", "MULTI_POINT",
           "SchedulerConfiguration", "load", "load_file"]
