"""Plugins built from a profile's `pluginConfig`, as upstream's validatePluginConfig and
plugin factories do: each entry names a plugin once; its args lose apiVersion/kind (which
must then say `<Name>Args` of kubescheduler.config.k8s.io) and go to the plugin's
`from_args`, whose ArgsError is placed under `profiles[i].pluginConfig[j].args`. Empty
args mean the plugin's defaults. A name that is not a kubelite plugin is refused, saying
why (`unknown_plugin`).
"""

from __future__ import annotations

from typing import Any

from kubelite.scheduler import config_decode
from kubelite.machinery.go_json import json_value_name
from kubelite.scheduler.config_errors import (
    ArgsError, FieldError, duplicate, invalid, strict_message)
from kubelite.scheduler.config_schema import API_GROUP, API_VERSION, KIND
from kubelite.scheduler.plugins import REGISTRY, UPSTREAM_PLUGINS

Obj = dict[str, Any]

# removed from the v1 API; upstream's invalidPluginsByVersion
REMOVED_PLUGINS = ("AzureDiskLimits", "CinderLimits", "EBSLimits", "GCEPDLimits")


def _error(messages: list[str], *errors: FieldError) -> None:
    messages.extend(str(e) for e in errors)


def unknown_plugin(name: str) -> str:
    """Why a plugin name cannot be used; empty when kubelite has it."""
    if name in REGISTRY:
        return ""
    if name in REMOVED_PLUGINS:
        return (f'was invalid in version "{API_VERSION}" '
                f'({KIND} is version "{API_VERSION}")')
    if name in UPSTREAM_PLUGINS:
        return f'plugin "{name}" is not supported by kubelite yet'
    return f'plugin "{name}" does not exist'


def build_plugins(entries: list[Obj], path: str, messages: list[str]) -> dict[str, Any]:
    """Plugins built with their args, by name (upstream's validatePluginConfig and the
    plugin factories)."""
    instances: dict[str, Any] = {}
    seen: set[str] = set()
    for j, entry in enumerate(entries):
        entry_path = f"{path}.pluginConfig[{j}]"
        name = str((entry or {}).get("name") or "")
        if name in seen:
            _error(messages, duplicate(entry_path, name))
            continue
        seen.add(name)
        if name not in REGISTRY:
            problem = unknown_plugin(name) or f'plugin "{name}" takes no args'
            _error(messages, invalid(f"{entry_path}.name", name, problem))
            continue
        args = (entry or {}).get("args")
        if args is None or args == {}:
            continue  # no args: the plugin's defaults, as upstream's defaulting
        if (instance := _build_plugin(name, args, entry_path, messages)) is not None:
            instances[name] = instance
    return instances


def _build_plugin(name: str, args: Any, path: str, messages: list[str]) -> Any:
    context = f"decoding .{path}: "
    plugin = REGISTRY[name]
    if not isinstance(args, dict):
        messages.append(f"{context}decoding args for plugin {name}: json: cannot unmarshal "
                        f"{json_value_name(args)} into Go value of type v1.{name}Args")
        return None
    args = dict(args)
    api_version, kind = args.pop("apiVersion", None), args.pop("kind", None)
    group = str(api_version).split("/")[0]
    if (api_version or kind) and (group, kind) != (API_GROUP, f"{name}Args"):
        messages.append(f"{context}args for plugin {name} were not of type "
                        f"{name}Args.{API_GROUP}, got {kind}.{group}")
        return None
    from_args = getattr(plugin, "from_args", None)
    if from_args is None:
        if args:
            _error(messages, invalid(f"{path}.args", args, f'plugin "{name}" takes no args'))
        return None
    try:
        return from_args(args)
    except ArgsError as error:
        _report_args(error, name, path, messages)
        return None


def _report_args(error: ArgsError, name: str, path: str, messages: list[str]) -> None:
    context = f"decoding .{path}: "
    if unknown := config_decode.strict(error.decoding):
        messages.append(strict_message(
            unknown, f"{context}strict decoding error: decoding args for plugin {name}: "
                     "strict decoding error: "))
    for fatal in config_decode.fatal(error.decoding):
        messages.append(f"{context}decoding args for plugin {name}: {fatal}")
    _error(messages, *(e.under(f"{path}.args") for e in error.errors))
