"""Eviction thresholds: the kubelet's --eviction-* flags, read as upstream reads them
(pkg/kubelet/eviction/helpers.go ParseThresholdConfig, eviction/api/types.go).

A threshold says "signal < value": `memory.available<100Mi` (a quantity) or
`nodefs.available<10%` (a share of the signal's capacity). A hard threshold acts at
once; a soft one (--eviction-soft) only once it has held for its grace period
(--eviction-soft-grace-period, which every soft signal must have). A minimum reclaim
(--eviction-minimum-reclaim) keeps a threshold "met" until the signal is that much
above it, so the node does not flap around the line.

Flags are upstream's spellings: `--eviction-hard memory.available<100Mi,nodefs.available<10%`
(pairs split at `<`), `--eviction-soft-grace-period memory.available=1m30s` and
`--eviction-minimum-reclaim nodefs.available=500Mi` (pairs split at `=`). As upstream,
`0%` and `100%` switch a threshold off, and a given --eviction-hard replaces the defaults
(memory.available<100Mi, nodefs.available<10%, imagefs.available<15%,
nodefs.inodesFree<5%) rather than merging with them. Bad input raises ThresholdError
with upstream's message.

Percentages are float32 in upstream (`float32(value) / 100`), and a threshold's
quantity is `int64(float64(capacity) * float64(percentage))`; kubelite rounds the same
way so its thresholds are upstream's to the byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from kubelite.api.protobuf.wellknown import parse_duration
from kubelite.machinery.quantity import Format, Quantity, parse_quantity

MEMORY_AVAILABLE = "memory.available"
ALLOCATABLE_MEMORY_AVAILABLE = "allocatableMemory.available"
NODEFS_AVAILABLE = "nodefs.available"
NODEFS_INODES_FREE = "nodefs.inodesFree"
IMAGEFS_AVAILABLE = "imagefs.available"
IMAGEFS_INODES_FREE = "imagefs.inodesFree"
CONTAINERFS_AVAILABLE = "containerfs.available"
CONTAINERFS_INODES_FREE = "containerfs.inodesFree"
PID_AVAILABLE = "pid.available"

# signal -> the resource it starves (signalToResource)
SIGNAL_RESOURCE = {
    MEMORY_AVAILABLE: "memory", ALLOCATABLE_MEMORY_AVAILABLE: "memory",
    NODEFS_AVAILABLE: "ephemeral-storage", IMAGEFS_AVAILABLE: "ephemeral-storage",
    CONTAINERFS_AVAILABLE: "ephemeral-storage",
    NODEFS_INODES_FREE: "inodes", IMAGEFS_INODES_FREE: "inodes",
    CONTAINERFS_INODES_FREE: "inodes",
    PID_AVAILABLE: "pids",
}
# signal -> the node condition it sets (signalToNodeCondition)
SIGNAL_CONDITION = {
    MEMORY_AVAILABLE: "MemoryPressure", ALLOCATABLE_MEMORY_AVAILABLE: "MemoryPressure",
    NODEFS_AVAILABLE: "DiskPressure", NODEFS_INODES_FREE: "DiskPressure",
    IMAGEFS_AVAILABLE: "DiskPressure", IMAGEFS_INODES_FREE: "DiskPressure",
    CONTAINERFS_AVAILABLE: "DiskPressure", CONTAINERFS_INODES_FREE: "DiskPressure",
    PID_AVAILABLE: "PIDPressure",
}
DEFAULT_HARD = (f"{MEMORY_AVAILABLE}<100Mi,{NODEFS_AVAILABLE}<10%,"
                f"{IMAGEFS_AVAILABLE}<15%,{NODEFS_INODES_FREE}<5%")
DEFAULT_PRESSURE_TRANSITION_PERIOD = 300.0  # evictionPressureTransitionPeriod, 5m


class ThresholdError(ValueError):
    """A flag that upstream's kubelet refuses; the message is upstream's."""


def float32(value: float) -> float:
    return float(struct.unpack("f", struct.pack("f", value))[0])


@dataclass(frozen=True)
class ThresholdValue:
    """Either a quantity or a percentage (0 < p <= 1, float32 as upstream)."""

    quantity: Quantity | None = None
    percentage: float = 0.0

    def of(self, capacity: int) -> int:
        """GetThresholdQuantity: the value in the signal's units for this capacity."""
        if self.quantity is not None:
            return self.quantity.value()
        return int(float(capacity) * self.percentage)

    def __str__(self) -> str:
        if self.quantity is not None:
            return str(self.quantity)
        return f"{self.percentage * 100:g}%"


@dataclass(frozen=True)
class Threshold:
    signal: str
    value: ThresholdValue
    grace_period: float = 0.0  # seconds; 0: a hard threshold
    min_reclaim: ThresholdValue | None = None

    @property
    def hard(self) -> bool:
        return self.grace_period == 0

    @property
    def resource(self) -> str:
        return SIGNAL_RESOURCE[self.signal]

    def quantity(self, capacity: int) -> int:
        return self.value.of(capacity)

    def met(self, available: int, capacity: int, *, enforce_min_reclaim: bool = False) -> bool:
        """thresholdsMet for one observation: available < value (+ min reclaim)."""
        line = self.value.of(capacity)
        if enforce_min_reclaim and self.min_reclaim is not None:
            line += self.min_reclaim.of(capacity)
        return line > available


def _pairs(text: str, separator: str) -> dict[str, str]:
    """A map flag: `k<v,k<v` (LangleSeparatedMapStringString) or `k=v,k=v`
    (MapStringString); later keys win, as a Go map's do."""
    out: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition(separator)
        if not sep:
            raise ThresholdError(f"malformed pair, expect string{separator}string")
        out[key.strip()] = value.strip()
    return out


def _valid(signal: str) -> str:
    if signal not in SIGNAL_RESOURCE:
        raise ThresholdError(f"unsupported eviction signal {signal}")
    return signal


def _percentage(text: str) -> float:
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        raise ThresholdError(f'strconv.ParseFloat: parsing "{text.rstrip("%")}": '
                             f"invalid syntax") from None
    return float32(float32(number) / 100)


def _quantity(text: str) -> Quantity:
    try:
        return parse_quantity(text)
    except ValueError as err:
        raise ThresholdError(str(err)) from None


def parse_statement(signal: str, text: str) -> Threshold | None:
    """parseThresholdStatement: None for a threshold switched off (0% or 100%)."""
    _valid(signal)
    if text.endswith("%"):
        if text in ("0%", "100%"):
            return None
        percentage = _percentage(text)
        if percentage < 0:
            raise ThresholdError(f"eviction percentage threshold {signal} must be >= 0%: {text}")
        if percentage > 1:
            raise ThresholdError(f"eviction percentage threshold {signal} must be <= 100%: {text}")
        return Threshold(signal, ThresholdValue(percentage=percentage))
    quantity = _quantity(text)
    if quantity.sign() <= 0:
        raise ThresholdError(f"eviction threshold {signal} must be positive: {quantity}")
    return Threshold(signal, ThresholdValue(quantity=quantity))


def _grace_periods(text: str) -> dict[str, float]:
    out = {}
    for signal, value in _pairs(text, "=").items():
        try:
            nanoseconds = parse_duration(value)
        except ValueError:
            raise ThresholdError(f'time: invalid duration "{value}"') from None
        if nanoseconds < 0:
            raise ThresholdError(f"invalid eviction grace period specified: {value}, "
                                 f"must be a positive value")
        out[_valid(signal)] = nanoseconds / 1e9
    return out


def _minimum_reclaims(text: str) -> dict[str, ThresholdValue]:
    out = {}
    for signal, value in _pairs(text, "=").items():
        _valid(signal)
        if value.endswith("%"):
            percentage = _percentage(value)
            if percentage <= 0:
                raise ThresholdError(f"eviction percentage minimum reclaim {signal} "
                                     f"must be positive: {value}")
            out[signal] = ThresholdValue(percentage=percentage)
            continue
        quantity = _quantity(value)
        if quantity.sign() < 0:
            raise ThresholdError(f"negative eviction minimum reclaim specified for {signal}")
        out[signal] = ThresholdValue(quantity=quantity)
    return out


def parse_thresholds(hard: str = DEFAULT_HARD, soft: str = "", soft_grace_period: str = "",
                     minimum_reclaim: str = "") -> list[Threshold]:
    """ParseThresholdConfig over the four flags' texts: hard thresholds, then soft ones
    with their grace periods, each with its minimum reclaim."""
    results = [t for signal, value in _pairs(hard, "<").items()
               if (t := parse_statement(_valid(signal), value)) is not None]
    softs = [t for signal, value in _pairs(soft, "<").items()
             if (t := parse_statement(_valid(signal), value)) is not None]
    grace = _grace_periods(soft_grace_period)
    reclaim = _minimum_reclaims(minimum_reclaim)
    for threshold in softs:
        if threshold.signal not in grace:
            raise ThresholdError(f"grace period must be specified for the soft eviction "
                                 f"threshold {threshold.signal}")
        results.append(Threshold(threshold.signal, threshold.value, grace[threshold.signal]))
    return [Threshold(t.signal, t.value, t.grace_period, reclaim.get(t.signal))
            for t in results]


def binary_quantity(value: int) -> str:
    """resource.NewQuantity(value, BinarySI).String(): what upstream's messages print."""
    return str(Quantity.from_int(value, Format.BINARY_SI))
