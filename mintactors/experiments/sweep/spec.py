"""Sweeps: one config, many runs, each with some keys set to other values.

A config file becomes a sweep by adding a ``[sweep]`` table::

    [sweep]
    # every combination (the last key varies fastest)
    grid = { "generator.interval_ns" = [1000, 2000], "generator.size" = [1514, 8192] }
    # and/or an explicit list of runs, each a table of keys to set
    runs = [
        { "generator.size" = 1514, "nic.buffer_size" = 2048 },
        { "generator.size" = 8192, "nic.buffer_size" = 8192 },
    ]
    # optional: which result fields become CSV columns (glob patterns; default: all)
    columns = ["sent", "delivered", "success_rate", "dropped.*"]

A column pattern names a result field by its dotted path (``results.json``'s
keys); one whose first part has no glob character must start with a field
``results.json`` has, or the sweep is refused with the closest names.

Keys are dotted paths into the config (``section.key``, quoted in TOML so the dot
stays in the name; unquoted dotted keys, which TOML turns into nested tables, are
read the same way). With both ``grid`` and ``runs``, every run is combined with
every grid point: runs outer, grid inner. A key may be swept by one of them only.

Every run's config is built and checked before anything runs, so a bad value is
reported as a :class:`~mintactors.errors.ConfigError` naming the file and the sweep
key that produced it, and no run starts. So is a sweep whose runs set no key at
all (an empty run is the base config: useful beside others, pointless alone), a
``columns`` pattern that selects no result field, and a
sweep of more runs than the caller allows (:class:`SweepTooLarge`: the command line
asks before it starts more than :data:`CONFIRM_RUNS` runs).
"""

from __future__ import annotations

import difflib
import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from mintactors.config import Config, apply_overrides, parse_config, read_toml, unknown_key_error
from mintactors.errors import ConfigError
from mintactors.experiments.run import RunResults
from mintactors.experiments.sweep.columns import check_columns

__all__ = [
    "CONFIRM_RUNS",
    "SWEEP_KEYS",
    "Sweep",
    "SweepPoint",
    "SweepTooLarge",
    "load_sweep",
    "parse_sweep",
    "point_config",
    "point_raw",
    "set_path",
]

#: Keys allowed in a ``[sweep]`` table.
SWEEP_KEYS = ("columns", "grid", "runs")

Overrides = tuple[tuple[str, Any], ...]

#: Sweeps of more runs than this need the user's confirmation (``--yes``).
CONFIRM_RUNS = 10_000


class SweepTooLarge(ConfigError):
    """A sweep has more runs than the caller allowed; nothing was checked or run.

    Attributes:
        runs: how many runs the sweep has.
    """

    def __init__(self, source: str, runs: int, limit: int) -> None:
        super().__init__(
            source,
            "sweep",
            f"has {runs:,} runs, more than {limit:,}: confirm with --yes to run them all",
        )
        self.runs = runs


#: Result fields that were renamed or split, with what replaced each and why.
RENAMED_RESULTS: dict[str, tuple[tuple[str, str], ...]] = {
    "reached_socket": (
        ("skb_built", "skbs the driver built and handed to netif_rx"),
        ("queued_on_socket", "skbs queued on the UDP socket"),
    ),
}


@attrs.frozen
class SweepPoint:
    """One run of a sweep: its position and the keys it sets.

    Attributes:
        index: the run's number, from 0, in sweep order.
        overrides: (dotted key, value) pairs, in the order they are applied.
        origin: for each key, where in ``[sweep]`` its value came from
            (``sweep.grid`` or ``sweep.runs[3]``), for error messages.
    """

    index: int
    overrides: Overrides
    origin: tuple[str, ...]

    def values(self) -> dict[str, Any]:
        """The swept keys and their values in this run."""
        return dict(self.overrides)


@attrs.frozen
class Sweep:
    """A checked sweep: the base config, the runs and the result columns wanted.

    Attributes:
        source: the file it came from (for messages).
        base_dir: the directory relative paths in the config (a cost profile) are
            resolved against, as an absolute path string, or None.
        raw: the base config's TOML table, without ``[sweep]``.
        keys: every swept key, in first-appearance order (runs first, then grid).
        points: the runs, in order.
        columns: glob patterns selecting result columns (empty: all).
    """

    source: str
    base_dir: str | None
    raw: Mapping[str, Any]
    keys: tuple[str, ...]
    points: tuple[SweepPoint, ...]
    columns: tuple[str, ...] = ()


def set_path(raw: dict[str, Any], key: str, value: Any, source: str = "sweep") -> None:
    """Set dotted ``key`` in the TOML table ``raw`` (in place), creating tables on the way.

    Raises:
        ConfigError: a path component names something that is not a table.
    """
    parts = key.split(".")
    if any(not p for p in parts):
        raise ConfigError(source, key, "is not a dotted key path like section.key")
    table = raw
    for i, part in enumerate(parts[:-1]):
        nxt = table.setdefault(part, {})
        if not isinstance(nxt, dict):
            raise ConfigError(source, ".".join(parts[: i + 1]), "is not a table")
        table = nxt
    table[parts[-1]] = value


def point_raw(base: Mapping[str, Any], overrides: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``overrides`` applied."""
    raw = apply_overrides(dict(base), ())  # apply_overrides deep-copies
    for key, value in overrides:
        set_path(raw, key, value)
    return raw


def _flatten_keys(table: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Dotted leaf paths of a table: ``{a = {b = 1}}`` and ``{"a.b" = 1}`` give ``a.b``."""
    out: list[tuple[str, Any]] = []
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            out += _flatten_keys(value, key + ".")
        else:
            out.append((key, value))
    return out


def _grid(value: Any, source: str) -> list[tuple[str, list[Any]]]:
    if not isinstance(value, dict):
        raise ConfigError(
            source,
            "sweep.grid",
            'must be a table of key = [values], e.g. { "generator.size" = [1514, 8192] }',
        )
    axes: list[tuple[str, list[Any]]] = []
    for key, values in _flatten_keys(value):
        where = f"sweep.grid.{key}"
        if not isinstance(values, list):
            raise ConfigError(source, where, f"must be an array of values, not {values!r}")
        if not values:
            raise ConfigError(source, where, "must list at least one value")
        axes.append((key, values))
    if not axes:
        raise ConfigError(source, "sweep.grid", "must sweep at least one key")
    return axes


def _runs(value: Any, source: str) -> list[list[tuple[str, Any]]]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(
            source,
            "sweep.runs",
            'must be an array of tables, e.g. [{ "generator.size" = 1514 }, ...]',
        )
    if not value:
        raise ConfigError(source, "sweep.runs", "must list at least one run")
    return [_flatten_keys(entry) for entry in value]


def _columns(value: Any, source: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(
            source, "sweep.columns", 'must be an array of result-field patterns, e.g. ["sent"]'
        )
    fields = [name for name in RunResults.field_names() if name != "config"]
    for i, pattern in enumerate(value):
        head = pattern.split(".", 1)[0]
        if head in fields or any(c in head for c in "*?["):
            continue
        key = f"sweep.columns[{i}]"
        renamed = RENAMED_RESULTS.get(head)
        if renamed is not None:
            choices = " or ".join(f"'{new}' ({meaning})" for new, meaning in renamed)
            raise ConfigError(
                source, key, f"'{head}' is no longer a result field; did you mean {choices}?"
            )
        close = difflib.get_close_matches(head, fields, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise ConfigError(
            source,
            key,
            f"no result field '{head}'; {hint}result fields: {', '.join(sorted(fields))}",
        )
    return tuple(value)


def _expand(
    runs: list[list[tuple[str, Any]]], axes: list[tuple[str, list[Any]]]
) -> list[SweepPoint]:
    grid_keys = [k for k, _ in axes]
    points: list[SweepPoint] = []
    for r, run in enumerate(runs):
        for combo in itertools.product(*(values for _, values in axes)):
            overrides = (*run, *zip(grid_keys, combo, strict=True))
            origin = (*[f"sweep.runs[{r}]"] * len(run), *["sweep.grid"] * len(grid_keys))
            points.append(SweepPoint(len(points), tuple(overrides), tuple(origin)))
    return points


def point_config(sweep: Sweep, point: SweepPoint) -> Config:
    """Build one run's config, blaming the sweep key when its value is the problem.

    Raises:
        ConfigError: naming the sweep key (and run) responsible.
    """
    raw = point_raw(sweep.raw, point.overrides)
    base_dir = Path(sweep.base_dir) if sweep.base_dir is not None else None
    try:
        return parse_config(raw, sweep.source, base_dir)
    except ConfigError as exc:
        for (key, value), origin in zip(point.overrides, point.origin, strict=True):
            if exc.key == key or exc.key.startswith(key + ".") or exc.key.startswith(key + "["):
                where = f"{origin}.{exc.key}"
                raise ConfigError(
                    sweep.source, where, f"value {value!r} (run {point.index}): {exc.problem}"
                ) from None
            # A key the config does not have at all fails at its first unknown part.
            if key.startswith(exc.key + ".") and "unknown key" in exc.problem:
                raise ConfigError(sweep.source, f"{origin}.{key}", exc.problem) from None
        raise ConfigError(
            sweep.source, exc.key, f"{exc.problem} (in sweep run {point.index})"
        ) from None


def parse_sweep(
    raw: Mapping[str, Any],
    source: str,
    base_dir: Path | None = None,
    *,
    max_runs: int | None = None,
) -> Sweep:
    """Check a config table with a ``[sweep]`` table and expand it into runs.

    Every run's config is built and checked here.

    Args:
        raw: the parsed TOML.
        source: the file it came from (for messages).
        base_dir: where relative paths in the config are resolved.
        max_runs: refuse a sweep of more runs than this, before checking them.

    Raises:
        SweepTooLarge: more than ``max_runs`` runs.
        ConfigError: no ``[sweep]`` table, a malformed one, a run that sets nothing,
            a ``columns`` pattern that selects nothing, or a run whose config is not
            valid (naming the sweep key responsible).
    """
    if "sweep" not in raw:
        raise ConfigError(source, "sweep", "is missing: a sweep config needs a [sweep] table")
    spec = raw["sweep"]
    if not isinstance(spec, dict):
        raise ConfigError(source, "sweep", "must be a table")
    for name in spec:
        if name not in SWEEP_KEYS:
            raise unknown_key_error(source, f"sweep.{name}", name, list(SWEEP_KEYS))
    if "grid" not in spec and "runs" not in spec:
        raise ConfigError(source, "sweep", "needs a grid, a list of runs, or both")
    axes = _grid(spec["grid"], source) if "grid" in spec else []
    runs = _runs(spec["runs"], source) if "runs" in spec else [[]]
    if not axes and not any(runs):
        # An empty run is the base config, which is worth having beside others;
        # a sweep of nothing else is the base config again and again.
        raise ConfigError(
            source,
            "sweep.runs",
            "no run sets a key, so every run would be the base config; give a run a "
            'key to set, e.g. { "generator.size" = 1514 }',
        )
    grid_keys = {k for k, _ in axes}
    keys: list[str] = []
    for r, run in enumerate(runs):
        seen: set[str] = set()
        for key, _ in run:
            if key in grid_keys:
                raise ConfigError(
                    source,
                    f"sweep.runs[{r}].{key}",
                    "is also swept by sweep.grid; sweep each key in one place",
                )
            if key in seen:
                raise ConfigError(source, f"sweep.runs[{r}].{key}", "is set twice")
            seen.add(key)
            if key not in keys:
                keys.append(key)
    keys += [k for k, _ in axes]
    count = len(runs) * math.prod(len(values) for _, values in axes)
    if max_runs is not None and count > max_runs:
        raise SweepTooLarge(source, count, max_runs)
    columns = _columns(spec["columns"], source) if "columns" in spec else ()
    base = {k: v for k, v in raw.items() if k != "sweep"}
    sweep = Sweep(
        source=source,
        base_dir=str(base_dir.resolve()) if base_dir is not None else None,
        raw=base,
        keys=tuple(keys),
        points=tuple(_expand(runs, axes)),
        columns=columns,
    )
    for point in sweep.points:
        point_config(sweep, point)
    if columns:
        check_columns(columns, _configs(sweep), source)
    return sweep


def _configs(sweep: Sweep) -> Iterator[Config]:
    for point in sweep.points:
        yield point_config(sweep, point)


def load_sweep(
    path: str | Path, assignments: Sequence[str] = (), *, max_runs: int | None = None
) -> Sweep:
    """Read the sweep config at ``path``; ``assignments`` (``--set``) change the base.

    Raises:
        SweepTooLarge: more than ``max_runs`` runs.
        ConfigError: an unreadable file, bad TOML, or any problem :func:`parse_sweep` finds.
    """
    return parse_sweep(
        read_toml(path, assignments), str(path), Path(path).parent, max_runs=max_runs
    )
