import numpy as np
import pytest
from scipy.stats import pearsonr
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, f1_score, top_k_accuracy_score

from biosig.errors import DataError
from biosig.evaluation.regression_metrics import concordance_correlation
from graphs.training.ordinal_metrics import ordinal_scores, seq2hr, subject_mean_scores, top_k_accuracy, tri_p

# Four samples, five classes; top-2 per row: (2, 3) adjacent, (0, 4) apart, (1, 0) adjacent, (3, 4) adjacent.
PROBA = np.array(
    [
        [0.05, 0.10, 0.50, 0.30, 0.05],
        [0.40, 0.05, 0.10, 0.05, 0.40 - 1e-3],
        [0.30, 0.40, 0.10, 0.10, 0.10],
        [0.00, 0.00, 0.10, 0.50, 0.40],
    ]
)
Y = np.array([3, 4, 2, 1])


def test_seq2hr_hand_computed():
    # row 0: adjacent and y=3 in {2,3} -> hit; row 1: y=4 in top-2 but 0 and 4 are not adjacent -> miss;
    # row 2: adjacent but y=2 not in {1,0} -> miss; row 3: y=1 not in {3,4} -> miss.
    assert seq2hr(Y, PROBA) == 0.25
    assert seq2hr(np.array([2, 0, 0, 4]), PROBA) == 0.75


def test_top2_against_sklearn_and_present_classes_only():
    assert top_k_accuracy(Y, PROBA, 2) == 0.5
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(5), size=200)
    y = rng.integers(0, 5, 200)
    for k in (1, 2, 3):
        assert top_k_accuracy(y, p, k) == pytest.approx(top_k_accuracy_score(y, p, k=k, labels=range(5)))
    # The authors rank only the classes present in the test labels: here 0 and 1, so top-2 is always a hit.
    assert top_k_accuracy(np.array([0, 1, 1, 0]), PROBA, 2, present_only=True) == 1.0
    assert top_k_accuracy(np.array([0, 1, 1, 0]), PROBA, 2) == 0.25


def test_tri_p_hand_computed_and_as_confusion_band():
    assert tri_p(np.array([0, 1, 2, 4]), np.array([1, 3, 2, 0])) == 0.5
    rng = np.random.default_rng(1)
    y, pred = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    cm = confusion_matrix(y, pred, labels=range(5))
    band = sum(np.trace(cm, offset=k) for k in (-1, 0, 1))
    assert tri_p(y, pred) == pytest.approx(band / 300)


def test_ccc_against_pearson_identity():
    rng = np.random.default_rng(2)
    x = rng.normal(3, 1, 500)
    y = 0.7 * x + rng.normal(0.5, 0.4, 500)
    r = pearsonr(x, y)[0]
    sx, sy = x.std(), y.std()
    expected = 2 * r * sx * sy / (sx**2 + sy**2 + (x.mean() - y.mean()) ** 2)
    assert concordance_correlation(x, y) == pytest.approx(expected, rel=1e-10)
    assert concordance_correlation(x, x) == pytest.approx(1.0)
    # A shifted copy is perfectly correlated but not concordant: 2 var / (2 var + 1) for a shift of 1.
    assert concordance_correlation(x, x + 1) == pytest.approx(2 * x.var() / (2 * x.var() + 1))
    with pytest.raises(DataError):
        concordance_correlation(np.ones(3), np.ones(3))


def test_ordinal_scores_match_sklearn():
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(5), size=120)
    y = rng.integers(0, 5, 120)
    s = ordinal_scores(y, p, range(5))
    pred = p.argmax(axis=1)
    assert s["f1_weighted"] == pytest.approx(f1_score(y, pred, average="weighted"))
    assert s["accuracy"] == pytest.approx(accuracy_score(y, pred))
    assert s["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y, pred))
    assert s["confusion_matrix"] == confusion_matrix(y, pred, labels=range(5)).tolist()
    assert s["seq2hr"] == seq2hr(y, p) and s["tri_p"] == tri_p(y, pred)
    binary = ordinal_scores(np.array([0, 1]), np.array([[0.8, 0.2], [0.3, 0.7]]), [0, 1])
    assert "seq2hr" not in binary and binary["accuracy"] == 1.0


def test_subject_mean_scores_average_subjects_not_windows():
    # Subject a: 2 windows, both right; subject b: 6 windows, 3 right -> mean 0.75, pooled 5/8.
    y = np.array([0, 1, 0, 0, 0, 1, 1, 1])
    pred = np.array([0, 1, 0, 0, 1, 1, 0, 0])
    p = np.eye(2)[pred]
    subjects = np.array(["a", "a", "b", "b", "b", "b", "b", "b"])
    s = subject_mean_scores(y, p, subjects, [0, 1])
    assert s["accuracy"] == pytest.approx(0.75)
    assert s["accuracy_std"] == pytest.approx(0.25)
    assert s["pooled"]["accuracy"] == pytest.approx(5 / 8)
    assert s["per_subject"]["b"]["accuracy"] == pytest.approx(0.5)


def test_bad_shapes_are_data_errors():
    with pytest.raises(DataError, match="y_true"):
        seq2hr(np.array([0, 1]), PROBA)
    with pytest.raises(DataError, match="class indices"):
        seq2hr(np.array([0, 1, 2, 7]), PROBA)
