"""scikit-learn estimators wrapping the model zoo: :class:`DeepClassifier` and :class:`DeepRegressor`.

Each wraps one registered model (:data:`graphs.models.MODELS`: ``histn``,
``hierarchical_gnn``, ``eegnet``, ``dgcnn``, ``logreg_de``) built with
:func:`graphs.models.build_model` and trained by :func:`graphs.training.trainer.fit`,
with the hyper-parameters as constructor arguments, so that
:func:`~sklearn.model_selection.cross_val_score` (with ``groups``),
:class:`~sklearn.model_selection.GridSearchCV`, :func:`~sklearn.base.clone` and
:class:`~sklearn.pipeline.Pipeline` work::

    clf = DeepClassifier("histn", hparams={"n_times": 128}, epochs=30)
    cross_val_score(clf, X, y, groups=trials, cv=GroupKFold())

``X`` is EEG windows as in :mod:`biosig.sklearn`: :class:`mne.Epochs`, an
array ``(n_windows, n_channels, n_times)`` in volts (or any scale the model
should see), or ``(n_windows, n_channels * n_times)`` with ``n_channels``.
Models on raw windows (``input_dims`` ``("channel", "time")``) get the windows
as float32; models on differential entropy (``("channel", "band")``) get the DE
in ``bands`` (default :data:`~biosig.features.eeg.DEFAULT_BANDS`), computed from the windows at
``sfreq``. The HiSTN family expects its hierarchy's channel order
(``hparams["hierarchy"]``, default the Emotiv 14): Epochs are reordered by
channel name, arrays must already be in that order.

Training is the trainer's loop (class-balanced batches, Adam at a constant
``lr``, max-norm constraints) without validation data, so the last epoch is
kept; the same ``seed`` gives the same weights and predictions on the CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from biosig.config import TrainConfig
from biosig.features.eeg import DEFAULT_BANDS, band_power, differential_entropy
from biosig.sklearn import Windows, validate_windows
from graphs.models import MODELS, EEGModel, build_model, make_config
from graphs.training.trainer import fit as train_model
from graphs.training.trainer import predict_proba as model_proba
from graphs.training.trainer import predict_values as model_values
from graphs.training.window_set import INPUT_DIMS

#: Hyper-parameters the wrappers set themselves: from the task (outputs) and, unless given, from ``X``.
_TASK_HPARAMS = ("n_outputs", "output")


class _DeepEstimator(BaseEstimator):
    """Shared part of the wrappers: inputs from windows, model construction, training.

    Parameters
    ----------
    model
        Registered model name (:data:`graphs.models.MODELS`).
    hparams
        The model's hyper-parameters (see its config class) except
        ``n_outputs`` and ``output``, which the task sets; ``n_channels``,
        ``n_times`` and ``n_bands``, when the model has them, default to the
        input's.
    epochs
        Training epochs (the last one's weights are kept).
    lr
        Adam learning rate, constant.
    batch_size
        Windows per batch; an epoch has ``ceil(n_windows / batch_size)`` batches.
    seed
        Seed of the initial weights, the batches and dropout.
    device
        ``"cpu"`` or ``"cuda"`` (the CPU, with a warning, when no GPU is usable).
    sfreq
        Sampling rate in Hz of array input, needed by models on DE; read from Epochs.
    n_channels
        Channels of 2-D input ``(n_windows, n_channels * n_times)``.
    threads
        torch threads during training; ``None``: torch's choice.
    bands
        Frequency bands ``(name, (fmin, fmax))`` in Hz of the DE models' input.

    Attributes
    ----------
    model_
        The trained :class:`~graphs.models.EEGModel`, in eval mode.
    history_
        Per epoch ``epoch``, ``lr`` and ``train_loss`` (:class:`~graphs.training.trainer.FitResult`).
    n_features_in_
        ``n_channels * n_times`` of the training windows.
    """

    _output: ClassVar[str]

    def __init__(
        self,
        model: str = "histn",
        hparams: Mapping[str, Any] | None = None,
        epochs: int = 50,
        lr: float = 1e-3,
        batch_size: int = 256,
        seed: int = 0,
        device: str = "cpu",
        sfreq: float | None = None,
        n_channels: int | None = None,
        threads: int | None = None,
        bands: tuple[tuple[str, tuple[float, float]], ...] = tuple(DEFAULT_BANDS.items()),
    ) -> None:
        self.model = model
        self.hparams = hparams
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.seed = seed
        self.device = device
        self.sfreq = sfreq
        self.n_channels = n_channels
        self.threads = threads
        self.bands = bands

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    def _train(self, X: Windows, y: np.ndarray, n_outputs: int, regression_loss: str = "mse") -> None:
        """Build the model for ``X`` and train it on ``y`` (class indices, or values with ``regression_loss``)."""
        x = self._inputs(X, reset=True)
        check_consistent_length(x, y)
        hparams = dict(self.hparams or {})
        clash = sorted(set(hparams) & set(_TASK_HPARAMS))
        if clash:
            raise ValueError(f"hparams {clash} are set by {type(self).__name__} from y; leave them out")
        fields = MODELS[self.model].config_class.model_fields
        sizes = {"n_channels": x.shape[1], "n_times" if self._kind() == "raw" else "n_bands": x.shape[2]}
        hparams.update({k: v for k, v in sizes.items() if k in fields and k not in hparams})
        self.model_: EEGModel = build_model(self.model, seed=self.seed, output=self._output, n_outputs=n_outputs, **hparams)
        cfg = TrainConfig(
            epochs=self.epochs, lr=self.lr, lr_steps={}, batch_size=self.batch_size, seed=self.seed,
            device=self.device, threads=self.threads, label_mode="onehot", regression_loss=regression_loss,
        )
        regression = self._output == "regression"
        self.history_ = train_model(self.model_, x, y, None, None, n_outputs, cfg, regression=regression).history

    def _kind(self) -> str:
        """``raw`` or ``de``: which input the model takes."""
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; registered: {', '.join(sorted(MODELS))}")
        dims = MODELS[self.model].input_dims
        for kind in ("raw", "de"):
            if INPUT_DIMS[kind] == dims:
                return kind
        raise ValueError(f"model {self.model!r} takes input {dims}; the wrappers feed windows or their DE only")

    def _inputs(self, X: Windows, reset: bool) -> np.ndarray:
        """Model input float32: the windows ``(n, n_channels, n_times)`` or their DE ``(n, n_channels, n_bands)``.

        In ``fit`` (``reset``) the channel order is chosen: the hierarchy's
        for the HiSTN family, else that of the Epochs; later Epochs are
        reordered to it by name.
        """
        kind = self._kind()
        if not reset:
            check_is_fitted(self)
        data, sfreq, names = validate_windows(self, X, reset=reset, sfreq=self.sfreq, n_channels=self.n_channels)
        if reset:
            hierarchy = getattr(make_config(self.model, **(self.hparams or {})), "hierarchy", None)
            self.ch_names_ = None if names is None else list(hierarchy.channels if hierarchy else names)
            self.sfreq_ = sfreq
            self.n_times_ = data.shape[2]
        elif data.shape[2] != self.n_times_:
            raise ValueError(f"X has windows of {data.shape[2]} samples; the model was trained on {self.n_times_}")
        if names is not None and self.ch_names_ is not None:
            missing = [ch for ch in self.ch_names_ if ch not in names]
            if missing:
                raise ValueError(f"X lacks the channels {missing} the model takes")
            data = data[:, [names.index(ch) for ch in self.ch_names_]]
        if kind == "de":
            rate = sfreq if sfreq is not None else self.sfreq_
            if rate is None:
                raise ValueError(f"model {self.model!r} takes differential entropy: give sfreq (Hz)")
            data = differential_entropy(band_power(data, rate, dict(self.bands)))
        return np.ascontiguousarray(data, dtype=np.float32)


def _targets(estimator: BaseEstimator, y: Any) -> np.ndarray:
    """``y`` as a 1-D array (a column vector warns, as in scikit-learn); ``None`` refused."""
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None")
    return column_or_1d(y, warn=True)


class DeepClassifier(ClassifierMixin, _DeepEstimator):
    """A zoo model as a scikit-learn classifier (parameters in :class:`_DeepEstimator`).

    The model has one output per class of ``y`` (``classes_``, sorted) and
    trains with cross-entropy on one-hot targets.

    Examples
    --------
    >>> clf = DeepClassifier("eegnet", epochs=5, batch_size=32)  # doctest: +SKIP
    >>> clf.fit(X_train, y_train).predict_proba(X_test)  # doctest: +SKIP
    """

    _output = "classes"

    def fit(self, X: Windows, y: Any) -> DeepClassifier:
        """Train on windows ``X`` and labels ``y`` ``(n_windows,)`` (any labels, at least 2 classes)."""
        y = _targets(self, y)
        check_classification_targets(y)
        self.classes_, indices = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            n = len(self.classes_)
            raise ValueError(f"{type(self).__name__} needs at least 2 classes; y has {n} class{'' if n == 1 else 'es'}")
        self._train(X, indices.astype(np.int64), len(self.classes_))
        return self

    def predict_proba(self, X: Windows) -> np.ndarray:
        """Class probabilities ``(n_windows, n_classes)`` float64, columns in ``classes_`` order."""
        x = self._inputs(X, reset=False)
        return model_proba(self.model_, x)

    def predict(self, X: Windows) -> np.ndarray:
        """The most probable class of each window ``(n_windows,)``, from ``classes_``."""
        proba = self.predict_proba(X)
        return self.classes_[proba.argmax(axis=1)]


class DeepRegressor(RegressorMixin, _DeepEstimator):
    """A zoo model as a scikit-learn regressor of one target (parameters in :class:`_DeepEstimator`).

    The model's single output is trained with ``loss`` (``"mse"``, or
    ``"ccc"``: 1 - Lin's concordance correlation of each batch).
    """

    _output = "regression"

    def __init__(
        self,
        model: str = "histn",
        hparams: Mapping[str, Any] | None = None,
        epochs: int = 50,
        lr: float = 1e-3,
        batch_size: int = 256,
        seed: int = 0,
        device: str = "cpu",
        sfreq: float | None = None,
        n_channels: int | None = None,
        threads: int | None = None,
        bands: tuple[tuple[str, tuple[float, float]], ...] = tuple(DEFAULT_BANDS.items()),
        loss: str = "mse",
    ) -> None:
        super().__init__(model, hparams, epochs, lr, batch_size, seed, device, sfreq, n_channels, threads, bands)
        self.loss = loss

    def fit(self, X: Windows, y: Any) -> DeepRegressor:
        """Train on windows ``X`` and finite targets ``y`` ``(n_windows,)``."""
        y = _targets(self, y).astype(np.float64)
        if self.loss not in ("mse", "ccc"):
            raise ValueError(f"loss must be 'mse' or 'ccc'; got {self.loss!r}")
        self._train(X, y, 1, self.loss)
        return self

    def predict(self, X: Windows) -> np.ndarray:
        """Predicted values ``(n_windows,)`` float64."""
        x = self._inputs(X, reset=False)
        return model_values(self.model_, x)
