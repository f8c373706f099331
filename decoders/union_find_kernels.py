"""Numba kernels of the union-find decoder: weighted cluster growth and peeling over a batch of shots.

The graph is given as arrays (see `qec.decoders.dem_arrays.MatchingGraph`); the last node is the
boundary. One call decodes a whole bit-packed batch; every work array is allocated once per call and
only the entries a shot touched are reset after it.

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


@numba.njit(cache=True, inline="always")
def _find(parent: np.ndarray, node: int) -> int:
    """The root of `node`'s cluster, halving the path on the way."""
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


@numba.njit(cache=True, inline="always")
def _nearest_defect(node: int, node_edge_offsets: np.ndarray, node_edges: np.ndarray, node_neighbors: np.ndarray,
                    edge_weights: np.ndarray, defect: np.ndarray) -> tuple[int, float]:
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


@numba.njit(cache=True)
def decode_batch(detection_events: np.ndarray, node_edge_offsets: np.ndarray, node_edges: np.ndarray,
                 node_neighbors: np.ndarray, edge_endpoints: np.ndarray, edge_weights: np.ndarray,
                 edge_observables: np.ndarray) -> np.ndarray:
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
    touched = np.zeros(num_edges, dtype=np.bool_)
    touched_edges = np.empty(num_edges, dtype=np.int32)
    frontier = np.empty(num_edges, dtype=np.int32)
    grown = np.empty(num_edges, dtype=np.int32)
    neutral[boundary] = True
    list_head[boundary] = -1
    step_id = 0
    # The lightest edge at each node and in the graph, for spotting isolated pairs of defects.
    lightest = np.full(num_nodes, np.inf)
    for edge in range(num_edges):
        for node in (edge_endpoints[edge, 0], edge_endpoints[edge, 1]):
            lightest[node] = min(lightest[node], edge_weights[edge])
    graph_lightest = lightest.min()

    for shot in range(shots):
        num_reached = 0
        num_active = 0
        for byte_index in range(detection_events.shape[1]):
            bits = detection_events[shot, byte_index]
            if bits == 0:
                continue
            for bit in range(8):
                if not (bits >> bit) & 1:
                    continue
                node = byte_index * 8 + bit
                defect[node] = True
                odd[node] = True
                reached[node] = True
                reached_nodes[num_reached] = node
                num_reached += 1
                active[num_active] = node
                num_active += 1
        if num_active == 0:
            continue
        num_touched = 0

        # Isolated pairs: defects u, v joined by an edge of weight w, every other edge at u or v heavier
        # than w / 2 and than w - graph_lightest, and every other defect next to u or v further than w
        # (so, with the previous condition, every other defect is further than w from both). Growth would
        # join u and v at time w / 2 before any other cluster (each grows at most at unit rate) or the
        # boundary reaches them; so they are joined now and their other edges get the growth w / 2 they
        # would have by then (`head_start`, added when an edge is first touched). The rest of the decoding
        # is unchanged.
        num_growing = 0
        for index in range(num_active):
            node = active[index]
            if parent[node] != node or size[node] > 1:
                continue  # already paired
            edge, second_weight = _nearest_defect(node, node_edge_offsets, node_edges, node_neighbors, edge_weights,
                                                  defect)
            if edge != -1:
                partner = edge_endpoints[edge, 0] ^ edge_endpoints[edge, 1] ^ node
                partner_edge, partner_second_weight = _nearest_defect(
                    partner, node_edge_offsets, node_edges, node_neighbors, edge_weights, defect)
                weight = edge_weights[edge]
                others_above = max(weight / 2, weight - graph_lightest) + _GROWN_TOLERANCE
                if (partner_edge == edge and min(second_weight, partner_second_weight) > weight + _GROWN_TOLERANCE
                        and min(lightest[node], lightest[partner]) > others_above):
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
        num_active = num_growing

        while num_active > 0:
            # The smallest growing clusters grow (Delfosse & Nickerson's weighted growth, by node count).
            # Rates: +1 per such cluster bordering each unfinished edge; drop nodes with nothing left to grow.
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
            # Join the clusters at both ends of each completed edge; joining edges form a spanning forest.
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
            # The odd clusters away from the boundary grow on; each contains one that grew this step.
            step_id += 1
            still_active = 0
            for index in range(num_active):
                root = _find(parent, active[index])
                if odd[root] and not neutral[root] and active_stamp[root] != step_id:
                    active_stamp[root] = step_id
                    active[still_active] = root
                    still_active += 1
            num_active = still_active

        # Peel the forest from its leaves: a leaf with a defect takes its edge and passes the defect on.
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
                for byte_index in range(observable_bytes):
                    predictions[shot, byte_index] ^= edge_observables[edge, byte_index]
            tree_degree[leaf] = 0
            tree_degree[other] -= 1
            tree_edges_xor[other] ^= edge
            if other != boundary and tree_degree[other] == 1:
                leaves[num_leaves] = other
                num_leaves += 1

        # Reset what this shot touched.
        for index in range(num_reached):
            node = reached_nodes[index]
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
        parent[boundary] = boundary
        size[boundary] = 1
        odd[boundary] = False
        defect[boundary] = False
        list_head[boundary] = -1
        list_tail[boundary] = boundary
        list_next[boundary] = -1
        tree_degree[boundary] = 0
        tree_edges_xor[boundary] = 0
        for index in range(num_touched):
            edge = touched_edges[index]
            done[edge] = False
            touched[edge] = False
    return predictions
