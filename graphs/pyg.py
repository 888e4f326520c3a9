"""Windows of node features plus dense adjacency -> one PyTorch Geometric :class:`~torch_geometric.data.Batch`.

One graph per window: nodes are channels, edges the non-zero entries of the
adjacency (self loops and negative weights included, as given), with the
entry as ``edge_weight``. Edges of all windows are found in one ``nonzero``
call; PyG's :meth:`Batch.from_data_list` then offsets the indices, so the
batch supports indexing and ``to_data_list`` like any other. Needs no
``torch-scatter``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from biosig.errors import DataError


def to_pyg(
    node_features: np.ndarray | torch.Tensor,
    adjacency: np.ndarray | torch.Tensor,
    y: np.ndarray | torch.Tensor | None = None,
) -> Batch:
    """Build a batch of channel graphs, one per window.

    Parameters
    ----------
    node_features
        ``(n_windows, n_channels, n_features)``, e.g. differential entropy per band.
    adjacency
        ``(n_channels, n_channels)`` shared by all windows, or ``(n_windows, n_channels,
        n_channels)`` per window (e.g. :mod:`graphs.functional`). Entry ``[i, j]``
        is the weight of the edge from channel ``i`` (``edge_index[0]``) to ``j``.
    y
        Optional per-window targets, first axis ``n_windows``; stored as ``y``.

    Returns
    -------
    torch_geometric.data.Batch
        ``x`` ``(n_windows * n_channels, n_features)`` float32, ``edge_index``
        ``(2, n_edges)``, ``edge_weight`` ``(n_edges,)`` float32, ``batch``, ``ptr``,
        and ``y`` if given.
    """
    x = torch.as_tensor(node_features)
    a = torch.as_tensor(adjacency)
    if x.ndim != 3:
        raise DataError(f"node_features must be (n_windows, n_channels, n_features), got {tuple(x.shape)}")
    n_windows, n_channels, _ = x.shape
    if a.shape not in ((n_channels, n_channels), (n_windows, n_channels, n_channels)):
        raise DataError(
            f"adjacency has shape {tuple(a.shape)}; expected ({n_channels}, {n_channels}) "
            f"or ({n_windows}, {n_channels}, {n_channels}) for node_features {tuple(x.shape)}"
        )
    if not (torch.isfinite(x).all() and torch.isfinite(a).all()):
        raise DataError("node_features and adjacency must be finite")
    if y is not None:
        y = torch.as_tensor(y)
        if y.ndim == 0 or len(y) != n_windows:
            raise DataError(f"y has shape {tuple(y.shape)}; its first axis must be the {n_windows} windows")
    x = x.float()
    a = a.float()
    if a.ndim == 2:
        edge_index = a.nonzero().T.contiguous()
        weight = a[edge_index[0], edge_index[1]]
        parts = [(edge_index, weight)] * n_windows
    else:
        w, i, j = a.nonzero(as_tuple=True)
        counts = torch.bincount(w, minlength=n_windows).tolist()
        parts = zip(torch.stack([i, j]).split(counts, dim=1), a[w, i, j].split(counts))
    graphs = []
    for k, (edge_index, weight) in enumerate(parts):
        data = Data(x=x[k], edge_index=edge_index, edge_weight=weight)
        if y is not None:
            data.y = y[k : k + 1]
        graphs.append(data)
    return Batch.from_data_list(graphs)
