"""Events: upstream's printEvent, for core/v1 Events and events.k8s.io/v1 Events.

Upstream stores both as one internal Event and prints them alike; here the
events.k8s.io field names (regarding, note, deprecatedCount, ...) are read in place of
the core ones (involvedObject, message, count, ...), which is what its conversion does.
LAST SEEN falls back to FIRST SEEN, which falls back to eventTime; an event series
reports its own count and last observation.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.age import since
from kubelite.apiserver.printers.cells import int_of, meta
from kubelite.apiserver.printers.printer import Obj, Printer, column

_CORE_FIELDS = ("involvedObject", "message", "source", "firstTimestamp", "lastTimestamp", "count")
_EVENTS_FIELDS = (
    "regarding",
    "note",
    "deprecatedSource",
    "deprecatedFirstTimestamp",
    "deprecatedLastTimestamp",
    "deprecatedCount",
)


def _source(source: Obj, controller: str, instance: str) -> str:
    """formatEventSource: "component, host", either falling back to reporting*."""
    component = source.get("component") or controller
    host = source.get("host") or instance
    return f"{component}, {host}" if host else component


def _cells(obj: Obj, now: int, fields: tuple[str, ...]) -> list[Any]:
    involved_key, message_key, source_key, first_key, last_key, count_key = fields
    involved = obj.get(involved_key) or {}
    first = obj.get(first_key)
    first_seen = since(first, now) if first else since(obj.get("eventTime"), now)
    last = obj.get(last_key)
    last_seen = since(last, now) if last else first_seen
    count = int_of(obj.get(count_key))
    series = obj.get("series")
    if series is not None:
        last_seen = since(series.get("lastObservedTime"), now)
        count = int_of(series.get("count"))
    elif count == 0:
        count = 1  # singleton events carry no count in the new API
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last_seen,
        obj.get("type") or "",
        obj.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        _source(obj.get(source_key) or {}, obj.get("reportingController") or "", obj.get("reportingInstance") or ""),
        (obj.get(message_key) or "").strip(),
        first_seen,
        count,
        meta(obj).get("name") or "",
    ]


_COLUMNS = (
    column("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
    column("Type", description="Type of this event (Normal, Warning)."),
    column("Reason", description="A short, machine understandable string for the event."),
    column("Object", description="The object that this event is about."),
    column("Subobject", description="The field of the object the event is about.", priority=1),
    column("Source", description="The component reporting this event.", priority=1),
    column("Message", description="A human-readable description of the status of this operation."),
    column("First Seen", description="The time at which the event was first recorded.", priority=1),
    column("Count", description="The number of times this event has occurred.", priority=1),
    column("Name", description="Name of the event.", format_="name", priority=1),
)

CORE_EVENT = Printer(columns=_COLUMNS, cells=lambda obj, now: _cells(obj, now, _CORE_FIELDS))
EVENTS_EVENT = Printer(columns=_COLUMNS, cells=lambda obj, now: _cells(obj, now, _EVENTS_FIELDS))

PRINTERS = {("", "Event"): CORE_EVENT, ("events.k8s.io", "Event"): EVENTS_EVENT}
