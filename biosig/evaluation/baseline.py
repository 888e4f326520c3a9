"""Baseline classifier on window features: standardised L2 logistic regression.

:func:`evaluate_cohort` runs every configured target x task x protocol it can
(:data:`FEATURE_TASKS` x :data:`FEATURE_PROTOCOLS`; :func:`unsupported` names
the others, which the runner skips with a note) for one seed and returns the
nested metrics (``metrics[target][task][protocol][metric]``, one model's part
of ``metrics.json``) and the out-of-fold predictions. Scores are computed per subject and averaged over
subjects (the field's convention); pooled scores are reported beside them.
A chance reference is measured under the same splits with a stratified random
predictor (scikit-learn's ``DummyClassifier``). ``within_subject`` folds are
assigned per trial (:func:`~biosig.evaluation.trial_folds.trial_fold_splits`),
so the deep models of a run hold out the same trials. With
``evaluation.permutations`` the whole fold loop is rerun on trial-level
shuffled labels (:func:`~biosig.evaluation.chance.trial_shuffles`, as
:func:`~biosig.evaluation.chance.permutation_chance` draws them) and the
entry gains ``permutation`` (:meth:`~biosig.evaluation.chance.PermutationChance.to_dict`
of the subject-mean ``f1_weighted``). Each fold's fits (true labels and every
shuffle) form one task (:func:`fit_fold`), run in worker processes with
``workers > 1``. A ``condition`` target is classified into its conditions
(:mod:`biosig.evaluation.targets`); binary tasks add ROC AUC.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from biosig.config import EvaluationConfig
from biosig.evaluation.chance import chance_from_null, trial_shuffles
from biosig.evaluation.metrics import classification_scores, subject_roc_auc
from biosig.evaluation.protocols import Split, leave_one_subject_out
from biosig.evaluation.targets import TargetTask, condition_labels, protocol_skip, target_tasks
from biosig.evaluation.trial_folds import trial_fold_splits
from biosig.executor import Executor
from biosig.features.extract import feature_matrix

#: Protocols of :class:`~biosig.config.EvaluationConfig` the feature baseline runs (``within_subject``: k-fold of whole trials).
FEATURE_PROTOCOLS: tuple[str, ...] = ("within_subject", "loso")
#: Tasks it runs on rating targets (a classifier: no regression); a condition target has its own.
FEATURE_TASKS: tuple[str, ...] = ("binary", "five_class")


def unsupported(cfg: EvaluationConfig) -> list[str]:
    """Notes for the configured tasks and protocols the feature baseline cannot run (they are skipped)."""
    notes = [f"task {t}: the feature baseline is a classifier; skipped" for t in cfg.tasks if t not in FEATURE_TASKS]
    notes += [
        f"protocol {p}: splits deep-model windows within trials; the feature baseline skips it"
        for p in cfg.protocols
        if p not in FEATURE_PROTOCOLS
    ]
    return notes


def labels_for(ratings: np.ndarray, task: str, threshold: float) -> np.ndarray:
    """Class labels from ratings: ``rating > threshold`` (binary) or the integer rating (five_class)."""
    if task == "binary":
        return (np.asarray(ratings) > threshold).astype(int)
    return np.rint(ratings).astype(int)


def make_classifier(C: float, seed: int) -> Pipeline:
    """Median imputation (peripheral windows without beats are NaN) -> z-scoring -> logistic regression."""
    return make_pipeline(
        SimpleImputer(strategy="median", keep_empty_features=True),
        StandardScaler(),
        LogisticRegression(C=C, max_iter=2000, random_state=seed),
    )


def splits_for(protocol: str, features: xr.Dataset, labels: np.ndarray, n_folds: int, seed: int) -> Iterator[Split]:
    """The protocol's folds over the cohort's windows (``within_subject``: trial-level folds shared by every model)."""
    subjects = features["subject"].values
    if protocol == "within_subject":
        return iter(trial_fold_splits(subjects, features["trial"].values, labels, n_folds, seed))
    if protocol == "loso":
        return leave_one_subject_out(subjects)
    raise ValueError(f"the feature baseline cannot run protocol {protocol!r}; it runs {list(FEATURE_PROTOCOLS)}")


def predict_folds(
    x: np.ndarray, y: np.ndarray, splits: Iterable[Split], C: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold predictions of the classifier (inverse L2 strength ``C``) and of the chance reference, ``(n_windows,)`` each."""
    pred, chance, _expected = fold_predictions(x, y, splits, C, seed)
    return pred, chance


def fold_predictions(
    x: np.ndarray, y: np.ndarray, splits: Iterable[Split], C: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`predict_folds` plus the probability-weighted class label, ``(n_windows,)`` each.

    The third array is ``predict_proba @ classes`` of each test row: for
    classes 0/1 the probability of class 1 (what ROC AUC ranks by).
    """
    splits = list(splits)
    fits = [fit_fold(FoldData(x[train], x[test], [y[train]]), C, seed) for _fold, train, test in splits]
    pred, expected = _assemble(len(y), splits, fits)[0]
    return pred, stratified_predictions(x, y, splits, seed), expected


@dataclass(frozen=True)
class FoldData:
    """One fold's windows: ``x_train`` ``(n_train, n_features)``, ``x_test`` ``(n_test, n_features)``, and
    the training labels ``(n_train,)`` of every label set fitted on them (true labels, then shuffles)."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_trains: list[np.ndarray]


def fit_fold(fold: FoldData, C: float, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`make_classifier` fitted on the fold for each label set: ``(pred, expected)`` ``(n_test,)`` each.

    The imputer and scaler depend on the windows only, not on the labels, so
    they are fitted once and shared by the label sets: the same numbers as
    one pipeline per label set. A label set of one class predicts that class.
    """
    with threadpool_limits(limits=1):  # one BLAS thread: see evaluate_cohort
        pipeline = make_classifier(C, seed)
        prep, model = pipeline[:-1], pipeline[-1]
        xt_train = xt_test = None
        out = []
        for y_train in fold.y_trains:
            classes = np.unique(y_train)
            if len(classes) == 1:
                # A subject who rated every training trial alike: the only honest guess is that class.
                constant = np.full(len(fold.x_test), classes[0])
                out.append((constant, constant.astype(float)))
                continue
            if xt_train is None:
                xt_train = prep.fit_transform(fold.x_train)
                xt_test = prep.transform(fold.x_test)
            fitted = clone(model).fit(xt_train, y_train)
            out.append((fitted.predict(xt_test), fitted.predict_proba(xt_test) @ fitted.classes_))
    return out


def stratified_predictions(x: np.ndarray, y: np.ndarray, splits: list[Split], seed: int) -> np.ndarray:
    """Out-of-fold predictions ``(n_windows,)`` of the chance reference (a stratified random guess)."""
    chance = np.full(len(y), -1)
    for _fold, train, test in splits:
        dummy = DummyClassifier(strategy="stratified", random_state=seed)
        chance[test] = dummy.fit(x[train], y[train]).predict(x[test])
    return chance


def _assemble(
    n_windows: int, splits: list[Split], fits: list[list[tuple[np.ndarray, np.ndarray]]], n_sets: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per label set (``n_sets``), the out-of-fold ``(pred, expected)`` ``(n_windows,)`` from :func:`fit_fold`'s per-fold results."""
    sets = []
    for k in range(n_sets):
        pred, expected = np.full(n_windows, -1), np.full(n_windows, np.nan)
        for (_fold, _train, test), fold_fits in zip(splits, fits):
            pred[test], expected[test] = fold_fits[k]
        sets.append((pred, expected))
    return sets


def feature_plan(features: xr.Dataset, cfg: EvaluationConfig) -> tuple[list[TargetTask], list[str]]:
    """The target x task combinations the baseline runs on ``features`` and notes on the targets it skips.

    Rating targets take the configured tasks it supports (:data:`FEATURE_TASKS`),
    the condition target its own (:func:`~biosig.evaluation.targets.target_tasks`).
    """
    plan: list[TargetTask] = []
    notes: list[str] = []
    tasks = [t for t in cfg.tasks if t in FEATURE_TASKS]
    for target in cfg.targets:
        values = features[target].values if target in features.variables else None
        combos, skipped = target_tasks(target, values, tasks)
        plan += combos
        notes += skipped
    return plan, notes


def target_labels(features: xr.Dataset, combo: TargetTask, threshold: float) -> np.ndarray:
    """Class label per window ``(n_windows,)``: condition indices, or :func:`labels_for` of the ratings."""
    values = features[combo.target].values
    if combo.classes is not None:
        return condition_labels(values, combo.classes)
    return labels_for(values, combo.task, threshold)


def evaluate_cohort(
    features: xr.Dataset,
    cfg: EvaluationConfig,
    C: float,
    seed: int,
    on_step: Callable[[str], None] | None = None,
    notes: list[str] | None = None,
    workers: int = 1,
) -> tuple[dict, pd.DataFrame]:
    """Evaluate the baseline (inverse L2 strength ``C``) with one ``seed`` on every target, task and protocol it runs.

    Targets and tasks follow :func:`feature_plan`; a protocol that cannot run
    on the cohort (:func:`~biosig.evaluation.targets.protocol_skip`) is left
    out. What is skipped, and binary entries whose ROC AUC is undefined for a
    subject, are appended to ``notes`` when given. ``workers > 1`` fits the
    folds in that many local processes (:class:`~biosig.executor.Executor`);
    every fit is the serial one, so the results are identical.

    Returns
    -------
    metrics
        ``metrics[target][task][protocol]`` -> dict of scores (see
        :func:`biosig.evaluation.metrics.classification_scores`) plus
        ``chance_f1_weighted``; binary tasks add ``roc_auc``
        (:func:`~biosig.evaluation.metrics.subject_roc_auc`), condition
        targets ``classes`` (the condition of each class index).
    predictions
        One row per window and combination: subject, trial, t_start, target,
        task, protocol, fold, y_true, y_pred, expected (probability-weighted
        class label; binary: the probability of class 1).
    """
    x, _names = feature_matrix(features)
    metrics: dict = {}
    frames = []
    plan, skipped = feature_plan(features, cfg)
    subjects, trials = features["subject"].values, features["trial"].values
    # These fits are small (thousands x ~80): multi-threaded BLAS only adds
    # synchronisation, measured 10-100x slower on 2 busy cores than one thread.
    with threadpool_limits(limits=1), Executor(workers=workers) as executor:
        for combo in plan:
            target, task = combo.target, combo.task
            y = target_labels(features, combo, cfg.threshold)
            strata = features[target].values if combo.classes is not None else y
            for protocol in (p for p in cfg.protocols if p in FEATURE_PROTOCOLS):
                reason = protocol_skip(protocol, subjects, trials, strata, cfg.n_folds, combo.classes is not None)
                if reason is not None:
                    skipped.append(f"{target} {task}: {reason}")
                    continue
                if on_step is not None:
                    on_step(f"{target} {task} {protocol}")
                scores, pred, expected, folds = _evaluate_one(x, y, features, combo, protocol, cfg, C, seed, executor)
                if scores.get("roc_auc_undefined"):
                    skipped.append(
                        f"{target} {task} {protocol}: ROC AUC undefined (NaN) for subjects {scores['roc_auc_undefined']}, "
                        "whose tested windows hold one class only"
                    )
                metrics.setdefault(target, {}).setdefault(task, {})[protocol] = scores
                frames.append(
                    pd.DataFrame(
                        {
                            "subject": subjects,
                            "trial": trials,
                            "t_start": features["t_start"].values,
                            "target": target,
                            "task": task,
                            "protocol": protocol,
                            "fold": folds,
                            "y_true": y,
                            "y_pred": pred,
                            "expected": expected,
                        }
                    )
                )
    if notes is not None:
        notes += [n for n in skipped if n not in notes]
    return metrics, pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _evaluate_one(
    x: np.ndarray,
    y: np.ndarray,
    features: xr.Dataset,
    combo: TargetTask,
    protocol: str,
    cfg: EvaluationConfig,
    C: float,
    seed: int,
    executor: Executor,
) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray]:
    """Scores, out-of-fold predictions and expected labels, and fold names ``(n_windows,)`` of one combination.

    Every fold is one task for ``executor``: the fits of the true labels and
    of each permutation's shuffle (:func:`fit_fold`).
    """
    subjects, trials = features["subject"].values, features["trial"].values
    task = combo.task
    if combo.classes is not None:
        class_labels = list(range(len(combo.classes)))
    else:
        class_labels = [0, 1] if task == "binary" else [1, 2, 3, 4, 5]
    # The folds are cut once from the true labels; every permutation reuses them.
    splits = list(splits_for(protocol, features, y, cfg.n_folds, seed))
    shuffles = trial_shuffles(y, subjects, trials, cfg.permutations, seed) if cfg.permutations else []
    label_sets = [y, *shuffles]
    folds_data = (FoldData(x[train], x[test], [labels[train] for labels in label_sets]) for _f, train, test in splits)
    fits = list(executor.map(partial(fit_fold, C=C, seed=seed), folds_data))
    (pred, expected), *shuffled = _assemble(len(y), splits, fits, len(label_sets))
    chance = stratified_predictions(x, y, splits, seed)
    scores = classification_scores(y, pred, subjects, class_labels)
    scores["chance_f1_weighted"] = classification_scores(y, chance, subjects, class_labels)["f1_weighted"]
    if task == "binary":
        scores.update(subject_roc_auc(y, expected, subjects))
    if combo.classes is not None:
        scores["classes"] = list(combo.classes)
    if cfg.permutations:
        null = [
            classification_scores(labels, shuffled_pred, subjects, class_labels)["f1_weighted"]
            for labels, (shuffled_pred, _expected) in zip(shuffles, shuffled)
        ]
        scores["permutation"] = chance_from_null(scores["f1_weighted"], np.array([float(v) for v in null])).to_dict()
    folds = np.empty(len(y), dtype=object)
    for name, _train, test in splits:
        folds[test] = name
    return scores, pred, expected, folds
