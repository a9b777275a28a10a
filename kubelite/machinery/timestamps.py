"""Timestamps as Kubernetes writes metav1.Time: RFC 3339, UTC, whole seconds."""

from __future__ import annotations

import datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def now_rfc3339() -> str:
    return format_time(datetime.datetime.now(datetime.UTC))


def format_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime(FORMAT)


def parse_rfc3339(value: str) -> datetime.datetime | None:
    """The moment a `...Z` timestamp names, or None if it is not one."""
    try:
        return datetime.datetime.strptime(value, FORMAT).replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None
