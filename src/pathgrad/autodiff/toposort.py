"""Reverse topological order of a graph, with an explicit stack so depth costs no recursion."""

from __future__ import annotations

from pathgrad.autodiff.node import Node


def reverse_topological_order(roots: list) -> tuple[list[Node], list]:
    """Nodes reachable from `roots`, each before every node it depends on, and the leaves reached.

    Parents are visited in their recorded order, so the order, and anything that prints it, is
    deterministic. Time and memory are linear in the number of edges.
    """
    order: list[Node] = []
    leaves: list = []
    visited: set[int] = set()
    stack: list = []
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        if type(root) is not Node:
            leaves.append(root)
            continue
        stack.append((root, iter(root.parents)))
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent is None or id(parent) in visited:
                    continue
                visited.add(id(parent))
                if type(parent) is Node:
                    stack.append((parent, iter(parent.parents)))
                    break
                leaves.append(parent)
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order, leaves
