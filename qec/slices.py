"""Slices of a store's points, as data: filter by any metadata key, group into curves by any keys, and put p or
any numeric key on the x axis; what `qec plot` and `qec stats` show when given `--where`, `--group-by`, `--x`.

Keys are a point's metadata keys (other tools' keys mapped onto ours, `qec.metadata`), `decoder`, and
`discard_rate` (discards / shots: on x for gap post-selection). A condition `KEY=VALUE` (or `KEY=V1,V2` for any
of them) compares VALUE as the JSON scalar it spells: `3` matches the numbers 3 and 3.0 (and the text "3"),
`0.01` matches 0.01, `true`/`false` match booleans, `null` a null, and any other text matches that text exactly.
Nothing is evaluated.

Curves are the groups of the `group_by` keys' values. A group whose points repeat an x value (two distances at
one p, say) is split by the keys that vary within it, `distance` first (then rounds, basis, noise, family,
code, decoder, the others by name), so the everyday `group_by=["decoder"]` gives one curve per decoder and
distance; `Slice.split_by` says which keys were added.

>>> from qec.stats import Point
>>> from qec.task import Counts
>>> points = [Point("surface", d, d, "sd6", p, decoder, Counts(1000, e), {"distance": d, "p": p})
...           for decoder in ("pymatching", "uf") for d in (3, 5) for p, e in ((0.001, 5), (0.002, 20))]
>>> picked = slice_points(points, where=[parse_condition("decoder=uf")], group_by=["decoder"])
>>> [curve.label for curve in picked.curves], picked.split_by
(['decoder=uf, distance=3', 'decoder=uf, distance=5'], ('distance',))
>>> picked.threshold_refusal() is None
True
>>> print(slice_points(points, group_by=["decoder"]).threshold_refusal())
a threshold fit needs one curve per distance; decoder=pymatching, distance=3 and decoder=uf, distance=3 both ...
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from qec.errors import QecInputError
from qec.stats import Point

# Keys that split a group whose points repeat an x value, in this order; then any other key, by name.
DISCARD_RATE = "discard_rate"  # a key every point has: the share of its shots discarded by postselection
SPLIT_ORDER = ("distance", "rounds", "basis", "noise", "family", "code", "decoder")


@dataclass(frozen=True)
class Condition:
    """`key` equal to one of `values` (JSON scalars), as `KEY=V1,V2` spells it (`text`)."""

    key: str
    values: tuple[Any, ...]
    text: str

    def matches(self, point: Point) -> bool:
        """Whether the point's value of `key` equals one of `values` (see the module docstring)."""
        present, value = point_value(point, self.key)
        return present and any(_equal(value, wanted, shown) for wanted, shown in zip(self.values, self.words))

    @property
    def words(self) -> list[str]:
        return self.text.split("=", 1)[1].split(",")


def parse_condition(text: str) -> Condition:
    """A condition from `KEY=VALUE` or `KEY=V1,V2` (any of the values); QecInputError naming `where` if malformed.

    >>> parse_condition("distance=3,5").values
    (3, 5)
    >>> parse_condition("basis=Z").values
    ('Z',)
    """
    key, sign, values = text.partition("=")
    words = values.split(",")
    if not sign or not key.strip() or not all(word.strip() for word in words):
        raise QecInputError(
            f"where={text!r} is not KEY=VALUE: give a metadata key, '=', and a value (or values joined by commas), "
            "e.g. decoder=pymatching or distance=3,5"
        )
    return Condition(key.strip(), tuple(_scalar(word.strip()) for word in words), f"{key.strip()}={values}")


def parse_keys(texts: Iterable[str]) -> tuple[str, ...]:
    """Keys from repeated and comma-separated texts, each once, in order: `["decoder,distance", "basis"]`.

    >>> parse_keys(["decoder, distance", "basis", "decoder"])
    ('decoder', 'distance', 'basis')
    """
    keys: dict[str, None] = {}
    for text in texts:
        for key in text.split(","):
            if key.strip():
                keys[key.strip()] = None
    return tuple(keys)


def point_value(point: Point, key: str) -> tuple[bool, Any]:
    """(whether the point has `key`, its value): `decoder` from the task, `discard_rate` from its counts, any other
    key from its metadata."""
    if key == "decoder":
        return True, point.decoder
    if key == DISCARD_RATE:
        return True, point.discard_rate
    if key in point.metadata:
        return True, point.metadata[key]
    return False, None


def keys_present(points: Iterable[Point]) -> list[str]:
    """Every key some point has, `decoder` included, sorted."""
    keys = {"decoder"}
    for point in points:
        keys.update(point.metadata)
    return sorted(keys)


def check_keys(points: Sequence[Point], keys: Iterable[str], *, name: str) -> None:
    """QecInputError naming `name` (the parameter) and the keys present when one of `keys` is in no point."""
    present = keys_present(points)
    for key in keys:
        if key not in present and key != DISCARD_RATE:
            raise QecInputError(
                f"{name}={key!r} names a key in no point of the store; the keys are: {', '.join(present)}"
            )


def select(points: Iterable[Point], where: Iterable[Condition] = ()) -> list[Point]:
    """The points that meet every condition in `where`.

    >>> from qec.task import Counts
    >>> points = [Point(None, d, 1, None, 0.01, "uf", Counts(10, 1), {"d": d, "distance": d}) for d in (3, 5)]
    >>> [pt.distance for pt in select(points, [parse_condition("d=5")])]
    [5]
    """
    conditions = list(where)
    return [point for point in points if all(condition.matches(point) for condition in conditions)]


@dataclass(frozen=True)
class Curve:
    """The points of one group, sorted by x: `labels` are its (key, value) pairs, group keys then split keys."""

    labels: tuple[tuple[str, Any], ...]
    points: tuple[Point, ...]

    @property
    def label(self) -> str:
        """`key=value, ...` (`-` for a key the points lack), or `all points` when nothing groups them."""
        return ", ".join(f"{key}={_shown(value)}" for key, value in self.labels) or "all points"

    def value(self, key: str) -> Any:
        return dict(self.labels).get(key)


@dataclass(frozen=True)
class Slice:
    """Curves of the points picked by `where`, with `x` on the x axis. `split_by` are the keys added to
    `group_by` because a group repeated an x value; `skipped` says what was passed over, one line each."""

    curves: tuple[Curve, ...]
    x: str
    group_by: tuple[str, ...]
    split_by: tuple[str, ...] = ()
    where: tuple[Condition, ...] = ()
    skipped: tuple[str, ...] = field(default=())

    @property
    def points(self) -> list[Point]:
        return [point for curve in self.curves for point in curve.points]

    def threshold_refusal(self) -> str | None:
        """Why a threshold fit cannot be made of these curves (None when it can): it needs p on the x axis and
        one curve per distance, everything else fixed."""
        if self.x != "p":
            return f"a threshold fit needs p on the x axis, not {self.x}"
        by_distance: dict[Any, Curve] = {}
        for curve in self.curves:
            distances = {point.distance for point in curve.points}
            if None in distances or len(distances) != 1:
                return f"a threshold fit needs one distance per curve; {curve.label} has " + (
                    "points without a distance" if None in distances else "several distances"
                )
            (distance,) = distances
            if distance in by_distance:
                other = by_distance[distance]
                differ = [key for key, value in curve.labels if other.value(key) != value]
                return (
                    f"a threshold fit needs one curve per distance; {other.label} and {curve.label} both have "
                    f"distance {distance} (they differ in {', '.join(differ) or 'their tasks'})"
                )
            by_distance[distance] = curve
        return None


def slice_points(
    points: Sequence[Point],
    *,
    where: Iterable[Condition] = (),
    group_by: Iterable[str] = (),
    x: str = "p",
) -> Slice:
    """The points that meet `where`, grouped into curves by `group_by` (split further where a group repeats an x
    value), with `x`'s numeric values on the x axis (points without one are passed over, and said so).

    Raises QecInputError naming `where`, `group_by` or `x` for a key in no point (listing the keys there are),
    when nothing matches (listing the values the key takes), or when `x` is a number in no picked point.
    """
    conditions, group_keys = tuple(where), tuple(group_by)
    check_keys(points, [condition.key for condition in conditions], name="where")
    check_keys(points, group_keys, name="group_by")
    check_keys(points, [x], name="x")
    picked = list(points)
    for condition in conditions:
        matching = select(picked, [condition])
        if not matching:
            pairs = [point_value(pt, condition.key) for pt in picked]
            values = sorted({_shown(value) for present, value in pairs if present})
            raise QecInputError(
                f"where={condition.text!r} matches no point"
                + (" left by the conditions before it" if condition is not conditions[0] else "")
                + f"; {condition.key} takes the values: {', '.join(values[:20]) or 'none'}"
                + (f" and {len(values) - 20} more" if len(values) > 20 else "")
            )
        picked = matching
    placed = [point for point in picked if _number(point_value(point, x)[1]) is not None]
    if not placed:
        numeric = [key for key in keys_present(picked) if any(x_value(pt, key) == x_value(pt, key) for pt in picked)]
        raise QecInputError(f"x={x!r} is a number in no picked point; the numeric keys are: {', '.join(numeric)}")
    skipped = []
    if len(placed) < len(picked):
        skipped.append(f"skipped {len(picked) - len(placed)} point(s) without a number for {x}")
    keys = list(group_keys)
    split: list[str] = []
    while True:
        curves = _group(placed, keys)
        repeated = [curve for curve in curves if _repeats_x(curve, x)]
        if not repeated:
            break
        varying = {
            key
            for curve in repeated
            for key in keys_present(curve.points)
            if key not in keys and key != x and len({_hashable(point_value(pt, key)) for pt in curve.points}) > 1
        }
        if not varying:
            skipped.append(
                f"{len(repeated)} curve(s) repeat a value of {x} with the same metadata (tasks that differ in their "
                "circuits only); their points are drawn as they are"
            )
            break
        ordered = [key for key in SPLIT_ORDER if key in varying] + sorted(varying - set(SPLIT_ORDER))
        keys.append(ordered[0])
        split.append(ordered[0])
    curves = [
        Curve(curve.labels, tuple(sorted(curve.points, key=lambda pt: _number(point_value(pt, x)[1]) or 0.0)))
        for curve in curves
    ]
    return Slice(tuple(curves), x, group_keys, tuple(split), conditions, tuple(skipped))


def x_value(point: Point, x: str) -> float:
    """The point's value of the key `x` as a float (NaN when it has none)."""
    number = _number(point_value(point, x)[1])
    return math.nan if number is None else number


def _group(points: Sequence[Point], keys: Sequence[str]) -> list[Curve]:
    groups: dict[tuple, list[Point]] = {}
    labels: dict[tuple, tuple[tuple[str, Any], ...]] = {}
    for point in points:
        values = tuple(point_value(point, key)[1] for key in keys)
        identity = tuple(_hashable((True, value)) for value in values)
        groups.setdefault(identity, []).append(point)
        labels.setdefault(identity, tuple(zip(keys, values)))
    order = sorted(groups, key=lambda identity: [_sort_key(value) for _, value in labels[identity]])
    return [Curve(labels[identity], tuple(groups[identity])) for identity in order]


def _repeats_x(curve: Curve, x: str) -> bool:
    values = [x_value(point, x) for point in curve.points]
    return len(set(values)) < len(values)


def _scalar(word: str) -> Any:
    """The JSON scalar `word` spells (number, true, false, null), else the text itself."""
    if word in ("true", "false"):
        return word == "true"
    if word == "null":
        return None
    for kind in (int, float):
        try:
            value = kind(word)
        except ValueError:
            continue
        if isinstance(value, float) and not math.isfinite(value):
            break
        return value
    return word


def _equal(value: Any, wanted: Any, word: str) -> bool:
    if isinstance(wanted, bool) or wanted is None:
        return value is wanted
    if isinstance(wanted, (int, float)):
        number = _number(value)
        if number is not None:
            return math.isclose(number, wanted, rel_tol=1e-12, abs_tol=0.0)
        return isinstance(value, str) and value == word
    return isinstance(value, str) and value == wanted


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _hashable(pair: tuple[bool, Any]) -> Any:
    present, value = pair
    if not present:
        return ("missing",)
    if isinstance(value, (dict, list)):
        return ("json", repr(value))
    number = _number(value)
    return ("number", number) if number is not None else ("value", type(value).__name__, value)


def _sort_key(value: Any) -> tuple:
    number = _number(value)
    if number is not None:
        return (0, number, "")
    return (1 if isinstance(value, str) else 2, 0.0, str(value))


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
