"""Channel graphs: spatial and hemispheric (hand-computed), functional (SciPy / loops), learnable, PyG batches."""

import mne
import numpy as np
import pytest
import scipy.signal
import torch
from torch_geometric.utils import to_dense_adj

from biosig.errors import ConfigError, DataError
from graphs.adjacency import (
    RGNN_DELTA,
    RGNN_DELTA_DREAMER,
    LearnableAdjacency,
    distance_adjacency,
    gaussian_adjacency,
    hemisphere,
    hemispheric_adjacency,
    hemispheric_pairs,
    knn_adjacency,
    normalized_adjacency,
    rgnn_adjacency,
)
from graphs.functional import coherence_adjacency, pearson_adjacency, plv_adjacency
from graphs.positions import DEAP32, EMOTIV14, SEED62, electrode_positions, montage_channels
from graphs.pyg import to_pyg

# four electrodes on a line at 0, 1, 3 and 7 cm
LINE = np.array([[0.0, 0, 0], [0.01, 0, 0], [0.03, 0, 0], [0.07, 0, 0]])


def _edges(adj):
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(np.triu(adj)))}


def test_knn_threshold_gaussian_hand_computed():
    # nearest of 0 is 1, of 1 is 0, of 2 is 1 (2 cm), of 3 is 2 (4 cm)
    assert _edges(knn_adjacency(LINE, 1)) == {(0, 1), (1, 2), (2, 3)}
    assert _edges(knn_adjacency(LINE, 2)) == {(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)}
    assert _edges(distance_adjacency(LINE, 0.025)) == {(0, 1), (1, 2)}
    g = gaussian_adjacency(LINE, sigma=0.02)
    assert g[0, 2] == pytest.approx(np.exp(-(0.03**2) / (2 * 0.02**2))) and g[0, 0] == 0 and (g == g.T).all()
    assert gaussian_adjacency(LINE, 0.02, radius=0.025)[0, 2] == 0
    with pytest.raises(ConfigError, match="k must"):
        knn_adjacency(LINE, 4)
    with pytest.raises(DataError, match="n_channels, 3"):
        knn_adjacency(LINE[:, :2], 1)


def test_rgnn_adjacency():
    names = ["O1", "O2", "Oz", "Cz"]
    pos = np.array([[-0.02, 0, 0], [0.02, 0, 0], [0, 0, 0], [0, 0, 0.05]])
    a = rgnn_adjacency(pos, names, delta=0.0001)
    # O1-Oz: min(1, 1e-4 / 4e-4) = 0.25; O1-Cz: 1e-4 / (4e-4 + 25e-4); O1-O2: 1e-4 / 16e-4 - 1 (global pair)
    assert a[0, 2] == pytest.approx(0.25) and a[0, 3] == pytest.approx(1e-4 / 29e-4)
    assert a[0, 1] == pytest.approx(1 / 16 - 1) and a[1, 0] == a[0, 1]
    np.testing.assert_array_equal(np.diag(a), 1.0)
    assert (RGNN_DELTA, RGNN_DELTA_DREAMER) == (0.00056, 0.00035)
    real = rgnn_adjacency(electrode_positions(EMOTIV14), EMOTIV14, RGNN_DELTA_DREAMER)
    assert (real == real.T).all() and real.max() == 1.0
    assert real[EMOTIV14.index("AF3"), EMOTIV14.index("AF4")] < 0  # global pair lowered


def test_hemispheric_pairs_from_names():
    pairs = [(DEAP32[i], DEAP32[j]) for i, j in hemispheric_pairs(DEAP32)]
    assert len(pairs) == 14 and ("FP1", "FP2") in pairs and ("T7", "T8") in pairs and ("PO3", "PO4") in pairs
    assert {hemisphere(c) for c in ("OZ", "PZ", "FZ", "CZ")} == {"midline"}
    assert hemisphere("EEG F3-REF") == "left" and hemisphere("f4") == "right" and hemisphere("E12") is None
    seed = {(SEED62[i], SEED62[j]) for i, j in hemispheric_pairs(SEED62)}
    assert len(seed) == 27 and ("CB1", "CB2") in seed and ("FT7", "FT8") in seed
    assert hemispheric_pairs(montage_channels("GSN-HydroCel-64_1.0")) == []
    assert ("POO9h", "POO10h") in {(a, b) for a, b in _named_pairs(montage_channels("template"))}
    adj = hemispheric_adjacency(EMOTIV14)
    assert adj.sum() == 14 and adj[EMOTIV14.index("O1"), EMOTIV14.index("O2")] == 1


def _named_pairs(names):
    return [(names[i], names[j]) for i, j in hemispheric_pairs(names)]


def test_normalized_and_learnable_adjacency():
    a = np.array([[0.0, 2.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    # degrees 2, 3, 1: entry (0, 1) is 2 / sqrt(2 * 3)
    n = normalized_adjacency(a)
    assert n[0, 1] == pytest.approx(2 / np.sqrt(6)) and n[1, 2] == pytest.approx(1 / np.sqrt(3))
    np.testing.assert_array_equal(normalized_adjacency(np.zeros((2, 2))), 0.0)  # isolated nodes
    batched = normalized_adjacency(torch.tensor(np.stack([a, 2 * a])))
    np.testing.assert_allclose(batched[1].numpy(), n, atol=1e-12)  # scale-free

    init = np.array([[1.0, -1.0, 3.0], [1.0, 0.0, 2.0], [1.0, 0.0, 0.0]])
    layer = LearnableAdjacency(3, init=init)
    expected = normalized_adjacency(np.maximum((init + init.T) / 2, 0))
    np.testing.assert_allclose(layer().detach().numpy(), expected, atol=1e-6)
    out = LearnableAdjacency(5, seed=3)()
    assert torch.allclose(out, out.T) and (out >= 0).all()
    assert torch.equal(out, LearnableAdjacency(5, seed=3)()) and not torch.equal(out, LearnableAdjacency(5, seed=4)())
    layer().sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    with pytest.raises(ConfigError, match="shape"):
        LearnableAdjacency(4, init=init)


def _signals(n_windows=3, n_channels=4, n_times=512, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_windows, n_channels, n_times))
    x[:, 1] += 0.8 * x[:, 0]  # one coupled pair
    return x


def test_pearson_equals_numpy_corrcoef():
    x = _signals()
    r = pearson_adjacency(x)
    for w in range(len(x)):
        np.testing.assert_allclose(r[w], np.corrcoef(x[w]), atol=1e-12)


def test_plv_equals_pairwise_loop():
    x = _signals()
    plv = plv_adjacency(x)
    phase = np.angle(scipy.signal.hilbert(x, axis=-1))
    for w in range(x.shape[0]):
        for i in range(x.shape[1]):
            for j in range(x.shape[1]):
                assert plv[w, i, j] == pytest.approx(abs(np.mean(np.exp(1j * (phase[w, i] - phase[w, j])))), abs=1e-12)
    # with a band: filter each window (MNE FIR), then the same loop
    banded = plv_adjacency(x, 128.0, (8.0, 13.0))
    filtered = mne.filter.filter_data(x[1], 128.0, 8.0, 13.0, verbose="error")
    phase = np.angle(scipy.signal.hilbert(filtered, axis=-1))
    assert banded[1, 0, 2] == pytest.approx(abs(np.mean(np.exp(1j * (phase[0] - phase[2])))), abs=1e-12)
    # identical phases lock perfectly
    same = np.repeat(np.sin(np.linspace(0, 20, 200))[None, None], 3, axis=1) * [[[1.0], [2.0], [0.5]]]
    np.testing.assert_allclose(plv_adjacency(same), 1.0, atol=1e-12)


def test_coherence_equals_scipy_per_pair():
    x = _signals(n_times=1024)
    coh = coherence_adjacency(x, 128.0, (8.0, 13.0), nperseg=128)
    assert coh.shape == (3, 4, 4)
    for w in range(x.shape[0]):
        for i in range(x.shape[1]):
            for j in range(x.shape[1]):
                f, c = scipy.signal.coherence(x[w, i], x[w, j], 128.0, nperseg=128)
                band = (f >= 8) & (f <= 13)
                assert coh[w, i, j] == pytest.approx(c[band].mean(), abs=1e-10)
    assert coh[0, 0, 1] > 0.3 > coh[0, 2, 3]  # the coupled pair stands out


def test_functional_errors_name_channel():
    x = _signals()
    x[1, 2] = 5.0
    with pytest.raises(DataError, match="window 1, channel 'c'"):
        pearson_adjacency(x, ch_names=["a", "b", "c", "d"])
    x[0, 3, 10] = np.nan
    with pytest.raises(DataError, match="window 0, channel 3: non-finite"):
        plv_adjacency(x)
    with pytest.raises(ConfigError, match="no frequency bin"):
        coherence_adjacency(_signals(), 128.0, (8.1, 8.2), nperseg=64)
    with pytest.raises(ConfigError, match="sfreq"):
        plv_adjacency(_signals(), band=(8, 13))
    with pytest.raises(DataError, match="n_windows, n_channels, n_times"):
        pearson_adjacency(np.ones((4, 10)))


def test_to_pyg_shared_and_per_window():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(3, 4, 5))
    shared = knn_adjacency(LINE, 1) * 0.5
    batch = to_pyg(feats, shared, y=np.array([0, 2, 1]))
    assert batch.num_graphs == 3 and batch.x.shape == (12, 5) and batch.edge_index.shape == (2, 18)
    dense = to_dense_adj(batch.edge_index, batch.batch, batch.edge_weight)
    np.testing.assert_array_equal(dense.numpy(), np.broadcast_to(shared, (3, 4, 4)))
    assert batch.y.tolist() == [0, 2, 1] and torch.equal(batch[1].x, torch.tensor(feats[1], dtype=torch.float32))

    per_window = pearson_adjacency(_signals())
    per_window[2] = 0.0  # a window without edges
    batch = to_pyg(feats, per_window)
    dense = to_dense_adj(batch.edge_index, batch.batch, batch.edge_weight, max_num_nodes=4)
    np.testing.assert_allclose(dense.numpy(), per_window, atol=1e-6)
    assert batch[2].edge_index.shape == (2, 0)
    with pytest.raises(DataError, match="adjacency has shape"):
        to_pyg(feats, np.ones((3, 3)))
    with pytest.raises(DataError, match="y has shape"):
        to_pyg(feats, shared, y=np.zeros(2))
