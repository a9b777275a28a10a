"""Query parameters: how each one is read from a URL, and what it means.

kube-apiserver decodes a request's query into an options struct (ListOptions,
CreateOptions, ...) with apimachinery's parameter codec (`runtime/conversion.go`), and
the OpenAPI documents list the same struct fields as query parameters. Here one
`Parameter` row holds a parameter's wire name, its codec and its documented meaning;
the option classes (`options.py`) are built from these rows, and the OpenAPI generator
(`kubelite.api.openapi`) reads its names and descriptions from the same rows, so what
is advertised is what is parsed.

The codecs follow Go's conversions exactly:
- a boolean is false only when absent, `0` or `false` in any letter case; anything
  else, the empty string included, is true (`?watch`, `?watch=True` and `?watch=1`
  all watch);
- an integer is an int64 read by `strconv.ParseInt(s, 10, 64)`: an optional sign and
  ASCII digits, nothing else; a bad one is a 400 BadRequest worded as Go's error
  (`strconv.ParseInt: parsing "abc": invalid syntax`, `... value out of range`);
- a string takes the first value; a list (dryRun) takes every value.
A parameter that is absent decodes to its zero value, or to None where upstream's field
is a pointer (timeoutSeconds, gracePeriodSeconds, sendInitialEvents, force...).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, KeysView
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.machinery.errors import BadRequest
from kubelite.machinery.validation import go_quote

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_GO_DECIMAL = re.compile(r"[+-]?[0-9]+")


class Query(Protocol):
    """A URL query with repeated keys: aiohttp's `request.query` is one."""

    def getall(self, key: str, default: list[str], /) -> list[str]: ...

    def keys(self) -> KeysView[str]: ...


def parse_bool(values: list[str]) -> bool:
    """Convert_Slice_string_To_bool: only absence, `0` or `false` (any case) is false."""
    if not values:
        return False
    first = values[0]
    return not (first == "0" or first.lower() == "false")


def parse_int64(text: str) -> int:
    """strconv.ParseInt(text, 10, 64), with Go's error text as a BadRequest."""
    # Python's int() would also take "1_000", " 7" and non-ASCII digits; Go takes none.
    if not _GO_DECIMAL.fullmatch(text):
        raise BadRequest(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise BadRequest(f"strconv.ParseInt: parsing {go_quote(text)}: value out of range")
    return value


def _boolean(values: list[str]) -> bool:
    return parse_bool(values)


def _optional_boolean(values: list[str]) -> bool | None:
    return parse_bool(values) if values else None


def _int64(values: list[str]) -> int:
    return parse_int64(values[0]) if values else 0


def _optional_int64(values: list[str]) -> int | None:
    return parse_int64(values[0]) if values else None


def _string(values: list[str]) -> str:
    return values[0] if values else ""


def _optional_string(values: list[str]) -> str | None:
    return values[0] if values else None


def _strings(values: list[str]) -> tuple[str, ...]:
    return tuple(values)


@dataclass(frozen=True, slots=True)
class Codec:
    """How one Go field type is read from its query values."""

    openapi_type: str  # boolean, integer, string
    decode: Callable[[list[str]], Any]
    default: Any  # what an absent parameter decodes to


BOOLEAN = Codec("boolean", _boolean, False)
OPTIONAL_BOOLEAN = Codec("boolean", _optional_boolean, None)
INT64 = Codec("integer", _int64, 0)
OPTIONAL_INT64 = Codec("integer", _optional_int64, None)
STRING = Codec("string", _string, "")
OPTIONAL_STRING = Codec("string", _optional_string, None)
STRINGS = Codec("string", _strings, ())


@dataclass(frozen=True, slots=True)
class Parameter:
    """One query parameter: wire name, codec, and the description upstream documents."""

    name: str
    codec: Codec
    description: str

    def field(self) -> Any:
        """A dataclass field that reads this parameter: `limit: int = LIMIT.field()`."""
        return dataclasses.field(default=self.codec.default, metadata={"parameter": self})

    def decode(self, query: Query) -> Any:
        return self.codec.decode(query.getall(self.name, []))


# The rows. Descriptions are upstream's, as its OpenAPI documents print them.
ALLOW_WATCH_BOOKMARKS = Parameter("allowWatchBookmarks", BOOLEAN, "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.")
CONTINUE = Parameter("continue", STRING, "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize.")
DRY_RUN = Parameter("dryRun", STRINGS, "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed")
FIELD_MANAGER = Parameter("fieldManager", STRING, "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.")
FIELD_SELECTOR = Parameter("fieldSelector", STRING, "A selector to restrict the list of returned objects by their fields. Defaults to everything.")
FIELD_VALIDATION = Parameter("fieldValidation", STRING, "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.")
FORCE = Parameter("force", OPTIONAL_BOOLEAN, "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.")
GRACE_PERIOD_SECONDS = Parameter("gracePeriodSeconds", OPTIONAL_INT64, "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.")
IGNORE_STORE_READ_ERROR = Parameter("ignoreStoreReadErrorWithClusterBreakingPotential", OPTIONAL_BOOLEAN, "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it")
LABEL_SELECTOR = Parameter("labelSelector", STRING, "A selector to restrict the list of returned objects by their labels. Defaults to everything.")
LIMIT = Parameter("limit", INT64, "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results.")
ORPHAN_DEPENDENTS = Parameter("orphanDependents", OPTIONAL_BOOLEAN, "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both.")
PRETTY = Parameter("pretty", STRING, "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).")
PROPAGATION_POLICY = Parameter("propagationPolicy", OPTIONAL_STRING, "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.")
RESOURCE_VERSION = Parameter("resourceVersion", STRING, "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset")
RESOURCE_VERSION_MATCH = Parameter("resourceVersionMatch", STRING, "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset")
SEND_INITIAL_EVENTS = Parameter("sendInitialEvents", OPTIONAL_BOOLEAN, "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection.")
TIMEOUT_SECONDS = Parameter("timeoutSeconds", OPTIONAL_INT64, "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.")
WATCH = Parameter("watch", BOOLEAN, "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.")

PARAMETERS: dict[str, Parameter] = {p.name: p for p in (
    ALLOW_WATCH_BOOKMARKS, CONTINUE, DRY_RUN, FIELD_MANAGER, FIELD_SELECTOR, FIELD_VALIDATION,
    FORCE, GRACE_PERIOD_SECONDS, IGNORE_STORE_READ_ERROR, LABEL_SELECTOR, LIMIT,
    ORPHAN_DEPENDENTS, PRETTY, PROPAGATION_POLICY, RESOURCE_VERSION, RESOURCE_VERSION_MATCH,
    SEND_INITIAL_EVENTS, TIMEOUT_SECONDS, WATCH)}
