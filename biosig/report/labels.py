"""Words for the identifiers of ``metrics.json``, for titles, tables and legends people read.

An identifier without an entry is shown as it is, so a new task or metric
still appears (in its identifier) rather than failing a report. A condition
target's entries carry their class names (``"classes"``), which the task and
class labels take as ``classes``.
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
    "condition": "condition",
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
    "roc_auc": "ROC AUC",
}


def model_label(model: str) -> str:
    """``"logreg"`` -> ``"logistic regression"``."""
    return MODELS.get(model, model)


def target_label(target: str) -> str:
    """A target in words (``"valence"`` stays ``"valence"``)."""
    return TARGETS.get(target, target)


def task_label(task: str, threshold: float = 3.0, classes: Sequence[str] | None = None) -> str:
    """``"five_class"`` -> ``"5 rating levels"``; ``"binary"`` -> ``"low (<= 3) / high (> 3)"`` at ``threshold``.

    With the condition names of a condition target (``classes``, an entry's
    ``"classes"``): ``"rest / arithmetic"`` (binary) or ``"3 conditions"`` (multiclass).
    """
    if classes:
        return " / ".join(classes) if len(classes) <= 2 else f"{len(classes)} conditions"
    cut = f"{threshold:g}"
    words = {
        "binary": f"low (<= {cut}) / high (> {cut})",
        "five_class": "5 rating levels",
        "regression": "rating as a number",
        "multiclass": "several conditions",
    }
    return words.get(task, task)


def protocol_label(protocol: str) -> str:
    """``"loso"`` -> ``"leave one subject out"``."""
    return PROTOCOLS.get(protocol, protocol)


def metric_label(metric: str) -> str:
    """``"f1_weighted"`` -> ``"weighted F1"``."""
    return METRICS.get(metric, metric)


def class_names(
    task: str, labels: Sequence[int], threshold: float = 3.0, classes: Sequence[str] | None = None
) -> list[str]:
    """Plain names of the classes of a confusion matrix.

    ``binary``: ``"low (<= 3)"`` and ``"high (> 3)"``; ``five_class``: the
    rating ``"1"`` .. ``"5"`` (class indices 0..4, as the deep models write
    them, are shifted to ratings 1..5); a condition target: its condition
    names (``classes``, class index i is ``classes[i]``).
    """
    labels = [int(v) for v in labels]
    if classes:
        return [str(classes[v]) if 0 <= v < len(classes) else str(v) for v in labels]
    if task == "binary" and labels == [0, 1]:
        cut = f"{threshold:g}"
        return [f"low (<= {cut})", f"high (> {cut})"]
    if task == "five_class" and labels == list(range(5)):
        labels = [v + 1 for v in labels]
    return [str(v) for v in labels]


def class_axis_label(task: str, target: str, classes: Sequence[str] | None = None) -> str:
    """What the classes of a confusion matrix are: ``"valence rating 1..5"``, ``"valence, low / high"`` or ``"condition"``."""
    if classes:
        return target_label(target)
    if task == "five_class":
        return f"{target_label(target)} rating 1..5"
    if task == "binary":
        return f"{target_label(target)}, low / high"
    return target_label(target)


def entry_title(
    target: str, task: str, protocol: str | None = None, threshold: float = 3.0, classes: Sequence[str] | None = None
) -> str:
    """``"valence, 5 rating levels, leave one subject out"`` (the protocol part only when given).

    A condition target with its ``classes``: ``"condition: rest / arithmetic"``.
    """
    parts = [target_label(target), task_label(task, threshold, classes)]
    if classes:
        parts = [f"{parts[0]}: {parts[1]}"]
    if protocol is not None:
        parts.append(protocol_label(protocol))
    return ", ".join(parts)


def entry_classes(by_protocol: dict) -> list[str] | None:
    """The condition names of one target x task (``metrics[model][target][task]``), ``None`` for a rating target."""
    for entry in by_protocol.values():
        if isinstance(entry, dict) and entry.get("classes"):
            return list(entry["classes"])
    return None
