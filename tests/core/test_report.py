import numpy as np
import xarray as xr

from biosig.report.plots import contrast_t_values


def _features(ratings_by_subject):
    rng = np.random.default_rng(0)
    subjects, ratings = [], []
    for subject, ratings_ in ratings_by_subject.items():
        subjects += [subject] * len(ratings_)
        ratings += ratings_
    de = rng.normal(size=(len(subjects), 2, 1))
    return xr.Dataset(
        {"de": (("window", "channel", "band"), de)},
        coords={"subject": ("window", subjects), "valence": ("window", ratings), "channel": ["F3", "F4"], "band": ["alpha"]},
    )


def test_contrast_t_values_is_the_paired_t_across_subjects():
    feats = _features({"S1": [1, 5, 1, 5], "S2": [2, 4, 4, 2], "S3": [1, 1, 5, 4]})
    t = contrast_t_values(feats, "valence", 3.0)
    diffs = []
    for s in ("S1", "S2", "S3"):
        sub = feats.where(feats.subject == s, drop=True)
        high = sub.valence.values > 3
        diffs.append(sub.de.values[high].mean(0) - sub.de.values[~high].mean(0))
    diffs = np.array(diffs)
    expected = diffs.mean(0) / (diffs.std(0, ddof=1) / np.sqrt(3))
    np.testing.assert_allclose(t.values, expected)
    assert t.attrs["n_subjects"] == 3


def test_contrast_without_two_informative_subjects_is_blank_not_an_error():
    t = contrast_t_values(_features({"S1": [1, 2], "S2": [4, 5]}), "valence", 3.0)
    assert np.isnan(t.values).all() and t.attrs["n_subjects"] == 0


def test_contrast_significance_is_holm_corrected_over_channels_and_bands():
    from scipy import stats

    from biosig.evaluation.statistics import holm
    from biosig.report.plots import contrast_significance

    t = xr.DataArray([[9.0, 0.5], [4.0, -12.0]], dims=("channel", "band"), attrs={"n_subjects": 6})
    p = 2 * stats.t.sf(np.abs(t.values), df=5)
    expected = holm(p.ravel()).reshape(2, 2) <= 0.05
    mask = contrast_significance(t)
    np.testing.assert_array_equal(mask.values, expected)
    assert mask.values.any() and not mask.values.all()
    assert (contrast_significance(t, correction="fdr").values >= mask.values).all()  # FDR marks at least Holm's cells


def test_blank_contrast_has_no_significant_cell():
    from biosig.report.plots import contrast_significance

    t = contrast_t_values(_features({"S1": [1, 2], "S2": [4, 5]}), "valence", 3.0)
    assert not contrast_significance(t).values.any()
