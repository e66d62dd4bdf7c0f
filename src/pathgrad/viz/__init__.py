"""Pictures of computation graphs (Graphviz: pip install graphviz, apt-get install graphviz)."""

from pathgrad.viz.graph import Graph, GraphvizMissing, draw, to_dot

__all__ = ["Graph", "GraphvizMissing", "draw", "to_dot"]
