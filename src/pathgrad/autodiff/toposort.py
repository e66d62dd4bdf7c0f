"""The one graph walk: the order the sweep runs nodes in, which gradcheck, explain and viz use."""

from __future__ import annotations

from pathgrad.autodiff.node import Node


def reverse_topological_order(roots: list) -> tuple[list[Node], dict]:
    """Nodes reachable from `roots`, each after every node that consumes it, and the leaves
    (a dict used as an ordered set, in the order first reached).

    Kahn's order: count the recorded edges into each node; a node is ready once all its consumers
    came, so the sweep sums each gradient completely before using it. An explicit stack (depth is
    free) and parents in recorded order make it deterministic; it makes few containers.
    """
    counts: dict = {}
    leaves: dict = {}
    for root in roots:
        if type(root) is Node:
            counts[root] = 0
        else:
            leaves[root] = None
    ready = list(counts)
    stack = ready.copy()
    while stack:
        for parent in stack.pop().parents:
            if type(parent) is Node:
                if parent in counts:
                    counts[parent] += 1
                else:
                    counts[parent] = 1
                    stack.append(parent)
            elif parent is not None:
                leaves[parent] = None
    if len(ready) > 1:  # roots that another root consumes wait for it
        ready = [root for root in ready if counts[root] == 0]
    order = stack  # empty again: reused
    while ready:
        node = ready.pop()
        order.append(node)
        for parent in node.parents:
            if type(parent) is Node:
                remaining = counts[parent] - 1
                if remaining:
                    counts[parent] = remaining
                else:
                    ready.append(parent)
    return order, leaves
