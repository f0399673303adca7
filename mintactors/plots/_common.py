"""What every plot shares: its error, a fixed style and size, and an atomic PNG save.

Determinism: a figure is built and drawn inside :func:`fixed_style`, which starts
from matplotlib's built-in defaults (so a user's ``matplotlibrc`` or style sheet
cannot change the pixels), at a fixed size and DPI; :func:`save_png` drops the
only varying PNG metadata (``Software``, which names the matplotlib version) and
writes no timestamp. The same input and the same matplotlib give the same bytes.

matplotlib is imported inside the functions that need it, so importing
:mod:`mintactors.plots` (and the CLI that lists the ``plot`` command) stays cheap.
Figures are made with ``matplotlib.figure.Figure`` directly, not pyplot: no global
figure registry to leak into, and no backend is chosen, so no display is ever
touched (saving a PNG uses the Agg renderer).
"""

from __future__ import annotations

import contextlib
import difflib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mintactors.errors import MintactorsError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

__all__ = [
    "DPI",
    "PANEL_HEIGHT_IN",
    "PlotError",
    "WIDTH_IN",
    "did_you_mean",
    "fixed_style",
    "new_figure",
    "plural",
    "save_png",
    "whole_numbers",
]

#: Figure width in inches; each panel adds PANEL_HEIGHT_IN of height.
WIDTH_IN = 8.0
PANEL_HEIGHT_IN = 4.5
#: Pixels per inch: an 8 x 4.5 in panel is 800 x 450 px.
DPI = 100


class PlotError(MintactorsError):
    """An input cannot be plotted: missing, empty, malformed, or lacking a column.

    Attributes:
        source: the file at fault (or the option, for a bad output path).
        problem: what is wrong, and what would do.
    """

    def __init__(self, source: Path | str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = str(source)
        self.problem = problem


def did_you_mean(name: str, choices: Sequence[str]) -> str:
    """`` (did you mean 'a' or 'b'?)`` for the choices closest to ``name``, or ``""``.

    A choice whose last dotted parts are ``name`` comes first, so ``interval_ns``
    suggests ``generator.interval_ns`` even where difflib scores it low.
    """
    suffixed = [c for c in choices if c.endswith("." + name)]
    close = [c for c in difflib.get_close_matches(name, choices, n=3) if c not in suffixed]
    found = (suffixed + close)[:3]
    return f" (did you mean {' or '.join(repr(c) for c in found)}?)" if found else ""


@contextlib.contextmanager
def fixed_style() -> Iterator[None]:
    """matplotlib's built-in defaults plus our few settings, whatever the user's rc."""
    # Imported here, not at the top, so that importing mintactors loads no matplotlib.
    import matplotlib as mpl  # noqa: PLC0415
    import matplotlib.style  # noqa: PLC0415

    # A few settings on top of the defaults, the same for every plot.
    settings: dict[RcKeyType, Any] = {
        "axes.grid": True,
        "grid.alpha": 0.3,
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "legend.fontsize": "small",
    }
    with matplotlib.style.context("default"), mpl.rc_context(settings):
        yield


def new_figure(panels: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure of ``panels`` axes stacked vertically, at the fixed width and DPI.

    Call it inside :func:`fixed_style`, so the axes take the fixed settings.
    """
    from matplotlib.figure import Figure  # noqa: PLC0415 (as above: only when drawing)

    fig = Figure(figsize=(WIDTH_IN, PANEL_HEIGHT_IN * panels), dpi=DPI, layout="constrained")
    axes = [fig.add_subplot(panels, 1, i + 1) for i in range(panels)]
    return fig, axes


def whole_numbers(axis: Axis) -> None:
    """Ticks at whole numbers only, for an axis of counts (packets, descriptors, runs)."""
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415 (only when drawing)

    axis.set_major_locator(MaxNLocator(integer=True))


def plural(count: int, noun: str) -> str:
    """``1 violation``, ``2 violations``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def save_png(fig: Figure, path: Path | str) -> Path:
    """Write ``fig`` as a PNG to ``path``, atomically, with the same bytes every time.

    The image goes to a temporary file beside ``path`` that is renamed over it only
    once complete: on any failure nothing is left behind, and a file already at
    ``path`` is kept as it was.

    Raises:
        PlotError: the file cannot be written (the message names the reason).
    """
    target = Path(path)
    if target.is_dir():
        raise PlotError(target, "is a directory; give the name of the PNG file to write")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        temporary = Path(name)
        try:
            with os.fdopen(fd, "wb") as stream, fixed_style():
                os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 is for secrets, not images
                # Software names the matplotlib version; the PNG writer adds no date.
                fig.savefig(stream, format="png", dpi=DPI, metadata={"Software": None})
            temporary.replace(target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise PlotError(target, f"cannot write: {exc.strerror or exc}") from None
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
