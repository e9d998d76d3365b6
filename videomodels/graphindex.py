"""Graph algorithms over node ids and edges, each linear in nodes + edges.

The adjacency is built once (one pass over the edges); every algorithm then walks it, so
no node ever scans the whole edge list. Edges naming unknown ids are ignored here: the
validator reports them.
"""
from __future__ import annotations

import heapq
from collections.abc import Iterable

from videomodels.archspec import Edge


class Adjacency:
    """Successors and incoming edges of every node, from one pass over ``edges``."""

    def __init__(self, node_ids: Iterable[str], edges: Iterable[Edge], sources: Iterable[str] = ()):
        self.node_ids = list(node_ids)
        self.position = {node_id: index for index, node_id in enumerate(self.node_ids)}
        # Extra sources (network inputs) may start edges but are not nodes.
        self.successors: dict[str, list[str]] = {node_id: [] for node_id in self.node_ids}
        for source in sources:
            self.successors.setdefault(source, [])
        self.incoming: dict[str, list[Edge]] = {node_id: [] for node_id in self.node_ids}
        for edge in edges:
            source, target = edge.source, edge.target
            if target in self.incoming and source in self.successors:
                self.successors[source].append(target)
                self.incoming[target].append(edge)


def order_nodes(node_ids: list[str], edges: Iterable[Edge]) -> list[str]:
    """Kahn's algorithm, earliest listed first among the ready; nodes on a cycle are left out.

    Edges from ids that are not nodes (network inputs) impose no order.
    """
    graph = Adjacency(node_ids, edges)
    return _kahn(graph)


def _kahn(graph: Adjacency) -> list[str]:
    position = graph.position
    indegree = {node_id: 0 for node_id in graph.node_ids}
    for node_id in graph.node_ids:
        for target in graph.successors[node_id]:
            indegree[target] += 1
    # A heap of list positions: the same order as re-sorting the ready list, without the sort.
    ready = [position[node_id] for node_id, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        current = graph.node_ids[heapq.heappop(ready)]
        order.append(current)
        for target in graph.successors[current]:
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, position[target])
    return order


def components(graph: Adjacency) -> dict[str, int]:
    """Strongly connected components (Tarjan's algorithm, iterative): node id -> component number."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    component: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0
    for root in graph.node_ids:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            nexts = graph.successors[node]
            if child < len(nexts):
                work.append((node, child + 1))
                target = nexts[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = index[node]
                    if member == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component


def nodes_on_cycles(graph: Adjacency) -> set[str]:
    """Nodes that lie on a cycle (not those merely downstream of one): members of a strongly
    connected component with more than one node, or with an edge to themselves."""
    component = components(graph)
    sizes: dict[int, int] = {}
    for number in component.values():
        sizes[number] = sizes.get(number, 0) + 1
    return {node_id for node_id in graph.node_ids
            if sizes[component[node_id]] > 1 or node_id in graph.successors[node_id]}


def reachable(graph: Adjacency, starts: Iterable[str]) -> set[str]:
    """Every id reachable from ``starts`` (the starts included)."""
    seen = set(starts)
    frontier = list(seen)
    while frontier:
        current = frontier.pop()
        for target in graph.successors.get(current, ()):
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def cycle_closing_edges(node_ids: list[str], edges: list[Edge]) -> list[int]:
    """Indices of the edges that close cycles, ascending.

    Of the edges inside a cycle (same strongly connected component), these point against
    the node order (topological for presets and search candidates): in a graph that was
    acyclic before an edit, that is the edge the edit added. Every cycle has at least one,
    and without them the graph is acyclic.
    """
    graph = Adjacency(node_ids, edges)
    component = components(graph)
    position = graph.position
    return [i for i, edge in enumerate(edges)
            if edge.source in position and edge.target in position and edge.source != edge.target
            and component[edge.source] == component[edge.target] and position[edge.target] <= position[edge.source]]
