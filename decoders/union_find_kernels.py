"""Numba kernels of the union-find decoder: weighted cluster growth and peeling over a batch of shots.

The graph is given as arrays (see `qec.decoders.dem_arrays.MatchingGraph`); the last node is the
boundary. One call decodes a whole bit-packed batch; every work array is allocated once per call and
only the entries a shot touched are reset after it. `decode_batch` allocates; its loop over shots,
`_decode_shots`, reads as Delfosse & Nickerson's steps, each a small function inlined into it:

1. `_read_defects`: the shot's detection events; every defect starts as an odd one-node cluster.
2. `_pair_isolated_defects`: pairs of adjacent defects that growth would join first, joined at once.
3. Until no odd cluster away from the boundary is left: `_grow` the smallest odd clusters until the
   next edge completes, `_merge` the clusters at both ends of each completed edge (the joining edges
   form a spanning forest), and keep the `_odd_clusters` growing.
4. `_peel`: the forest, from its leaves, gives the correction and its observables.
5. `_reset_nodes` and `_reset_edges`: what the shot touched, for the next one.

`decode_batch_heralded` decodes with a shot's heralds (`qec.decoders.heralds`): a heralded edge is absent
(never grown) unless its herald fired; then it has its weight given the herald. Before step 2,
`_set_fired_edges` puts the fired heralds' edges in (O(fired heralds' edges), not O(edges)), and the
erased ones (weight 0: probability >= 1/2 given the herald) are joined at once by `_merge`: clusters start
as the erased edges' components, then grow, which is Delfosse and Zemor's peeling decoder for erasures
(Phys. Rev. Research 2, 033042 (2020)), followed by union-find growth where defects are left.
`_reset_fired_edges` takes them out again after the shot. `decode_batch` is `decode_batch_heralded` without heralds.

>>> import numpy as np
>>> from qec.decoders.union_find_kernels import decode_batch
>>> # a 3-node chain 0 - 1 - boundary(2); edge 1 flips observable 0
>>> endpoints = np.array([[0, 1], [1, 2]], dtype=np.int32)
>>> offsets = np.array([0, 1, 3, 4], dtype=np.int32)
>>> node_edges = np.array([0, 0, 1, 1], dtype=np.int32)
>>> node_neighbors = np.array([1, 0, 2, 1], dtype=np.int32)
>>> weights = np.array([1.0, 1.0])
>>> observables = np.array([[0], [1]], dtype=np.uint8)
>>> shots = np.array([[0b01], [0b11], [0b10]], dtype=np.uint8)
>>> decode_batch(shots, offsets, node_edges, node_neighbors, endpoints, weights, observables)[:, 0].tolist()
[1, 0, 1]
"""

from __future__ import annotations

import numba
import numpy as np

_GROWN_TOLERANCE = 1e-9


@numba.njit(cache=True)
def decode_batch(
    detection_events: np.ndarray,
    node_edge_offsets: np.ndarray,
    node_edges: np.ndarray,
    node_neighbors: np.ndarray,
    edge_endpoints: np.ndarray,
    edge_weights: np.ndarray,
    edge_observables: np.ndarray,
) -> np.ndarray:
    """Union-find decoding (Delfosse & Nickerson) with weighted growth, of every shot in the batch.

    The odd clusters away from the boundary grow, the smallest (fewest nodes) first as in Delfosse &
    Nickerson's weighted growth; each step grows every edge on those clusters' borders by the amount
    that completes the nearest one (an edge between two growing clusters grows from both ends, so
    twice as fast).
    A completed edge joins its two clusters; a cluster that reaches the boundary is neutral. The
    edges that joined clusters form a spanning forest, rooted at the boundary where it is reached,
    which is then peeled from its leaves. Isolated pairs of adjacent defects (most defects at low
    noise) are joined before the growth starts, exactly as the growth would join them.

    Args:
        detection_events: uint8 (shots, ceil(num_detectors / 8)), bit-packed little-endian
            (detector m of shot s is `(detection_events[s, m // 8] >> (m % 8)) & 1`).
        node_edge_offsets: int32 (num_nodes + 1,), CSR offsets into `node_edges`; node num_nodes - 1
            is the boundary.
        node_edges: int32 (2 * num_edges,), the edges at each node.
        node_neighbors: int32 (2 * num_edges,), the node at the other end of each of `node_edges`.
        edge_endpoints: int32 (num_edges, 2), each edge's two nodes.
        edge_weights: float64 (num_edges,), each edge's weight >= 0 (log((1 - p) / p)).
        edge_observables: uint8 (num_edges, observable_bytes), the observables each edge flips, bit-packed.

    Returns:
        uint8 (shots, observable_bytes): the predicted observable flips, bit-packed like the input.
    """
    no_heralds = np.zeros((detection_events.shape[0], 0), dtype=np.uint8)
    no_offsets = np.zeros(1, dtype=np.int64)
    no_edges = np.zeros(0, dtype=np.int64)
    return decode_batch_heralded(
        detection_events,
        no_heralds,
        no_offsets,
        no_edges,
        node_edge_offsets,
        node_edges,
        node_neighbors,
        edge_endpoints,
        edge_weights,
        edge_observables,
    )


@numba.njit(cache=True)
def decode_batch_heralded(
    detection_events: np.ndarray,
    fired_heralds: np.ndarray,
    herald_offsets: np.ndarray,
    herald_edges: np.ndarray,
    node_edge_offsets: np.ndarray,
    node_edges: np.ndarray,
    node_neighbors: np.ndarray,
    edge_endpoints: np.ndarray,
    edge_weights: np.ndarray,
    edge_observables: np.ndarray,
) -> np.ndarray:
    """`decode_batch` with each shot's heralds: a heralded edge is in a shot's graph only if its herald fired.

    A fired herald's edges take their weight from `edge_weights` (the weight given the herald); those of
    weight 0 are erased: fully grown before the growth starts (their components are the first clusters).

    Args:
        detection_events: uint8 (shots, ceil(num_detectors / 8)), the non-herald detectors' events, bit-packed
            little-endian as in `decode_batch` (the graph's nodes are these detectors and the boundary).
        fired_heralds: uint8 (shots, ceil(num_heralds / 8)), the fired heralds, bit-packed the same way.
        herald_offsets: int64 (num_heralds + 1,), CSR offsets into `herald_edges`.
        herald_edges: int64, the edges of each herald (each heralded edge under exactly one herald).
        edge_weights: float64 (num_edges,), each unheralded edge's weight and each heralded edge's weight given
            its herald, all >= 0.
        the others: as in `decode_batch`.

    Returns:
        uint8 (shots, observable_bytes): the predicted observable flips, bit-packed like the input.

    >>> # 0 - 1 - boundary(2) as in the module's example, and a heralded edge 0 - 2 (herald 0, erased)
    >>> endpoints = np.array([[0, 1], [1, 2], [0, 2]], dtype=np.int32)
    >>> offsets = np.array([0, 2, 4, 6], dtype=np.int32)
    >>> node_edges = np.array([0, 2, 0, 1, 1, 2], dtype=np.int32)
    >>> node_neighbors = np.array([1, 2, 0, 2, 1, 0], dtype=np.int32)
    >>> weights = np.array([1.0, 1.0, 0.0])
    >>> observables = np.array([[0], [1], [2]], dtype=np.uint8)
    >>> shots = np.array([[0b01], [0b01]], dtype=np.uint8)
    >>> fired = np.array([[0], [1]], dtype=np.uint8)
    >>> herald_offsets, herald_edges = np.array([0, 1]), np.array([2])
    >>> decode_batch_heralded(shots, fired, herald_offsets, herald_edges, offsets, node_edges, node_neighbors,
    ...                       endpoints, weights, observables)[:, 0].tolist()
    [1, 2]
    """
    shots = detection_events.shape[0]
    num_nodes = node_edge_offsets.shape[0] - 1
    boundary = num_nodes - 1
    num_edges = edge_weights.shape[0]
    observable_bytes = edge_observables.shape[1]
    predictions = np.zeros((shots, observable_bytes), dtype=np.uint8)

    # Node state: union-find forest, cluster parity, boundary contact, border-node linked lists.
    parent = np.arange(num_nodes, dtype=np.int32)
    size = np.ones(num_nodes, dtype=np.int32)
    odd = np.zeros(num_nodes, dtype=np.bool_)
    neutral = np.zeros(num_nodes, dtype=np.bool_)
    defect = np.zeros(num_nodes, dtype=np.bool_)
    reached = np.zeros(num_nodes, dtype=np.bool_)
    list_head = np.arange(num_nodes, dtype=np.int32)
    list_tail = np.arange(num_nodes, dtype=np.int32)
    list_next = np.full(num_nodes, -1, dtype=np.int32)
    tree_degree = np.zeros(num_nodes, dtype=np.int32)
    tree_edges_xor = np.zeros(num_nodes, dtype=np.int32)
    head_start = np.zeros(num_nodes, dtype=np.float64)
    active_stamp = np.zeros(num_nodes, dtype=np.int64)
    reached_nodes = np.empty(num_nodes, dtype=np.int32)
    active = np.empty(num_nodes, dtype=np.int32)
    leaves = np.empty(num_nodes, dtype=np.int32)
    # Edge state: growth so far (set when first touched), growth rate this step (0, 1 or 2), done (grown,
    # or inside one cluster).
    growth = np.empty(num_edges, dtype=np.float64)
    rate = np.zeros(num_edges, dtype=np.int32)
    done = np.zeros(num_edges, dtype=np.bool_)
    # This shot's weights: heralded edges absent (done, weight inf) until their herald fires.
    weights = edge_weights.copy()
    for index in range(herald_edges.shape[0]):
        weights[herald_edges[index]] = np.inf
        done[herald_edges[index]] = True
    fired_edges = np.empty(herald_edges.shape[0], dtype=np.int32)
    saved_nodes = np.empty(2 * herald_edges.shape[0], dtype=np.int32)
    saved_lightest = np.empty(2 * herald_edges.shape[0], dtype=np.float64)
    touched = np.zeros(num_edges, dtype=np.bool_)
    touched_edges = np.empty(num_edges, dtype=np.int32)
    frontier = np.empty(num_edges, dtype=np.int32)
    grown = np.empty(num_edges, dtype=np.int32)
    neutral[boundary] = True
    list_head[boundary] = -1
    # The lightest edge at each node and in the graph, for spotting isolated pairs of defects.
    lightest = np.full(num_nodes, np.inf)
    for edge in range(num_edges):
        for node in (edge_endpoints[edge, 0], edge_endpoints[edge, 1]):
            lightest[node] = min(lightest[node], weights[edge])
    graph_lightest = lightest.min()

    _decode_shots(
        detection_events,
        fired_heralds,
        herald_offsets,
        herald_edges,
        edge_weights,
        fired_edges,
        saved_nodes,
        saved_lightest,
        node_edge_offsets,
        node_edges,
        node_neighbors,
        edge_endpoints,
        weights,
        edge_observables,
        lightest,
        graph_lightest,
        parent,
        size,
        odd,
        neutral,
        defect,
        reached,
        list_head,
        list_tail,
        list_next,
        tree_degree,
        tree_edges_xor,
        head_start,
        active_stamp,
        reached_nodes,
        active,
        leaves,
        growth,
        rate,
        done,
        touched,
        touched_edges,
        frontier,
        grown,
        predictions,
    )
    return predictions


# No reference counting here (`_nrt=False`), and inlined into `decode_batch` by LLVM (`forceinline`):
# the steps are inlined, and an inlined function's array arguments would otherwise be reference-counted
# at every call (~7% of the decoding time); inlined, LLVM knows the work arrays do not overlap. The
# function allocates nothing; `decode_batch` owns every array.
@numba.njit(cache=True, _nrt=False, forceinline=True)  # type: ignore[call-overload]  # _nrt: not in the stubs
def _decode_shots(
    detection_events: np.ndarray,
    fired_heralds: np.ndarray,
    herald_offsets: np.ndarray,
    herald_edges: np.ndarray,
    herald_weights: np.ndarray,
    fired_edges: np.ndarray,
    saved_nodes: np.ndarray,
    saved_lightest: np.ndarray,
    node_edge_offsets: np.ndarray,
    node_edges: np.ndarray,
    node_neighbors: np.ndarray,
    edge_endpoints: np.ndarray,
    edge_weights: np.ndarray,
    edge_observables: np.ndarray,
    lightest: np.ndarray,
    graph_lightest: float,
    parent: np.ndarray,
    size: np.ndarray,
    odd: np.ndarray,
    neutral: np.ndarray,
    defect: np.ndarray,
    reached: np.ndarray,
    list_head: np.ndarray,
    list_tail: np.ndarray,
    list_next: np.ndarray,
    tree_degree: np.ndarray,
    tree_edges_xor: np.ndarray,
    head_start: np.ndarray,
    active_stamp: np.ndarray,
    reached_nodes: np.ndarray,
    active: np.ndarray,
    leaves: np.ndarray,
    growth: np.ndarray,
    rate: np.ndarray,
    done: np.ndarray,
    touched: np.ndarray,
    touched_edges: np.ndarray,
    frontier: np.ndarray,
    grown: np.ndarray,
    predictions: np.ndarray,
) -> None:
    """Decodes every shot into `predictions`, step by step; the arrays are `decode_batch_heralded`'s (heralds,
    graph, then work space); `edge_weights` is the shot's (heralded edges inf until fired), `herald_weights` the
    caller's.

    Work arrays come in as allocated and are left so: each shot resets what it touched.
    """
    boundary = node_edge_offsets.shape[0] - 2
    step_id = 0
    for shot in range(detection_events.shape[0]):
        num_active = _read_defects(detection_events[shot], defect, odd, reached, reached_nodes, active)
        if num_active == 0:
            continue
        num_reached = num_active
        num_fired, num_erased, num_saved, shot_lightest = _set_fired_edges(
            fired_heralds[shot],
            herald_offsets,
            herald_edges,
            herald_weights,
            edge_endpoints,
            graph_lightest,
            edge_weights,
            done,
            lightest,
            fired_edges,
            grown,
            saved_nodes,
            saved_lightest,
        )
        if num_erased > 0:
            num_reached = _merge(
                num_erased,
                grown,
                num_reached,
                edge_endpoints,
                boundary,
                parent,
                size,
                odd,
                neutral,
                reached,
                reached_nodes,
                list_head,
                list_next,
                list_tail,
                tree_degree,
                tree_edges_xor,
            )
            _count_erased_as_one(num_erased, grown, edge_endpoints, parent, size)
            step_id += 1
            num_active = _odd_clusters(num_active, active, step_id, parent, odd, neutral, active_stamp)
        num_active, num_touched = _pair_isolated_defects(
            num_active,
            active,
            node_edge_offsets,
            node_edges,
            node_neighbors,
            edge_endpoints,
            edge_weights,
            lightest,
            shot_lightest,
            num_erased > 0,
            defect,
            parent,
            size,
            odd,
            neutral,
            list_next,
            list_tail,
            tree_degree,
            tree_edges_xor,
            head_start,
            done,
            touched,
            touched_edges,
        )

        while num_active > 0:
            num_grown, num_touched = _grow(
                num_active,
                active,
                num_touched,
                node_edge_offsets,
                node_edges,
                node_neighbors,
                edge_weights,
                parent,
                size,
                neutral,
                list_head,
                list_next,
                list_tail,
                head_start,
                growth,
                rate,
                done,
                touched,
                touched_edges,
                frontier,
                grown,
            )
            num_reached = _merge(
                num_grown,
                grown,
                num_reached,
                edge_endpoints,
                boundary,
                parent,
                size,
                odd,
                neutral,
                reached,
                reached_nodes,
                list_head,
                list_next,
                list_tail,
                tree_degree,
                tree_edges_xor,
            )
            _count_erased_as_one(num_erased, grown, edge_endpoints, parent, size)
            step_id += 1
            num_active = _odd_clusters(num_active, active, step_id, parent, odd, neutral, active_stamp)

        _peel(
            num_reached,
            reached_nodes,
            boundary,
            edge_endpoints,
            edge_observables,
            defect,
            tree_degree,
            tree_edges_xor,
            leaves,
            predictions[shot],
        )
        _reset_nodes(
            num_reached,
            reached_nodes,
            boundary,
            parent,
            size,
            odd,
            neutral,
            defect,
            reached,
            list_head,
            list_tail,
            list_next,
            tree_degree,
            tree_edges_xor,
            head_start,
        )
        _reset_edges(num_touched, touched_edges, done, touched)
        _reset_fired_edges(num_fired, fired_edges, num_saved, saved_nodes, saved_lightest, edge_weights, done, lightest)


@numba.njit(cache=True, inline="always")
def _set_fired_edges(
    fired_heralds: np.ndarray,
    herald_offsets: np.ndarray,
    herald_edges: np.ndarray,
    herald_weights: np.ndarray,
    edge_endpoints: np.ndarray,
    graph_lightest: float,
    edge_weights: np.ndarray,
    done: np.ndarray,
    lightest: np.ndarray,
    fired_edges: np.ndarray,
    erased: np.ndarray,
    saved_nodes: np.ndarray,
    saved_lightest: np.ndarray,
) -> tuple[int, int, int, float]:
    """Puts the edges of one shot's fired heralds (bit-packed `fired_heralds`) into its graph.

    Each gets its weight given the herald from `herald_weights`; an erased one (weight 0) stays done and is
    listed in `erased`, to be joined before the growth; the others become growable and lower `lightest` at
    their nodes (old values saved in `saved_nodes`/`saved_lightest`, restored by `_reset_fired_edges`).
    Returns (edges put in, erased edges, saved values, the lightest weight of the shot's edges but the erased).
    """
    num_fired = 0
    num_erased = 0
    num_saved = 0
    shot_lightest = graph_lightest
    for byte_index in range(fired_heralds.shape[0]):
        bits = fired_heralds[byte_index]
        if bits == 0:
            continue
        for bit in range(8):
            if not (bits >> bit) & 1:
                continue
            herald = byte_index * 8 + bit
            for index in range(herald_offsets[herald], herald_offsets[herald + 1]):
                edge = herald_edges[index]
                weight = herald_weights[edge]
                edge_weights[edge] = weight
                fired_edges[num_fired] = edge
                num_fired += 1
                if weight == 0:
                    erased[num_erased] = edge
                    num_erased += 1
                    continue
                done[edge] = False
                shot_lightest = min(shot_lightest, weight)
                for node in (edge_endpoints[edge, 0], edge_endpoints[edge, 1]):
                    if weight < lightest[node]:
                        saved_nodes[num_saved] = node
                        saved_lightest[num_saved] = lightest[node]
                        num_saved += 1
                        lightest[node] = weight
    return num_fired, num_erased, num_saved, shot_lightest


@numba.njit(cache=True, inline="always")
def _count_erased_as_one(
    num_erased: int, erased: np.ndarray, edge_endpoints: np.ndarray, parent: np.ndarray, size: np.ndarray
) -> None:
    """Gives each cluster of erased edges size 1: in the weighted growth (smallest clusters first) an erased
    component counts as one node, found at once, not as the nodes it spans (which would hold a defect in a
    large erasure back while its neighbours grow; measured: 3x the failures of growing erased edges at weight 0
    at surface d=5, erasure p=0.005, R_e=0.5). Sizes only order the growth and the unions."""
    for index in range(num_erased):
        size[_find(parent, edge_endpoints[erased[index], 0])] = 1


@numba.njit(cache=True, inline="always")
def _reset_fired_edges(
    num_fired: int,
    fired_edges: np.ndarray,
    num_saved: int,
    saved_nodes: np.ndarray,
    saved_lightest: np.ndarray,
    edge_weights: np.ndarray,
    done: np.ndarray,
    lightest: np.ndarray,
) -> None:
    """Takes the shot's fired edges out of the graph again (absent: done, weight inf) and restores `lightest`.

    Runs after `_reset_edges`, which left the touched ones not done.
    """
    for index in range(num_fired):
        edge = fired_edges[index]
        edge_weights[edge] = np.inf
        done[edge] = True
    for index in range(num_saved - 1, -1, -1):
        lightest[saved_nodes[index]] = saved_lightest[index]


@numba.njit(cache=True, inline="always")
def _read_defects(
    detection_events: np.ndarray,
    defect: np.ndarray,
    odd: np.ndarray,
    reached: np.ndarray,
    reached_nodes: np.ndarray,
    active: np.ndarray,
) -> int:
    """Marks the defects of one shot's bit-packed `detection_events` as odd one-node clusters; returns their count.

    Each defect is listed at the start of `reached_nodes` and of `active` (the clusters that grow).
    """
    num_defects = 0
    for byte_index in range(detection_events.shape[0]):
        bits = detection_events[byte_index]
        if bits == 0:
            continue
        for bit in range(8):
            if not (bits >> bit) & 1:
                continue
            node = byte_index * 8 + bit
            defect[node] = True
            odd[node] = True
            reached[node] = True
            reached_nodes[num_defects] = node
            active[num_defects] = node
            num_defects += 1
    return num_defects


@numba.njit(cache=True, inline="always")
def _pair_isolated_defects(
    num_active: int,
    active: np.ndarray,
    node_edge_offsets: np.ndarray,
    node_edges: np.ndarray,
    node_neighbors: np.ndarray,
    edge_endpoints: np.ndarray,
    edge_weights: np.ndarray,
    lightest: np.ndarray,
    graph_lightest: float,
    erased_clusters: bool,
    defect: np.ndarray,
    parent: np.ndarray,
    size: np.ndarray,
    odd: np.ndarray,
    neutral: np.ndarray,
    list_next: np.ndarray,
    list_tail: np.ndarray,
    tree_degree: np.ndarray,
    tree_edges_xor: np.ndarray,
    head_start: np.ndarray,
    done: np.ndarray,
    touched: np.ndarray,
    touched_edges: np.ndarray,
) -> tuple[int, int]:
    """Joins the isolated pairs of adjacent defects, as growth would; returns (clusters left active, edges touched).

    Isolated pairs: defects u, v joined by an edge of weight w, every other edge at u or v heavier
    than w / 2 and than w - graph_lightest, and every other defect next to u or v further than w
    (so, with the previous condition, every other defect is further than w from both). Growth would
    join u and v at time w / 2 before any other cluster (each grows at most at unit rate) or the
    boundary reaches them; so they are joined now and their other edges get the growth w / 2 they
    would have by then (`head_start`, added when an edge is first touched). The rest of the decoding
    is unchanged. The other defects stay in `active`, compacted to its start; the joining edges are
    the first `touched_edges`.

    With `erased_clusters` (a heralded shot whose erased edges are joined already), u and v must be one-node
    clusters (no forest edge yet) with no neighbour in an odd cluster of erased edges (which grows from time
    0); `graph_lightest` is then the lightest edge weight but the erased ones, which bounds when such a
    cluster reaches any other node.
    """
    num_touched = 0
    num_growing = 0
    for index in range(num_active):
        node = active[index]
        if parent[node] != node or size[node] > 1:
            continue  # already paired
        if tree_degree[node] > 0:  # the root of an odd cluster of erased edges (size 1: `_count_erased_as_one`)
            active[num_growing] = node
            num_growing += 1
            continue
        edge, second_weight = _nearest_defect(node, node_edge_offsets, node_edges, node_neighbors, edge_weights, defect)
        if edge != -1:
            partner = edge_endpoints[edge, 0] ^ edge_endpoints[edge, 1] ^ node
            partner_edge, partner_second_weight = _nearest_defect(
                partner, node_edge_offsets, node_edges, node_neighbors, edge_weights, defect
            )
            weight = edge_weights[edge]
            others_above = max(weight / 2, weight - graph_lightest) + _GROWN_TOLERANCE
            if (
                partner_edge == edge
                and tree_degree[partner] == 0
                and min(second_weight, partner_second_weight) > weight + _GROWN_TOLERANCE
                and min(lightest[node], lightest[partner]) > others_above
                and not (
                    erased_clusters
                    and (
                        _next_to_growing_cluster(
                            node, node_edge_offsets, node_neighbors, parent, odd, neutral, tree_degree
                        )
                        or _next_to_growing_cluster(
                            partner, node_edge_offsets, node_neighbors, parent, odd, neutral, tree_degree
                        )
                    )
                )
            ):
                parent[partner] = node
                size[node] = 2
                odd[node] = False
                list_next[node] = partner
                list_tail[node] = partner
                done[edge] = True
                touched[edge] = True
                touched_edges[num_touched] = edge
                num_touched += 1
                tree_degree[node] = tree_degree[partner] = 1
                tree_edges_xor[node] = tree_edges_xor[partner] = edge
                head_start[node] = head_start[partner] = weight / 2
                continue
        active[num_growing] = node
        num_growing += 1
    return num_growing, num_touched


@numba.njit(cache=True, inline="always")
def _next_to_growing_cluster(
    node: int,
    node_edge_offsets: np.ndarray,
    node_neighbors: np.ndarray,
    parent: np.ndarray,
    odd: np.ndarray,
    neutral: np.ndarray,
    tree_degree: np.ndarray,
) -> bool:
    """Whether a neighbour of `node` is in an odd cluster of several nodes away from the boundary (erased edges
    joined it before the growth, so it grows from time 0)."""
    for slot in range(node_edge_offsets[node], node_edge_offsets[node + 1]):
        other = node_neighbors[slot]
        if tree_degree[other] > 0:
            root = _find(parent, other)
            if odd[root] and not neutral[root]:
                return True
    return False


@numba.njit(cache=True, inline="always")
def _nearest_defect(
    node: int,
    node_edge_offsets: np.ndarray,
    node_edges: np.ndarray,
    node_neighbors: np.ndarray,
    edge_weights: np.ndarray,
    defect: np.ndarray,
) -> tuple[int, float]:
    """The lightest edge from `node` to a defect (-1 if none), and the next lightest such edge's weight (inf if none).

    The graph arrays are `decode_batch`'s; `defect` is bool (num_nodes,), True at this shot's defects.
    """
    nearest = -1
    nearest_weight = np.inf
    second_weight = np.inf
    for slot in range(node_edge_offsets[node], node_edge_offsets[node + 1]):
        if not defect[node_neighbors[slot]]:
            continue
        edge = node_edges[slot]
        weight = edge_weights[edge]
        if weight < nearest_weight:
            second_weight = nearest_weight
            nearest_weight = weight
            nearest = edge
        else:
            second_weight = min(second_weight, weight)
    return nearest, second_weight


@numba.njit(cache=True, inline="always")
def _grow(
    num_active: int,
    active: np.ndarray,
    num_touched: int,
    node_edge_offsets: np.ndarray,
    node_edges: np.ndarray,
    node_neighbors: np.ndarray,
    edge_weights: np.ndarray,
    parent: np.ndarray,
    size: np.ndarray,
    neutral: np.ndarray,
    list_head: np.ndarray,
    list_next: np.ndarray,
    list_tail: np.ndarray,
    head_start: np.ndarray,
    growth: np.ndarray,
    rate: np.ndarray,
    done: np.ndarray,
    touched: np.ndarray,
    touched_edges: np.ndarray,
    frontier: np.ndarray,
    grown: np.ndarray,
) -> tuple[int, int]:
    """One growth step of the smallest active clusters, up to the next edge completion; returns (completed, touched).

    The smallest growing clusters grow (Delfosse & Nickerson's weighted growth, by node count): each
    unfinished edge on their borders grows at +1 per such cluster at its ends, by the time that
    completes the nearest one. Border nodes with nothing left to grow are dropped from their
    cluster's list. The completed edges are written to the start of `grown`.
    """
    num_frontier = 0
    step = np.inf
    smallest = size[active[0]]
    for index in range(1, num_active):
        smallest = min(smallest, size[active[index]])
    for index in range(num_active):
        root = active[index]
        if size[root] > smallest:
            continue
        previous = -1
        node = list_head[root]
        while node != -1:
            following = list_next[node]
            alive = False
            for slot in range(node_edge_offsets[node], node_edge_offsets[node + 1]):
                edge = node_edges[slot]
                if done[edge]:
                    continue
                other = node_neighbors[slot]
                if not touched[edge]:
                    touched[edge] = True
                    touched_edges[num_touched] = edge
                    num_touched += 1
                    growth[edge] = head_start[node] + head_start[other]
                if _find(parent, other) == root:
                    done[edge] = True
                    continue
                alive = True
                if rate[edge] == 0:
                    frontier[num_frontier] = edge
                    num_frontier += 1
                rate[edge] += 1
                # The rate only rises during the scan, so the minimum over every value seen is
                # the time to the first completion.
                step = min(step, (edge_weights[edge] - growth[edge]) / rate[edge])
            if alive:
                previous = node
            else:
                if previous == -1:
                    list_head[root] = following
                else:
                    list_next[previous] = following
                if following == -1:
                    list_tail[root] = previous
            node = following
        if list_head[root] == -1:
            neutral[root] = True  # nothing left to grow into: an unexplainable syndrome, left as is
    num_grown = 0
    for index in range(num_frontier):
        edge = frontier[index]
        growth[edge] += step * rate[edge]
        rate[edge] = 0
        if growth[edge] >= edge_weights[edge] - _GROWN_TOLERANCE:
            done[edge] = True
            grown[num_grown] = edge
            num_grown += 1
    return num_grown, num_touched


@numba.njit(cache=True, inline="always")
def _merge(
    num_grown: int,
    grown: np.ndarray,
    num_reached: int,
    edge_endpoints: np.ndarray,
    boundary: int,
    parent: np.ndarray,
    size: np.ndarray,
    odd: np.ndarray,
    neutral: np.ndarray,
    reached: np.ndarray,
    reached_nodes: np.ndarray,
    list_head: np.ndarray,
    list_next: np.ndarray,
    list_tail: np.ndarray,
    tree_degree: np.ndarray,
    tree_edges_xor: np.ndarray,
) -> int:
    """Joins the clusters at both ends of each completed edge (union by size); returns the nodes reached so far.

    An edge that joins two clusters enters the spanning forest (`tree_degree`, `tree_edges_xor`); the
    joined cluster's parity, boundary contact and border list are the union of both.
    """
    for index in range(num_grown):
        edge = grown[index]
        a = edge_endpoints[edge, 0]
        b = edge_endpoints[edge, 1]
        root_a = _find(parent, a)
        root_b = _find(parent, b)
        if root_a == root_b:
            continue
        for node in (a, b):
            if not reached[node] and node != boundary:
                reached[node] = True
                reached_nodes[num_reached] = node
                num_reached += 1
        tree_degree[a] += 1
        tree_degree[b] += 1
        tree_edges_xor[a] ^= edge
        tree_edges_xor[b] ^= edge
        if size[root_a] < size[root_b]:
            root_a, root_b = root_b, root_a
        parent[root_b] = root_a
        size[root_a] += size[root_b]
        odd[root_a] ^= odd[root_b]
        neutral[root_a] |= neutral[root_b]
        if list_head[root_b] != -1:
            if list_head[root_a] == -1:
                list_head[root_a] = list_head[root_b]
            else:
                list_next[list_tail[root_a]] = list_head[root_b]
            list_tail[root_a] = list_tail[root_b]
    return num_reached


@numba.njit(cache=True, inline="always")
def _odd_clusters(
    num_active: int,
    active: np.ndarray,
    step_id: int,
    parent: np.ndarray,
    odd: np.ndarray,
    neutral: np.ndarray,
    active_stamp: np.ndarray,
) -> int:
    """Replaces `active` by the roots of the odd clusters away from the boundary; returns their count.

    Each such cluster contains one that grew this step; `active_stamp` (stamped with `step_id`) lists each once.
    """
    still_active = 0
    for index in range(num_active):
        root = _find(parent, active[index])
        if odd[root] and not neutral[root] and active_stamp[root] != step_id:
            active_stamp[root] = step_id
            active[still_active] = root
            still_active += 1
    return still_active


@numba.njit(cache=True, inline="always")
def _find(parent: np.ndarray, node: int) -> int:
    """The root of `node`'s cluster, halving the path on the way."""
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


@numba.njit(cache=True, inline="always")
def _peel(
    num_reached: int,
    reached_nodes: np.ndarray,
    boundary: int,
    edge_endpoints: np.ndarray,
    edge_observables: np.ndarray,
    defect: np.ndarray,
    tree_degree: np.ndarray,
    tree_edges_xor: np.ndarray,
    leaves: np.ndarray,
    prediction: np.ndarray,
) -> None:
    """Peels the spanning forest from its leaves, xor-ing the correction's observables into `prediction`.

    A leaf with a defect takes its edge into the correction and passes the defect on to the other
    end; the boundary is never peeled (it is the root of the trees that reach it).
    """
    num_leaves = 0
    for index in range(num_reached):
        node = reached_nodes[index]
        if tree_degree[node] == 1:
            leaves[num_leaves] = node
            num_leaves += 1
    while num_leaves > 0:
        num_leaves -= 1
        leaf = leaves[num_leaves]
        if tree_degree[leaf] != 1:
            continue
        edge = tree_edges_xor[leaf]
        other = edge_endpoints[edge, 0] ^ edge_endpoints[edge, 1] ^ leaf
        if defect[leaf]:
            defect[leaf] = False
            defect[other] = not defect[other]
            for byte_index in range(prediction.shape[0]):
                prediction[byte_index] ^= edge_observables[edge, byte_index]
        tree_degree[leaf] = 0
        tree_degree[other] -= 1
        tree_edges_xor[other] ^= edge
        if other != boundary and tree_degree[other] == 1:
            leaves[num_leaves] = other
            num_leaves += 1


@numba.njit(cache=True, inline="always")
def _reset_nodes(
    num_reached: int,
    reached_nodes: np.ndarray,
    boundary: int,
    parent: np.ndarray,
    size: np.ndarray,
    odd: np.ndarray,
    neutral: np.ndarray,
    defect: np.ndarray,
    reached: np.ndarray,
    list_head: np.ndarray,
    list_tail: np.ndarray,
    list_next: np.ndarray,
    tree_degree: np.ndarray,
    tree_edges_xor: np.ndarray,
    head_start: np.ndarray,
) -> None:
    """Puts every node the shot reached, and the boundary, back to a one-node cluster as allocated.

    The boundary is the one node that starts neutral and with an empty border list.
    """
    for index in range(num_reached + 1):
        node = reached_nodes[index] if index < num_reached else boundary
        parent[node] = node
        size[node] = 1
        odd[node] = False
        neutral[node] = False
        defect[node] = False
        reached[node] = False
        list_head[node] = node
        list_tail[node] = node
        list_next[node] = -1
        tree_degree[node] = 0
        tree_edges_xor[node] = 0
        head_start[node] = 0.0
    neutral[boundary] = True
    list_head[boundary] = -1


@numba.njit(cache=True, inline="always")
def _reset_edges(num_touched: int, touched_edges: np.ndarray, done: np.ndarray, touched: np.ndarray) -> None:
    """Marks every edge the shot touched not done and not touched again (growth is set on the next touch)."""
    for index in range(num_touched):
        edge = touched_edges[index]
        done[edge] = False
        touched[edge] = False
