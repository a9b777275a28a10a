"""Timestamps as Kubernetes writes them: metav1.Time is RFC 3339 in UTC with whole
seconds, metav1.MicroTime the same with microseconds (Lease renewals, Event times)."""

from __future__ import annotations

import datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"
MICRO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now_rfc3339() -> str:
    return format_time(datetime.datetime.now(datetime.UTC))


def format_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime(FORMAT)


def now_micro_time() -> str:
    return format_micro_time(datetime.datetime.now(datetime.UTC))


def format_micro_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime(MICRO_FORMAT)


def parse_rfc3339(value: str) -> datetime.datetime | None:
    """The moment a `...Z` timestamp names, or None if it is not one."""
    try:
        return datetime.datetime.strptime(value, FORMAT).replace(tzinfo=datetime.UTC)
    except (TypeError, ValueError):
        return None
