"""Differential privacy for published counts: OpenDP's discrete Laplace mechanism, then
post-processing to non-negative whole numbers that add up. Pure: no database, no Flask.

A **table** is a vector of counts (its cells) and their total. Each case adds at most
``bound`` to the cells (its contribution is bounded when counted, in SQL) and so at most
``bound`` to the total: adding or removing one case moves the vector by at most
``2 * bound`` in L1 distance. OpenDP's ``make_laplace`` on a vector of integers with the L1
distance is the discrete Laplace (two-sided geometric) mechanism; its scale is
``2 * bound / epsilon`` and OpenDP itself checks that the release costs ``epsilon``.

Post-processing (it costs no privacy, it only reads the noisy numbers): the noisy cells are
projected onto the non-negative numbers that add up to the noisy total (clipped at 0), the
closest in squared distance, then rounded to whole numbers keeping the sum (largest
remainders first). Cells that are truly 0 mostly come back as 0.

The 95 % **margin** of a number is the smallest m with P(|noise| <= m) >= 0.95 for the noise
it carries (one draw, or the sum of several when the number is a sum of released cells),
computed exactly from the discrete Laplace distribution. It depends only on the scale, never
on the data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

MECHANISM = "discrete_laplace"
LIBRARY = "OpenDP"
CONFIDENCE = 0.95


class PrivacyError(RuntimeError):
    """The mechanism would not cost what it should (a bug, never bad input)."""


def _opendp() -> object:
    import opendp.prelude as dp

    dp.enable_features("contrib")  # the mechanisms used here are vetted "contrib" features
    return dp


def table_scale(bound: int, epsilon: float) -> float:
    """The noise scale for a table whose cells and total each move by ``bound`` per case."""
    return 2 * bound / epsilon


def noisy_vector(values: Sequence[int], bound: int, epsilon: float) -> list[int]:
    """``values`` (cells then total) with OpenDP's discrete Laplace noise, costing epsilon."""
    dp: object = _opendp()
    space = (
        dp.vector_domain(dp.atom_domain(T="i64")),  # type: ignore[attr-defined]
        dp.l1_distance(T="i64"),  # type: ignore[attr-defined]
    )
    measurement = dp.m.make_laplace(*space, scale=table_scale(bound, epsilon))  # type: ignore[attr-defined]
    spent = measurement.map(2 * bound)
    if spent > epsilon * (1 + 1e-9):
        raise PrivacyError(f"the release would cost {spent}, not {epsilon}")
    return [int(v) for v in measurement([int(v) for v in values])]


def project(cells: Sequence[int], total: int) -> list[int]:
    """Non-negative whole numbers adding up to max(total, 0), closest to ``cells``."""
    target = max(int(total), 0)
    if not cells:
        return []
    if target == 0:
        return [0] * len(cells)
    import numpy as np  # here, not at import: no other command or page needs numpy

    values = np.asarray(cells, dtype=float)
    # Euclidean projection onto the simplex {x >= 0, sum x = target} (Held et al.).
    ordered = np.sort(values)[::-1]
    cumulative = np.cumsum(ordered) - target
    steps = np.arange(1, len(values) + 1)
    rho = int(np.nonzero(ordered - cumulative / steps > 0)[0][-1])
    shift = cumulative[rho] / (rho + 1)
    exact = np.maximum(values - shift, 0.0)
    whole = np.floor(exact + 1e-9).astype(int)
    missing = target - int(whole.sum())
    order = sorted(range(len(values)), key=lambda i: (-(exact[i] - whole[i]), i))
    for i in order[:missing]:
        whole[i] += 1
    return [int(v) for v in whole]


@cache
def margin(scale: float, terms: int = 1) -> int:
    """The 95 % margin of the sum of ``terms`` independent discrete Laplace noises.

    The distribution of the sum is the single one's characteristic function raised to the
    power ``terms`` (a discrete Fourier transform on a circle wide enough that what wraps
    around is negligible).
    """
    import numpy as np  # here, not at import: no other command or page needs numpy

    ratio = math.exp(-1 / scale)
    reach = math.ceil(scale * 40 * math.sqrt(terms)) + 1  # what lies beyond: < exp(-40)
    width = 2 * reach + 1
    support = np.arange(width)
    distance = np.minimum(support, width - support)  # |k| on the circle
    single = (1 - ratio) / (1 + ratio) * ratio**distance
    pmf = np.real(np.fft.ifft(np.fft.fft(single) ** terms))
    covered = pmf[0]
    m = 0
    while covered < CONFIDENCE:
        m += 1
        covered += pmf[m] + pmf[width - m]
    return m


@dataclass(frozen=True)
class NoisyTable:
    """A table's cells and total with noise, before post-processing (never published)."""

    keys: tuple[str, ...]
    cells: tuple[int, ...]
    total: int
    scale: float


@dataclass(frozen=True)
class ReleasedTable:
    """A table after noise and post-processing: cells by key, their total, and the scale."""

    cells: dict[str, int]
    total: int
    scale: float


def noisy_table(
    counts: dict[str, int], keys: Sequence[str], bound: int, epsilon: float
) -> NoisyTable:
    """Noise the cells ``keys`` (every key of the domain, fixed before looking at the data)
    and their total."""
    unknown = set(counts) - set(keys)
    if unknown:
        raise PrivacyError(f"counts outside the table's domain: {sorted(unknown)}")
    values = [int(counts.get(key, 0)) for key in keys]
    noisy = noisy_vector([*values, sum(values)], bound, epsilon)
    return NoisyTable(tuple(keys), tuple(noisy[:-1]), noisy[-1], table_scale(bound, epsilon))


def finish(table: NoisyTable, total: int | None = None) -> ReleasedTable:
    """Post-processing: non-negative whole numbers adding up to ``total`` (by default the
    table's own noisy total, clipped at 0)."""
    cells = project(table.cells, table.total if total is None else total)
    return ReleasedTable(dict(zip(table.keys, cells, strict=True)), sum(cells), table.scale)


def pooled_total(first: NoisyTable, second: NoisyTable) -> int:
    """Two noisy totals of the same count with equal scales, averaged: a better total."""
    return max(0, round((first.total + second.total) / 2))


def pooled_margin(scale: float) -> int:
    """The 95 % margin of the average of two noisy totals."""
    return math.ceil(margin(scale, 2) / 2)
