import numpy as np
import torch

from graphs.models.layers import ToeplitzDepthwise


def _reference(x, kernel, left):
    """out[c, b, t] = sum_k kernel[c, k] * x[c, b, t + k - left], zeros outside (numpy loop)."""
    c, b, n = x.shape
    out = np.zeros((c, b, n))
    for t in range(n):
        for k in range(kernel.shape[1]):
            s = t + k - left
            if 0 <= s < n:
                out[:, :, t] += kernel[:, k, None] * x[:, :, s]
    return out


def test_short_and_long_signals_and_small_and_large_batches_filter_the_same_way():
    # Toeplitz product (short signals, batches of MIN_TOEPLITZ_BATCH or more) or grouped convolution.
    torch.manual_seed(0)
    for n_times in (128, ToeplitzDepthwise.MAX_TOEPLITZ_TIMES + 44):
        layer = ToeplitzDepthwise(64, n_times)
        assert (layer.index is None) == (n_times > ToeplitzDepthwise.MAX_TOEPLITZ_TIMES)
        for n_batch in (1, ToeplitzDepthwise.MIN_TOEPLITZ_BATCH):
            x = torch.randn(3, n_batch, n_times, dtype=torch.float64)
            kernel = torch.randn(3, 64, dtype=torch.float64)
            bias = torch.randn(3, dtype=torch.float64)
            expected = _reference(x.numpy(), kernel.numpy(), left=31)
            np.testing.assert_allclose(layer(x, kernel).numpy(), expected, atol=1e-10)
            with_bias = layer(x, kernel, bias).numpy()
            np.testing.assert_allclose(with_bias, expected + bias.numpy()[:, None, None], atol=1e-10)
