"""The syndrome schedule of a CSS code's memory circuit, and the edge colouring that packs it into CNOT layers.

A `SyndromeSchedule` is the record that `qec.codes.css` builds its circuit from and that every schedule maker
returns: `qec.codes.schedules.hook_aware_schedule` (`css`'s default), `sequential_schedule` here (the generic
order), and the families' own (`bb`, `hgp`). It lives apart from both `css` and `schedules` so that each imports
it and neither imports the other's module for it.

>>> import numpy as np
>>> hamming = np.array([[1, 0, 1, 0, 1, 0, 1], [0, 1, 1, 0, 0, 1, 1], [0, 0, 0, 1, 1, 1, 1]])
>>> schedule = sequential_schedule(hamming, hamming)
>>> len(schedule.layers)  # Z checks, then X checks: each type in as many layers as its largest degree (4)
8
>>> schedule.check(hamming, hamming)  # every (check, qubit) edge once, no clash in a layer
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from qec.errors import QecInputError


@dataclass(frozen=True, eq=False)
class SyndromeSchedule:
    """The CNOT layers of one syndrome round: `layers[t]` is an int array of shape (edges, 2) whose rows are
    (check, qubit), checks numbered X checks first (0..mx-1), then Z checks (mx..mx+mz-1). Every edge of the
    Tanner graph appears in exactly one layer, and no ancilla or data qubit twice in a layer."""

    layers: tuple[np.ndarray, ...]
    description: str

    def check(self, hx: np.ndarray, hz: np.ndarray) -> None:
        """Raises QecInputError unless the layers cover each check-qubit edge of `hx`, `hz` once, without clashes."""
        mx, n = hx.shape
        expected = np.concatenate([_edges(hx), _edges(hz) + np.array([mx, 0])])
        given = np.concatenate(list(self.layers)) if self.layers else np.zeros((0, 2), dtype=np.int64)
        if sorted(map(tuple, expected.tolist())) != sorted(map(tuple, given.tolist())):
            raise QecInputError("schedule must hold each (check, qubit) edge of hx and hz exactly once")
        for t, layer in enumerate(self.layers):
            if len(np.unique(layer[:, 0])) < len(layer) or len(np.unique(layer[:, 1])) < len(layer):
                raise QecInputError(f"schedule layer {t} uses a check or a qubit twice")


def _edges(matrix: np.ndarray) -> np.ndarray:
    """The (row, column) pairs where `matrix` is 1, shape (edges, 2), row-major order."""
    return np.argwhere(matrix).astype(np.int64)


def edge_colouring(edges: np.ndarray) -> np.ndarray:
    """Colours (layer indices) for the edges (check, qubit) of a bipartite graph, using as many colours as its
    largest degree (Koenig): no check and no qubit has two edges of one colour. Alternating-path recolouring.

    >>> edge_colouring(np.array([[0, 0], [0, 1], [1, 0], [1, 1]])).tolist()
    [1, 0, 0, 1]
    """
    if len(edges) == 0:
        return np.zeros(0, dtype=np.int64)
    checks = int(edges[:, 0].max()) + 1
    nodes = [(int(c), checks + int(q)) for c, q in edges]
    degree = np.bincount(np.array(nodes).ravel())
    colours = int(degree.max())
    at: list[dict[int, int]] = [dict() for _ in range(len(degree))]  # node -> {colour: neighbour}
    for u, v in nodes:
        alpha = next(c for c in range(colours) if c not in at[u])
        beta = next(c for c in range(colours) if c not in at[v])
        if alpha in at[v]:
            # Swap alpha and beta along the alternating path from v; u is never on it (bipartite), and afterwards
            # alpha is free at v.
            path = [v]
            colour = alpha
            while colour in at[path[-1]]:
                path.append(at[path[-1]][colour])
                colour = beta if colour == alpha else alpha
            pairs = []
            colour = alpha
            for a, b in zip(path, path[1:]):
                pairs.append((a, b, colour))
                colour = beta if colour == alpha else alpha
            for a, b, c in pairs:
                del at[a][c]
                del at[b][c]
            for a, b, c in pairs:
                swapped = beta if c == alpha else alpha
                at[a][swapped] = b
                at[b][swapped] = a
        at[u][alpha] = v
        at[v][alpha] = u
    colour_of = {}
    for node, neighbours in enumerate(at):
        for colour, other in neighbours.items():
            colour_of[(node, other)] = colour
    return np.array([colour_of[(u, v)] for u, v in nodes], dtype=np.int64)


def layered(groups: Sequence[np.ndarray]) -> tuple[np.ndarray, ...]:
    """The layers of edge groups run one group after another, each group packed into its fewest layers
    (`edge_colouring`). Each group is an int array (edges, 2) of (check, qubit) in the combined check numbering."""
    layers: list[np.ndarray] = []
    for group in groups:
        group = np.asarray(group, dtype=np.int64).reshape(-1, 2)
        if len(group) == 0:
            continue
        colours = edge_colouring(group)
        layers.extend(group[colours == c] for c in range(int(colours.max()) + 1))
    return tuple(layers)


def sequential_schedule(hx: np.ndarray, hz: np.ndarray) -> SyndromeSchedule:
    """All Z checks, then all X checks, each type in as few CNOT layers as its largest degree, each check's order
    left to the colouring (hook errors not chosen; `css`'s default, `qec.codes.schedules.hook_aware_schedule`,
    chooses them)."""
    mx = hx.shape[0]
    return SyndromeSchedule(
        layered([_edges(hz) + np.array([mx, 0]), _edges(hx)]),
        "Z checks then X checks, each packed by an edge colouring (generic order, hook errors not chosen)",
    )
