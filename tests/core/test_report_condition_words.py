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


def test_results_table_shows_roc_auc_and_says_when_nothing_was_scored() -> None:
    from biosig.report.writer import render_markdown

    info = {"name": "t", "config": {"evaluation": {"threshold": 3.0}}, "timings_s": {}}
    entry = {"f1_weighted": 0.7, "f1_weighted_std": 0.1, "balanced_accuracy": 0.65, "roc_auc": 0.812,
             "chance_f1_weighted": 0.5, "classes": ["rest", "task"]}
    report = render_markdown({"logreg": {"condition": {"binary": {"loso": entry}}}}, info, {})
    row = next(line for line in report.splitlines() if line.startswith("| logistic regression"))
    assert "| 0.650 | 0.812 | 0.500 |" in row and "ROC AUC" in report
    nan_auc = render_markdown({"logreg": {"condition": {"binary": {"loso": {**entry, "roc_auc": float("nan")}}}}}, info, {})
    assert "| 0.650 | - | 0.500 |" in nan_auc  # NaN shown as missing
    empty = render_markdown({"logreg": {}}, {**info, "notes": ["logreg: loso skipped: one subject"]}, {})
    assert "No model produced a score" in empty and "| model | target" not in empty
