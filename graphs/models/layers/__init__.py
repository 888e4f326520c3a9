"""Reusable layers of the model zoo: graph polynomial filters, region attention, max-norm, peripheral nodes.

Tensors inside these layers (except :class:`PeripheralFusion`, which works on
per-window vectors) are *channel-major*: ``(n_channels, ...)`` with the
EEG channel (graph node) first. Channel mixing is then one matrix product over
a ``(n_channels, n_batch * n_times)`` view, and per-channel temporal filters
broadcast a ``(n_channels, 1, 1)`` weight, which is what makes HiSTN fast on CPU.

Modules: :mod:`~graphs.models.layers.keras_weights` (Keras' initialisation and
max-norm), :mod:`~graphs.models.layers.batch_norm` (Keras' BatchNorm and its
eval-mode folding), :mod:`~graphs.models.layers.graph_filters` (Chebyshev
filters), :mod:`~graphs.models.layers.attention` (grouped attention pooling),
:mod:`~graphs.models.layers.temporal` (per-channel FIRs and pooling) and
:mod:`~graphs.models.layers.peripheral` (peripheral nodes).
"""

from .attention import FrozenAttention, GroupSoftmax, RegionAttention
from .batch_norm import bn_elu, frozen_affine, keras_batch_norm
from .graph_filters import ChebyshevFilter, chebyshev_basis, scaled_laplacian
from .keras_weights import glorot_uniform_, max_norm_
from .peripheral import PeripheralFusion, PeripheralNodes, check_peripheral
from .temporal import ToeplitzDepthwise, average_pool, depthwise_taps

__all__ = [
    "ChebyshevFilter",
    "FrozenAttention",
    "GroupSoftmax",
    "PeripheralFusion",
    "PeripheralNodes",
    "RegionAttention",
    "ToeplitzDepthwise",
    "average_pool",
    "bn_elu",
    "chebyshev_basis",
    "check_peripheral",
    "depthwise_taps",
    "frozen_affine",
    "glorot_uniform_",
    "keras_batch_norm",
    "max_norm_",
    "scaled_laplacian",
]
