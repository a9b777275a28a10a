"""Regenerate `table.py` (the field-number table) from a kubectl binary.

The Kubernetes protobuf encoding is described by the Go API structs themselves: every
field carries a tag such as `json:"replicas,omitempty" protobuf:"varint,1,opt,name=replicas"`
and a Go type (`*int32`). A Go binary keeps both for reflection, so one kubectl binary of
the pinned minor version holds the wire description of every built-in kind, including
what no .proto file says: whether a scalar is a pointer (its zero value on the wire is
meaningful) and whether its JSON tag has omitempty (its zero value is left out of JSON).

How the binary is read (Go >= 1.21 runtime ABI, static non-PIE ELF as kubectl ships):
type descriptors and names live in `.rodata`, and a name offset is relative to its start.
A struct type is a 48-byte `abi.Type` with kind 25, then its package-path name pointer and
a `[]StructField` slice header; each StructField is {name pointer, type pointer, offset}.
A name is a flag byte, a varint length, the bytes, then (flag bit 2) a varint-length tag.

Run: `python -m kubelite.api.protobuf.extract .tools/bin/kubectl-1.35 > table.py`.
The output is deterministic, so a diff shows exactly what a new minor version changed.
"""

from __future__ import annotations

import re
import struct
import sys
from dataclasses import dataclass

_KIND_STRUCT, _KIND_PTR, _KIND_SLICE, _KIND_MAP = 25, 22, 23, 21
_SCALARS = {1: "bool", 5: "int32", 6: "int64", 10: "uint32", 11: "uint64",
            13: "float", 14: "double", 24: "string", 2: "int64", 7: "uint64"}
_PACKAGES = re.compile(
    r"k8s\.io/(api/[a-z0-9]+/v[0-9a-z]+|apimachinery/pkg/(apis/meta/v1|runtime|api/resource|util/intstr))$")


@dataclass(slots=True)
class _Binary:
    data: bytes
    sections: list[tuple[int, int, int]]  # (address, file offset, size)
    rodata: int  # address of .rodata: the base of every name offset

    @classmethod
    def load(cls, path: str) -> _Binary:
        data = open(path, "rb").read()
        if data[:4] != b"\x7fELF":
            raise ValueError(f"{path}: not an ELF binary")
        shoff = struct.unpack_from("<Q", data, 0x28)[0]
        entsize, count, strndx = struct.unpack_from("<HHH", data, 0x3A)
        raw = [struct.unpack_from("<IIQQQQ", data, shoff + i * entsize) for i in range(count)]
        strtab = raw[strndx][4]
        names = {data[strtab + r[0]:data.index(b"\0", strtab + r[0])].decode(): r for r in raw}
        sections = [(r[3], r[4], r[5]) for r in raw if r[3] and r[1] != 8]  # 8: NOBITS
        return cls(data, sections, names[".rodata"][3])

    def offset(self, addr: int) -> int:
        for base, off, size in self.sections:
            if base <= addr < base + size:
                return off + addr - base
        raise KeyError(hex(addr))

    def u64(self, addr: int) -> int:
        return int(struct.unpack_from("<Q", self.data, self.offset(addr))[0])

    def i32(self, addr: int) -> int:
        return int(struct.unpack_from("<i", self.data, self.offset(addr))[0])

    def name(self, addr: int) -> tuple[str, str]:
        """(name, tag) of the name record at addr."""
        p = self.offset(addr)
        flags = self.data[p]
        n, p = _varint(self.data, p + 1)
        text = self.data[p:p + n].decode()
        if not flags & 2:
            return text, ""
        t, p = _varint(self.data, p + n)
        return text, self.data[p:p + t].decode()

    def kind(self, t: int) -> int:
        return self.data[self.offset(t) + 23] & 0x1F

    def type_name(self, t: int) -> str:
        text, _ = self.name(self.rodata + self.i32(t + 40))
        return text[1:] if self.data[self.offset(t) + 20] & 2 else text  # tflag ExtraStar

    def pkg_path(self, t: int) -> str:
        """Package path of a named struct (from its uncommon type), '' if none."""
        if not self.data[self.offset(t) + 20] & 1:
            return ""
        off = self.i32(t + 48 + 8 + 24)
        return self.name(self.rodata + off)[0] if off else ""


def _varint(data: bytes, p: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[p]
        p += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, p


def _definition(pkg: str, type_name: str) -> str:
    """Go package path + type name -> OpenAPI definition name."""
    return pkg.replace("k8s.io/", "io.k8s.", 1).replace("/", ".") + "." + type_name.split(".")[-1]


def _type(b: _Binary, t: int) -> str:
    """A field's Go type in the table's notation: scalar, @definition, []T, map[K]V."""
    kind = b.kind(t)
    if kind == _KIND_PTR:
        return _type(b, b.u64(t + 48))
    if kind == _KIND_SLICE:
        elem = b.u64(t + 48)
        if b.kind(elem) == 8:  # uint8
            return "bytes"
        return "[]" + _type(b, elem)
    if kind == _KIND_MAP:
        return f"map[{_type(b, b.u64(t + 48))}]{_type(b, b.u64(t + 56))}"
    if kind == _KIND_STRUCT:
        return "@" + _definition(b.pkg_path(t), b.type_name(t))
    return _SCALARS.get(kind, f"kind{kind}")


def _structs(b: _Binary) -> dict[str, list[str]]:
    base, off, size = next(s for s in b.sections if s[0] == b.rodata)
    data = b.data[off:off + size]
    out: dict[str, list[str]] = {}
    for i in range(0, len(data) - 88, 8):
        if data[i + 23] & 0x1F != _KIND_STRUCT:
            continue
        ptr, length, cap = struct.unpack_from("<QQQ", data, i + 56)
        if not (base <= ptr < base + size and 0 < length == cap < 500):
            continue
        t = base + i
        try:
            pkg, type_name = b.pkg_path(t), b.type_name(t)
        except (KeyError, UnicodeDecodeError, IndexError):
            continue
        if not _PACKAGES.search(pkg):
            continue
        lines = [_field(b, b.u64(ptr + 24 * k), b.u64(ptr + 24 * k + 8)) for k in range(length)]
        fields = [line for line in lines if line]
        if fields:
            out[_definition(pkg, type_name)] = sorted(fields, key=lambda f: int(f.split()[0]))
    return out


def _field(b: _Binary, name_addr: int, type_addr: int) -> str:
    """One table line `<number> <json name> <type> [flags]`, '' if not on the wire."""
    go_name, tag = b.name(name_addr)
    pb = re.search(r'protobuf:"([^"]*)"', tag)
    if not pb or pb.group(1) == "-":
        return ""
    number = pb.group(1).split(",")[1]
    js = re.search(r'json:"([^"]*)"', tag)
    options = js.group(1).split(",") if js else [go_name]
    json_name = options[0] or "-"  # "" means embedded inline; "-" is spelled out below
    flags = []
    kind = b.kind(type_addr)
    if options[0] == "" and js:
        flags.append("inline")
    if kind == _KIND_PTR:
        flags.append("ptr")
    if "omitempty" not in options[1:]:
        flags.append("keep")  # Go writes this field's zero value into JSON
    if "omitzero" in options[1:]:
        flags.append("omitzero")
    if kind == _KIND_SLICE and not b.type_name(type_addr).startswith("[]"):
        flags.append("wrapped")  # a named slice (Verbs): a message {repeated items = 1}
    if kind == _KIND_MAP:
        value = b.u64(type_addr + 56)
        if b.kind(value) == _KIND_SLICE and not b.type_name(value).startswith("[]"):
            flags.append("wrapped")  # map to a named slice (ExtraValue): same wrapper
    return " ".join([number, json_name, _type(b, type_addr), *flags])


def render(structs: dict[str, list[str]]) -> str:
    body = "\n".join(f"{name}\n" + "\n".join(f" {f}" for f in fields)
                     for name, fields in sorted(structs.items()))
    return (
        '"""Field table of the Kubernetes protobuf encoding (generated by extract.py; do not edit).\n\n'
        "One message per unindented line (its OpenAPI definition name), then one line per field:\n"
        "`<number> <json name> <type> [flags]`. Types: bool, int32, int64, uint32, uint64,\n"
        "float, double, string, bytes, @<definition>, []<type>, map[<key>]<value>. Flags:\n"
        "ptr (a Go pointer: a zero value is meaningful), keep (no omitempty: Go writes the\n"
        "zero value into JSON), omitzero, inline (fields merge into the parent object),\n"
        'wrapped (a named slice, sent as a message whose field 1 repeats the items).\n"""\n\n'
        f'TABLE = """\\\n{body}\n"""\n'
    )


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: python -m kubelite.api.protobuf.extract <kubectl binary>")
    sys.stdout.write(render(_structs(_Binary.load(argv[1]))))


if __name__ == "__main__":
    main(sys.argv)
