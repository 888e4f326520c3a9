"""Condition targets in the report's words: the conditions named, not low/high ratings."""

from biosig.report.labels import class_axis_label, class_names, entry_classes, entry_title, metric_label, task_label


def test_binary_condition_names_its_two_conditions():
    classes = ["arithmetic", "rest"]
    assert task_label("binary", 3.0, classes) == "arithmetic / rest"
    assert entry_title("condition", "binary", classes=classes) == "condition: arithmetic / rest"
    assert entry_title("condition", "binary", "loso", classes=classes) == "condition: arithmetic / rest, leave one subject out"
    assert class_names("binary", [0, 1], classes=classes) == ["arithmetic", "rest"]
    assert class_axis_label("binary", "condition", classes) == "condition"


def test_multiclass_condition_counts_its_conditions():
    classes = ["a", "b", "c"]
    assert task_label("multiclass", classes=classes) == "3 conditions"
    assert entry_title("condition", "multiclass", classes=classes) == "condition: 3 conditions"
    assert class_names("multiclass", [0, 1, 2], classes=classes) == ["a", "b", "c"]
    assert task_label("multiclass") == "several conditions"


def test_rating_labels_are_unchanged_and_roc_auc_has_words():
    assert task_label("binary", 3.0) == "low (<= 3) / high (> 3)"
    assert entry_title("valence", "five_class", "loso") == "valence, 5 rating levels, leave one subject out"
    assert metric_label("roc_auc") == "ROC AUC"
    assert entry_classes({"loso": {"classes": ["x", "y"]}}) == ["x", "y"]
    assert entry_classes({"loso": {"f1_weighted": 0.5}}) is None
