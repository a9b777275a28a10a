"""From a profile's `plugins` section to the plugins at each extension point, as upstream
builds a framework (pkg/scheduler/apis/config/v1/default_plugins.go mergePlugins, and
pkg/scheduler/framework/runtime/framework.go NewFramework).

1. Merge (`merge_plugin_set`, per extension point and for multiPoint): the defaults minus
   the disabled ones (`"*"` disables them all), a default the user enables again replaced
   in place (its new weight, its old position), then the user's other enabled plugins in
   their order.
2. Place (`place_plugins`): each extension point gets, in this order, the plugins enabled
   for it by name that multiPoint also enables (the user overrides them), then multiPoint's
   plugins that implement the point and are not disabled there, then the rest of the
   point's own plugins. A plugin twice at one point, or named at a point it does not
   implement, is an error, as upstream.
3. Weigh: a Score plugin's weight comes from `score.enabled`, else from multiPoint; unset
   or 0 means 1.

A plugin implements an extension point when its class has the point's method
(`pre_filter`, `filter`, `score`, ...). The result is a mapping
from method name to plugin names in order; the caller turns names into instances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kubelite.scheduler.plugins import DEFAULT_PLUGINS, REGISTRY

MAX_NODE_SCORE = 100
MAX_TOTAL_SCORE = 2**63 - 1
DISABLE_ALL = "*"


@dataclass(frozen=True, slots=True)
class ExtensionPoint:
    field: str  # its key under `plugins:` in the file
    method: str  # the method a plugin implementing it has
    go_type: str  # its interface's name in upstream's messages


# in upstream's getExtensionPoints order, which is the order its errors come in
EXTENSION_POINTS: tuple[ExtensionPoint, ...] = (
    ExtensionPoint("preFilter", "pre_filter", "PreFilterPlugin"),
    ExtensionPoint("filter", "filter", "FilterPlugin"),
    ExtensionPoint("postFilter", "post_filter", "PostFilterPlugin"),
    ExtensionPoint("reserve", "reserve", "ReservePlugin"),
    ExtensionPoint("preScore", "pre_score", "PreScorePlugin"),
    ExtensionPoint("score", "score", "ScorePlugin"),
    ExtensionPoint("preBind", "pre_bind", "PreBindPlugin"),
    ExtensionPoint("bind", "bind", "BindPlugin"),
    ExtensionPoint("postBind", "post_bind", "PostBindPlugin"),
    ExtensionPoint("permit", "permit", "PermitPlugin"),
    ExtensionPoint("preEnqueue", "pre_enqueue", "PreEnqueuePlugin"),
    ExtensionPoint("queueSort", "less", "QueueSortPlugin"),
)
MULTI_POINT = "multiPoint"
PLUGIN_SET_FIELDS: tuple[str, ...] = (*(p.field for p in EXTENSION_POINTS), MULTI_POINT)


@dataclass(frozen=True, slots=True)
class PluginRef:
    """One `{name, weight}` entry, with where it was written (for error messages)."""

    name: str
    weight: int | None = None
    path: str = ""


@dataclass(slots=True)
class PluginSet:
    enabled: list[PluginRef] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


def default_plugins() -> dict[str, PluginSet]:
    """Upstream's getDefaultPlugins: everything through multiPoint, DefaultBinder last."""
    enabled = [PluginRef(name, weight or None) for name, weight in DEFAULT_PLUGINS]
    sets = {name: PluginSet() for name in PLUGIN_SET_FIELDS}
    sets[MULTI_POINT] = PluginSet(enabled)
    return sets


def merge_plugin_set(default: PluginSet, custom: PluginSet) -> PluginSet:
    """Upstream's mergePluginSet."""
    disabled = [*custom.disabled, *default.disabled]
    custom_by_name = {ref.name: (i, ref) for i, ref in enumerate(custom.enabled)}
    replaced: set[int] = set()
    enabled: list[PluginRef] = []
    if DISABLE_ALL not in disabled:
        for ref in default.enabled:
            if ref.name in disabled:
                continue
            if ref.name in custom_by_name:  # re-configured: the user's entry, same place
                i, ref = custom_by_name[ref.name]
                replaced.add(i)
            enabled.append(ref)
    # duplicates among the user's entries stay, and are refused when placed
    enabled.extend(ref for i, ref in enumerate(custom.enabled) if i not in replaced)
    return PluginSet(enabled, disabled)


def merge_plugins(custom: Mapping[str, PluginSet] | None) -> dict[str, PluginSet]:
    defaults = default_plugins()
    if custom is None:
        return defaults
    return {name: merge_plugin_set(defaults[name], custom.get(name) or PluginSet())
            for name in PLUGIN_SET_FIELDS}


def implements(name: str, method: str) -> bool:
    return hasattr(REGISTRY[name], method)


@dataclass(slots=True)
class Placement:
    points: dict[str, list[str]]  # method -> plugin names, in the order they run
    weights: dict[str, int]  # Score plugin -> weight
    errors: list[str]


def _place_one(point: ExtensionPoint, own: PluginSet, multi: Sequence[PluginRef],
               known: set[str], errors: list[str]) -> list[str]:
    names: list[str] = []
    for ref in own.enabled:  # upstream's updatePluginList
        if ref.name not in known:
            continue
        if not implements(ref.name, point.method):
            errors.append(f'plugin "{ref.name}" does not extend {point.go_type} plugin')
        elif ref.name in names:
            errors.append(f'plugin "{ref.name}" already registered as "{point.go_type}"')
        else:
            names.append(ref.name)
    if DISABLE_ALL in own.disabled:  # nothing comes in through multiPoint here
        return names
    from_multi: list[str] = []
    overridden: set[str] = set()
    for ref in multi:  # upstream's expandMultiPointPlugins
        if ref.name not in known or not implements(ref.name, point.method):
            continue
        if ref.name in own.disabled:
            continue
        if ref.name in names:
            overridden.add(ref.name)  # named at the point itself: that entry wins
        elif ref.name in from_multi:
            errors.append(f'plugin "{ref.name}" already registered as "{point.go_type}"')
        else:
            from_multi.append(ref.name)
    return ([n for n in names if n in overridden] + from_multi
            + [n for n in names if n not in overridden])


def place_plugins(plugins: Mapping[str, PluginSet], known: set[str],
                  scheduler_name: str) -> Placement:
    """Plugins per extension point and Score weights of one merged profile. `known` holds
    the names that exist (others were reported already and are skipped here)."""
    errors: list[str] = []
    multi = plugins[MULTI_POINT].enabled
    points = {point.method: _place_one(point, plugins[point.field], multi, known, errors)
              for point in EXTENSION_POINTS}
    if len(points["less"]) != 1:
        errors.append(f"only one queue sort plugin required for profile with scheduler name "
                      f'"{scheduler_name}", but got {len(points["less"])}')
    if not points["bind"]:
        errors.append(f"at least one bind plugin is needed for profile with scheduler name "
                      f'"{scheduler_name}"')
    weights: dict[str, int] = {}
    total = 0
    for ref in [*plugins["score"].enabled, *multi]:  # upstream's getScoreWeights
        if ref.name not in known or ref.name in weights or ref.name not in points["score"]:
            continue
        weights[ref.name] = ref.weight or 1  # 0 is not a weight: disable the plugin instead
        if weights[ref.name] * MAX_NODE_SCORE > MAX_TOTAL_SCORE - total:
            errors.append("total score of Score plugins could overflow")
            break
        total += weights[ref.name] * MAX_NODE_SCORE
    return Placement(points, weights, errors)
