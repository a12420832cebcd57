"""Turning a space into design points: the full grid, or seeded random / Latin-hypercube samples.

Points stream out one at a time (a million-point grid never sits in memory). Random and LHS draws are
seeded (``numpy.random.default_rng(seed)``), so a space gives the same points on every run; a draw that
repeats an earlier assignment (likely when parameters are discrete) is dropped, so every point is unique;
the ids of drawn points are remembered for that (about 60 bytes a point, no rows).

Latin hypercube (McKay, Beckman & Conover 1979): for N samples each dimension is cut into N equal strata and
every stratum holds exactly one sample, ``u = (permutation(N) + uniform) / N``; a discrete parameter with k
values maps ``u`` to value ``floor(u k)``, so each value is drawn N/k times (+-1).
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator

import numpy as np

from hwsim.sweep.space import SpaceSpec, point_id

RANDOM_BLOCK = 4096  # random draws are made in blocks of this many points (fixed: it shapes the stream)


def lhs_unit(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """An (n, d) Latin-hypercube sample of [0, 1)^d: each column has one value in each of n strata.

    >>> u = lhs_unit(5, 2, np.random.default_rng(0))
    >>> sorted((u[:, 0] * 5).astype(int).tolist())
    [0, 1, 2, 3, 4]
    """
    perms = np.stack([rng.permutation(n) for _ in range(d)], axis=1) if d else np.empty((n, 0))
    return (perms + rng.random((n, d))) / n


def unit_draws(space: SpaceSpec) -> Iterator[np.ndarray]:
    """Rows of quantiles in [0, 1)^d for random or lhs sampling (before mapping to values)."""
    d, n = len(space.params), int(space.samples or 0)
    rng = np.random.default_rng(space.seed)
    if space.sampling == "lhs":
        yield from lhs_unit(n, d, rng)
        return
    for start in range(0, n, RANDOM_BLOCK):
        yield from rng.random((min(RANDOM_BLOCK, n - start), d))


def assignments(space: SpaceSpec) -> Iterator[dict[str, Any]]:
    """Every design point of ``space`` as ``{dotted path: value}``, before constraints, in a fixed order.

    >>> from hwsim.sweep.space import load_space
    >>> s = load_space({"params": {"a": [1, 2], "b": ["x", "y"]}})
    >>> [tuple(p.values()) for p in assignments(s)]
    [(1, 'x'), (1, 'y'), (2, 'x'), (2, 'y')]
    """
    names = space.names
    specs = [space.params[n] for n in names]
    if space.sampling == "grid":
        for combo in itertools.product(*(p.grid() for p in specs)):
            yield dict(zip(names, combo))
        return
    seen: set[int] = set()  # ids of the points drawn so far, as 64-bit ints (about 60 bytes a point)
    for u in unit_draws(space):
        a = dict(zip(names, (p.draw(float(x)) for p, x in zip(specs, u))))
        key = int(point_id(a), 16)
        if key not in seen:
            seen.add(key)
            yield a
