"""Pictures of what the engine computes: the graph (`draw`, `render`), the step-through backward player
(`player`: one HTML page that plays the engine's backward walk node by node) and, with matplotlib, gradient
flow and attention patterns (`plots`).

>>> from tinygrad_tx import Value
>>> from tinygrad_tx.viz import draw
>>> x = Value(2.0, label="x"); y = (x * x).tanh(); y.label = "y"
>>> draw(y).summary.nodes     # x, x*x, tanh(x*x) and the two op nodes between them
5
"""

from .graph import FORMATS, INSTALL_HINT, Graph, GraphSummary, GraphvizNotFound, draw, render
from .player import Player, player
from .plots import attention_heads, attention_heatmap, gradient_flow, keep_attention
from .renderer import RenderError, find_renderer

__all__ = [
    "draw", "render", "Graph", "GraphSummary", "GraphvizNotFound", "RenderError", "INSTALL_HINT", "FORMATS",
    "find_renderer", "player", "Player",
    "gradient_flow", "attention_heatmap", "attention_heads", "keep_attention",
]
