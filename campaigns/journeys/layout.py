"""Where each step of a journey is drawn: a layered layout computed here, drawn as inline SVG.

1. Layers: the longest path from `start`, over the graph without its back edges (edges that
   close a loop, found by a depth-first walk), so a loop still lays out top to bottom and its
   closing edge is drawn going back up at the side.
2. Order in a layer: the barycenter heuristic (each node moves to the mean position of its
   neighbours in the layer above, then below), a few sweeps, to cut crossings.
3. Coordinates: each node sits under the mean of its parents where it can, pushed right to keep
   a gap; steps that cannot be reached from `start` go in a last row, flagged.

Pure: a Definition in, dataclasses out; no database, no templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from campaigns.journeys.definition import Definition, successors

NODE_W = 212
NODE_H = 84
GAP_X = 40
GAP_Y = 84
MARGIN = 24
BACK_OFFSET = 36  # how far a loop's edge swings out beside the nodes
SWEEPS = 4


@dataclass
class Node:
    id: str
    type: str
    name: str
    layer: int
    order: int
    x: float = 0.0  # top-left corner
    y: float = 0.0
    w: int = NODE_W
    h: int = NODE_H
    start: bool = False
    unreachable: bool = False

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Edge:
    source: str
    target: str
    label: str  # the way out: next, timeout, default, outcome, unreachable, a case/arm name
    text: str  # the label as shown
    path: str  # SVG path data (a cubic curve)
    label_x: float
    label_y: float
    back: bool = False  # closes a loop: drawn going back up
    muted: bool = False  # leaves an unreachable step


@dataclass
class Layout:
    nodes: list[Node]
    edges: list[Edge]
    width: int
    height: int
    layers: int
    by_id: dict[str, Node] = field(default_factory=dict)


def _edges(definition: Definition) -> list[tuple[str, str, str]]:
    ids = definition.by_id()
    return [
        (step.id, label, target)
        for step in definition.steps
        for label, target in successors(step)
        if target in ids
    ]


def _reachable_and_back_edges(
    start: str | None, adjacency: dict[str, list[str]]
) -> tuple[list[str], set[tuple[str, str]]]:
    """Depth-first from start (iterative: 500 steps must not hit the recursion limit).
    Returns the nodes in discovery order and the (source, target) pairs that close a loop."""
    if start is None or start not in adjacency:
        return [], set()
    seen: dict[str, int] = {}  # 1 on the walk's stack, 2 done
    order: list[str] = []
    back: set[tuple[str, str]] = set()
    stack: list[tuple[str, int]] = [(start, 0)]
    seen[start] = 1
    order.append(start)
    while stack:
        node, index = stack[-1]
        targets = adjacency[node]
        if index < len(targets):
            stack[-1] = (node, index + 1)
            target = targets[index]
            state = seen.get(target)
            if state == 1:
                back.add((node, target))
            elif state is None:
                seen[target] = 1
                order.append(target)
                stack.append((target, 0))
        else:
            seen[node] = 2
            stack.pop()
    return order, back


def _longest_path_layers(
    order: list[str], forward: dict[str, list[str]], start: str
) -> dict[str, int]:
    """Layer = the longest path from start over the forward (loop-free) edges: a topological
    order by Kahn's algorithm, then relax each edge once."""
    indegree = {n: 0 for n in order}
    for node in order:
        for target in forward[node]:
            indegree[target] += 1
    ready = [n for n in order if indegree[n] == 0]
    topo: list[str] = []
    while ready:
        node = ready.pop()
        topo.append(node)
        for target in forward[node]:
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
    layer = {n: 0 for n in order}
    for node in topo:
        for target in forward[node]:
            if layer[target] < layer[node] + 1:
                layer[target] = layer[node] + 1
    return layer


def _order_layers(
    rows: list[list[str]], parents: dict[str, list[str]], children: dict[str, list[str]]
) -> None:
    """Barycenter sweeps, in place: down (by parents' positions), then up (by children's)."""
    position = {n: i for row in rows for i, n in enumerate(row)}

    def sweep(row: list[str], neighbours: dict[str, list[str]]) -> None:
        keyed = []
        for i, node in enumerate(row):
            near = [position[m] for m in neighbours[node] if m in position]
            keyed.append((sum(near) / len(near) if near else float(i), i, node))
        keyed.sort()
        row[:] = [node for _key, _i, node in keyed]
        for i, node in enumerate(row):
            position[node] = i

    for _ in range(SWEEPS):
        for row in rows[1:]:
            sweep(row, parents)
        for row in reversed(rows[:-1]):
            sweep(row, children)


def _place_row(row: list[Node], desired: list[float]) -> None:
    """Left to right, each node at its desired x or just right of its neighbour; then the row
    shifts as a whole so it sits, on average, where it wanted to be."""
    step = NODE_W + GAP_X
    placed: list[float] = []
    for i, want in enumerate(desired):
        placed.append(want if i == 0 else max(want, placed[-1] + step))
    shift = sum(w - p for w, p in zip(desired, placed, strict=True)) / len(placed)
    for node, x in zip(row, placed, strict=True):
        node.x = x + shift


def _desired_x(
    node: Node,
    index: int,
    nodes: dict[str, Node],
    parents: dict[str, list[str]],
    forward: dict[str, list[str]],
) -> float:
    """Under its nearest parent: the parent's first way out straight down, the others to its
    right, so the main path stays a straight column and branches open to the side (centring
    children under their parent instead makes a long journey drift sideways, block by block)."""
    above = [nodes[p] for p in parents[node.id]]
    if not above:
        return index * (NODE_W + GAP_X)
    nearest = max(p.layer for p in above)
    wants = []
    for parent in above:
        if parent.layer != nearest:
            continue
        children = list(dict.fromkeys(forward[parent.id]))
        wants.append(parent.x + children.index(node.id) * (NODE_W + GAP_X))
    return sum(wants) / len(wants)


def _point(p0, p1, p2, p3, t: float) -> tuple[float, float]:
    u = 1 - t
    return (
        u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
        u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
    )


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def journey_layout(
    definition: Definition, label_text: Callable[[str], str] | None = None
) -> Layout:
    """Nodes with their boxes and edges with their curves and labels; `label_text` turns a way
    out's name into its shown text (the built-in ones are translated by the caller)."""
    text_of = label_text or (lambda label: label)
    steps = definition.steps
    if not steps:
        return Layout([], [], MARGIN * 2, MARGIN * 2, 0)
    edges = _edges(definition)
    adjacency: dict[str, list[str]] = {s.id: [] for s in steps}
    for source, _label, target in edges:
        adjacency[source].append(target)

    discovered, back = _reachable_and_back_edges(definition.start, adjacency)
    reachable = set(discovered)
    forward = {n: [t for t in adjacency[n] if (n, t) not in back] for n in discovered}
    layer = _longest_path_layers(discovered, forward, definition.start) if discovered else {}
    depth = max(layer.values(), default=-1) + 1

    rows: list[list[str]] = [[] for _ in range(depth)]
    for node in discovered:  # discovery order: a stable first guess
        rows[layer[node]].append(node)
    parents: dict[str, list[str]] = {n: [] for n in discovered}
    for node in discovered:
        for target in forward[node]:
            parents[target].append(node)
    _order_layers(rows, parents, forward)
    lost = [s.id for s in steps if s.id not in reachable]
    if lost:
        rows.append(lost)

    by_step = definition.by_id()
    nodes: dict[str, Node] = {}
    for index, row in enumerate(rows):
        for order, step_id in enumerate(row):
            step = by_step[step_id]
            nodes[step_id] = Node(
                id=step_id,
                type=step.type,
                name=step.name,
                layer=index,
                order=order,
                y=MARGIN + index * (NODE_H + GAP_Y),
                start=step_id == definition.start,
                unreachable=step_id not in reachable,
            )

    step = NODE_W + GAP_X
    for index, row in enumerate(rows):
        row_nodes = [nodes[n] for n in row]
        if index == 0 or index == depth:  # the first row and the unreachable row: evenly
            desired = [i * step for i in range(len(row_nodes))]
        else:
            desired = [
                _desired_x(node, i, nodes, parents, forward) for i, node in enumerate(row_nodes)
            ]
        _place_row(row_nodes, desired)

    left = min(n.x for n in nodes.values())
    for node in nodes.values():
        node.x = node.x - left + MARGIN
    right = max(n.x + n.w for n in nodes.values())
    has_back = bool(back)
    width = int(right + MARGIN + (BACK_OFFSET + 24 if has_back else 0))
    height = int(MARGIN * 2 + len(rows) * NODE_H + (len(rows) - 1) * GAP_Y)

    drawn: list[Edge] = []
    ways: dict[str, list[tuple[str, str]]] = {}
    for source, label, target in edges:
        ways.setdefault(source, []).append((label, target))
    for source, outs in ways.items():
        a = nodes[source]
        count = len(outs)
        for i, (label, target) in enumerate(outs):
            b = nodes[target]
            # A loop's closing edge, or any edge that would point up or sideways (out of the
            # unreachable row), swings round the side.
            is_back = (source, target) in back or b.layer <= a.layer
            if is_back:
                # Out of the right side, swing beyond both boxes, into the target's right side.
                x0, y0 = a.x + a.w, a.y + a.h / 2
                x3, y3 = b.x + b.w, b.y + b.h / 2
                swing = max(x0, x3) + BACK_OFFSET + 8 * (i % 3)
                p1, p2 = (swing, y0), (swing, y3)
                label_at = _point((x0, y0), p1, p2, (x3, y3), 0.5)
                label_at = (label_at[0] + 6, label_at[1])
            else:
                x0 = a.x + a.w * (i + 1) / (count + 1)
                y0 = a.bottom
                x3, y3 = b.cx, b.y
                bend = max(GAP_Y * 0.6, (y3 - y0) * 0.45)
                p1, p2 = (x0, y0 + bend), (x3, y3 - bend)
                # Near the way out, alternate heights so neighbouring labels don't overlap.
                t = min(0.45, (GAP_Y * (0.3 + 0.22 * (i % 2))) / max(y3 - y0, 1))
                label_at = _point((x0, y0), p1, p2, (x3, y3), t)
            path = (
                f"M{_f(x0)} {_f(y0)} C{_f(p1[0])} {_f(p1[1])} {_f(p2[0])} {_f(p2[1])} "
                f"{_f(x3)} {_f(y3)}"
            )
            drawn.append(
                Edge(
                    source=source,
                    target=target,
                    label=label,
                    text=text_of(label),
                    path=path,
                    label_x=round(label_at[0], 1),
                    label_y=round(label_at[1], 1),
                    back=is_back,
                    muted=a.unreachable,
                )
            )

    ordered = [nodes[n] for row in rows for n in row]
    return Layout(ordered, drawn, width, height, len(rows), by_id=nodes)
