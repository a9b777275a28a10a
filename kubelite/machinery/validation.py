"""Name and label checks, with the exact messages kube-apiserver prints.

Each `is_*` function returns a list of problems (empty when the value is fine), worded as
apimachinery's `pkg/util/validation` and `pkg/api/validate/content` word them, so a client
reading a kubelite 422 sees the same text it would from Kubernetes. Two families of length
messages exist upstream and both are kept: the DNS helpers say "characters", the label
key/value helpers (the newer `content` package) say "bytes". Lengths are counted in UTF-8
bytes, as Go's `len` does.

`field_invalid` renders one `field.Invalid` the way upstream's `ErrorBody` does
(`Invalid value: "x": detail`), so callers can build `Cause`s without re-deriving the
quoting rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from kubelite.machinery.errors import Cause

DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
DNS1035_LABEL_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63
LABEL_KEY_NAME_MAX_LENGTH = 63

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_ERR = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_ERR = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_ERR = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_KEY_ERR = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_VALUE_ERR = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_C_IDENTIFIER_FMT = "[A-Za-z_][A-Za-z0-9_]*"
_C_IDENTIFIER_ERR = (
    "a valid C identifier must start with alphabetic character or '_', followed by a string of "
    "alphanumeric characters or '_'"
)


def _full(fmt: str) -> re.Pattern[str]:
    # Go's regexp `^...$` anchors: `$` there never matches before a trailing newline, so
    # use \Z rather than Python's `$`.
    return re.compile("^(?:" + fmt + r")\Z")


_DNS1123_LABEL_RE = _full(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = _full(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL_RE = _full(_DNS1035_LABEL_FMT)
_LABEL_KEY_RE = _full(_LABEL_KEY_FMT)
_LABEL_VALUE_RE = _full(_LABEL_VALUE_FMT)
_C_IDENTIFIER_RE = _full(_C_IDENTIFIER_FMT)


def max_len_error(length: int) -> str:
    """util/validation's wording (DNS names)."""
    return f"must be no more than {length} characters"


def max_len_bytes_error(length: int) -> str:
    """validate/content's wording (label keys and values)."""
    return f"must be no more than {length} bytes"


def empty_error() -> str:
    return "must be non-empty"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Upstream's RegexError, double spaces before "or" included."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    out = msg + " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            out += " or "
        out += "'" + example + "', "
    return out + "regex used for validation is '" + fmt + "')"


def _nbytes(value: str) -> int:
    return len(value.encode("utf-8"))


def is_dns1123_label(value: str) -> list[str]:
    """IsDNS1123Label: a name that would be a valid subdomain gets "must not contain
    dots", as apimachinery words it since 1.30."""
    errs: list[str] = []
    if _nbytes(value) > DNS1123_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL_RE.match(value):
        if _DNS1123_SUBDOMAIN_RE.match(value):
            # a valid subdomain but not a label: length was checked, so it must be dots
            errs.append("must not contain dots")
        else:
            errs.append(regex_error(_DNS1123_LABEL_ERR, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs: list[str] = []
    if _nbytes(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def mask_trailing_dash(name: str) -> str:
    """A generateName prefix may end in '-': checked as a name, the dash is masked
    (maskTrailingDash upstream, byte for byte)."""
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def is_dns1035_label(value: str) -> list[str]:
    errs: list[str] = []
    if _nbytes(value) > DNS1035_LABEL_MAX_LENGTH:
        errs.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _DNS1035_LABEL_RE.match(value):
        errs.append(regex_error(_DNS1035_LABEL_ERR, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def _content_subdomain(value: str) -> list[str]:
    # content.IsDNS1123Subdomain: same rule as above, "bytes" wording
    errs: list[str] = []
    if _nbytes(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_bytes_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_ERR, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_CONFIG_KEY_RE = _full(_CONFIG_KEY_FMT)


def is_config_map_key(value: str) -> list[str]:
    """IsConfigMapKey: a ConfigMap or Secret data key (also a file name in a volume)."""
    errs: list[str] = []
    if _nbytes(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errs.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _CONFIG_KEY_RE.match(value):
        examples = ("key.name", "KEY_NAME", "key-name")
        errs.append(regex_error(_CONFIG_KEY_ERR, _CONFIG_KEY_FMT, *examples))
    # hasChDirPrefix: the key becomes a file name, so it must not climb out of its directory
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def is_qualified_name(value: str) -> list[str]:
    """A label key: optional DNS-subdomain prefix and '/', then a 63-byte name."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part " + empty_error())
        else:
            errs.extend("prefix part " + m for m in _content_subdomain(prefix))
    else:
        return [
            "a valid label key "
            + regex_error(_LABEL_KEY_ERR, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part " + empty_error())
    elif _nbytes(name) > LABEL_KEY_NAME_MAX_LENGTH:
        errs.append("name part " + max_len_bytes_error(LABEL_KEY_NAME_MAX_LENGTH))
    if not _LABEL_KEY_RE.match(name):
        examples = ("MyName", "my.name", "123-abc")
        errs.append("name part " + regex_error(_LABEL_KEY_ERR, _LABEL_KEY_FMT, *examples))
    return errs


is_label_key = is_qualified_name


def is_valid_label_value(value: str) -> list[str]:
    errs: list[str] = []
    if _nbytes(value) > LABEL_VALUE_MAX_LENGTH:
        errs.append(max_len_bytes_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE_RE.match(value):
        errs.append(regex_error(_LABEL_VALUE_ERR, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"))
    return errs


def is_c_identifier(value: str) -> list[str]:
    if not _C_IDENTIFIER_RE.match(value):
        return [regex_error(_C_IDENTIFIER_ERR, _C_IDENTIFIER_FMT, "my_name", "MY_NAME", "MyName")]
    return []


# --- rendering field errors the way field.Error does ------------------------------------

_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"'}


def go_quote(value: str) -> str:
    """Go's %q for a string: printable runes verbatim, the rest escaped."""
    out = ['"']
    for ch in value:
        if ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_value(value: object) -> str:
    """How field.Error prints a bad value: %q for strings, %#v for string slices."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]string(nil)"
        return "[]string{" + ", ".join(go_quote(str(v)) for v in value) + "}"
    return str(value)


def invalid_body(value: object, detail: str) -> str:
    """field.Error.ErrorBody() for an Invalid error: `Invalid value: "x": detail`."""
    body = "Invalid value: " + go_value(value)
    return f"{body}: {detail}" if detail else body


def field_invalid(path: str, value: object, detail: str) -> Cause:
    return Cause(type="FieldValueInvalid", message=invalid_body(value, detail), field=path)


def field_error_string(path: str | None, value: object, detail: str) -> str:
    """field.Error.Error(): `<path>: <body>`; a nil path prints as `<nil>`, as in Go."""
    return f"{'<nil>' if path is None else path}: {invalid_body(value, detail)}"


def validate_label_name(name: str, path: str) -> list[Cause]:
    return [field_invalid(path, name, msg) for msg in is_qualified_name(name)]


def validate_labels(labels: Mapping[str, str] | None, path: str) -> list[Cause]:
    """metav1 validation.ValidateLabels: each bad key and each bad value, at `path`.

    Keys are visited in sorted order so the message is stable (Go's map order is random).
    """
    causes: list[Cause] = []
    for key in sorted(labels or {}):
        value = (labels or {})[key]
        causes.extend(validate_label_name(key, path))
        if not isinstance(value, str):
            causes.append(field_invalid(path, value, "must be a string"))
            continue
        causes.extend(field_invalid(path, value, msg) for msg in is_valid_label_value(value))
    return causes


def join_messages(messages: Sequence[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message bare, several in brackets."""
    unique = list(dict.fromkeys(messages))
    if len(unique) == 1:
        return unique[0]
    return "[" + ", ".join(unique) + "]"
