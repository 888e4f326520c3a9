"""Words for the identifiers of ``metrics.json``, for titles, tables and legends people read.

An identifier without an entry is shown as it is, so a new task or metric
still appears (in its identifier) rather than failing a report.
"""

from __future__ import annotations

from collections.abc import Sequence

#: Models of the run (``models[].name`` in the config).
MODELS: dict[str, str] = {
    "logreg": "logistic regression",
    "histn": "HiSTN",
    "dgcnn": "DGCNN",
}

#: Rating targets and condition targets.
TARGETS: dict[str, str] = {
    "valence": "valence",
    "arousal": "arousal",
    "dominance": "dominance",
}

#: Evaluation protocols (``evaluation.protocols``).
PROTOCOLS: dict[str, str] = {
    "within_subject": "within subject, whole trials held out",
    "subject_dependent_kfold": "within subject, whole trials held out",
    "histn_blocks": "within trial, HiSTN's 10 blocks (leaky)",
    "loso": "leave one subject out",
}

#: Scores (keys of one protocol entry of ``metrics.json``).
METRICS: dict[str, str] = {
    "f1_weighted": "weighted F1",
    "pooled_f1_weighted": "weighted F1 over pooled windows",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced accuracy",
    "chance_f1_weighted": "chance weighted F1",
    "top2_accuracy": "top-2 accuracy",
    "seq2hr": "Seq2HR (ordinal hit rate)",
    "tri_p": "Tri-P (within one rating)",
    "ccc": "concordance (CCC)",
    "pearson_r": "Pearson r",
    "rmse": "RMSE",
    "mae": "MAE",
}


def model_label(model: str) -> str:
    """``"logreg"`` -> ``"logistic regression"``."""
    return MODELS.get(model, model)


def target_label(target: str) -> str:
    """A target in words (``"valence"`` stays ``"valence"``)."""
    return TARGETS.get(target, target)


def task_label(task: str, threshold: float = 3.0) -> str:
    """``"five_class"`` -> ``"5 rating levels"``; ``"binary"`` -> ``"low (<= 3) / high (> 3)"`` at ``threshold``."""
    cut = f"{threshold:g}"
    words = {
        "binary": f"low (<= {cut}) / high (> {cut})",
        "five_class": "5 rating levels",
        "regression": "rating as a number",
    }
    return words.get(task, task)


def protocol_label(protocol: str) -> str:
    """``"loso"`` -> ``"leave one subject out"``."""
    return PROTOCOLS.get(protocol, protocol)


def metric_label(metric: str) -> str:
    """``"f1_weighted"`` -> ``"weighted F1"``."""
    return METRICS.get(metric, metric)


def class_names(task: str, labels: Sequence[int], threshold: float = 3.0) -> list[str]:
    """Plain names of the classes of a confusion matrix.

    ``binary``: ``"low (<= 3)"`` and ``"high (> 3)"``; ``five_class``: the
    rating ``"1"`` .. ``"5"`` (class indices 0..4, as the deep models write
    them, are shifted to ratings 1..5).
    """
    labels = [int(v) for v in labels]
    if task == "binary" and labels == [0, 1]:
        cut = f"{threshold:g}"
        return [f"low (<= {cut})", f"high (> {cut})"]
    if task == "five_class" and labels == list(range(5)):
        labels = [v + 1 for v in labels]
    return [str(v) for v in labels]


def class_axis_label(task: str, target: str) -> str:
    """What the classes of a confusion matrix are: ``"valence rating 1..5"`` or ``"valence, low / high"``."""
    if task == "five_class":
        return f"{target_label(target)} rating 1..5"
    if task == "binary":
        return f"{target_label(target)}, low / high"
    return target_label(target)


def entry_title(target: str, task: str, protocol: str | None = None, threshold: float = 3.0) -> str:
    """``"valence, 5 rating levels, leave one subject out"`` (the protocol part only when given)."""
    parts = [target_label(target), task_label(task, threshold)]
    if protocol is not None:
        parts.append(protocol_label(protocol))
    return ", ".join(parts)
