"""The run's HTML report: its sections, flags and missing subjects, and the page in headless Chromium."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import mne
import numpy as np
import pytest
import xarray as xr

from biosig.montage import standard_montage
from biosig.report.html import SECTIONS, write_html_report
from biosig.report.labels import class_names, entry_title, protocol_label, task_label
from biosig.report.score_figures import subject_scores_figure

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CHANNELS = ["AF3", "F7", "F3", "FC5", "T7", "P7", "O1", "O2", "P8", "T8", "FC6", "F4", "F8", "AF4"]
SUBJECTS = ["S01", "S02", "S03", "S04"]


def _info() -> mne.Info:
    info = mne.create_info(CHANNELS, 128.0, "eeg")
    info.set_montage(standard_montage())
    return info


def _raws() -> tuple[mne.io.RawArray, mne.io.RawArray]:
    rng = np.random.default_rng(0)
    t = np.arange(20 * 128) / 128
    data = 1e-5 * rng.normal(size=(len(CHANNELS), t.size)) + 2e-5 * np.sin(2 * np.pi * 50 * t)
    before = mne.io.RawArray(data, _info(), verbose="error")
    after = before.copy().filter(1.0, 45.0, verbose="error")
    return before, after


def _features() -> xr.Dataset:
    rng = np.random.default_rng(1)
    subjects = np.repeat(SUBJECTS, 12)
    ratings = np.tile([1, 2, 4, 5] * 3, len(SUBJECTS)).astype(float)
    de = rng.normal(size=(subjects.size, len(CHANNELS), 2))
    de[:, 2, 0] += 3.0 * (ratings > 3)  # F3, alpha: a strong, consistent contrast
    return xr.Dataset(
        {"de": (("window", "channel", "band"), de)},
        coords={"subject": ("window", subjects), "valence": ("window", ratings), "arousal": ("window", ratings[::-1]),
                "channel": CHANNELS, "band": ["alpha", "beta"]},
    )


def _stats_entry(scores: dict, flagged: bool, kind: str = "permutation") -> dict:
    finite = [v for v in scores.values() if not math.isnan(v)]
    mean = float(np.mean(finite))
    return {
        "metric": "f1_weighted", "unit": "subject", "per_subject": scores,
        "per_subject_sd": {s: 0.05 for s in scores},
        "ci": {"mean": mean, "low": mean - 0.1, "high": mean + 0.1, "n": len(finite),
               "n_missing": len(scores) - len(finite), "method": "t", "confidence": 0.95},
        "chance": {"kind": kind, "level": 0.5, "p_value": 0.4 if flagged else 0.01, "null_mean": 0.5,
                   "null_p95": 0.62, "n_permutations": 20},
        "not_above_chance": flagged,
        "seeds": {"values": [mean], "mean": mean, "sd": math.nan},
        "stimulus_baseline": {"applicable": False, "reason": "no stimulus shared across subjects"},
    }


def _metrics() -> dict:
    good = {s: 0.8 for s in SUBJECTS}
    poor = {"S01": 0.55, "S02": float("nan"), "S03": 0.5, "S04": 0.45}
    binary_cm = {"labels": [0, 1], "matrix": [[30, 10], [8, 32]]}

    def entry(scores: dict, flagged: bool) -> dict:
        return {"f1_weighted": 0.7, "f1_weighted_std": 0.1, "per_subject": scores, "confusion_matrix": binary_cm,
                "chance_f1_weighted": 0.5, "statistics": _stats_entry(scores, flagged)}

    return {
        "logreg": {"valence": {"binary": {"within_subject": entry(good, False), "loso": entry(poor, True)}}},
        # An older entry: no "statistics"; a deep model's bare confusion matrix over classes 0..4.
        "histn": {"valence": {"five_class": {"within_subject": {
            "f1_weighted": 0.31, "f1_weighted_std": 0.05, "per_subject": {s: 0.31 for s in SUBJECTS},
            "chance_f1_weighted": 0.22, "confusion_matrix": np.eye(5, dtype=int).tolist()}}}},
    }


STATISTICS = {
    "comparisons": [{"target": "valence", "task": "binary", "protocol": "within_subject", "metric": "f1_weighted",
                     "pairs": [{"a": "logreg", "b": "histn", "statistic": 3.0, "p_value": 0.25, "p_holm": 0.25,
                                "median_difference": 0.04, "n": 4}]}],
    "protocol_gaps": [{"model": "logreg", "target": "valence", "task": "binary", "a": "within_subject", "b": "loso",
                       "statistic": 0.0, "p_value": 0.125, "median_difference": 0.3, "n": 3}],
    "budget": {"models": {"histn": {"epochs": 3, "folds": 2, "protocols": ["within_subject"], "tasks": ["binary"]}},
               "permutations": {"logreg": 20, "histn": 0}, "seeds": [0]},
    "notes": ["histn_blocks skipped for logreg: a feature model has no within-trial blocks"],
}

RUN_INFO = {
    "name": "html-test",
    "config_hash": "abc123",
    "config": {"name": "html-test", "evaluation": {"targets": ["valence", "arousal"], "threshold": 3.0, "seeds": [0]}},
    "n_subjects": 4,
    "preprocessing": {
        "S01": {"bad_channels": {"F8": "flat (robust amplitude 1.7e-08 V)"}, "ica_excluded": [0, 3], "notes": []},
        "S02": {"bad_channels": {}, "ica_excluded": [], "notes": []},
    },
    "notes": [],
    "timings_s": {"evaluation": 12.5, "figures": 3.0},
    "versions": {"biosig-affect": "0.1.0", "mne": mne.__version__},
}


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    before, after = _raws()
    return write_html_report(tmp_path_factory.mktemp("report"), _metrics(), STATISTICS, RUN_INFO,
                             features=_features(), info=_info(), raw_before=before, raw_after=after)


def test_page_has_every_section_and_is_self_contained(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert page.name == "report.html"
    for title in SECTIONS.values():
        assert title in html, title
    assert 'id="results-table"' in html and "mean over subjects [95% interval]" in html and "<th>chance</th>" in html
    assert "0.800 [0.700, 0.900]" in html  # mean [low, high]
    assert 'id="preprocessing"' in html and "F8 (flat" in html and "0, 3" in html
    assert 'id="comparisons"' in html and 'id="protocol-gaps"' in html and 'id="budget"' in html
    assert 'id="versions"' in html and "threshold: 3.0" in html  # the config as YAML
    assert "Power spectra before and after preprocessing" in html and "Montage" in html
    assert html.count("data:image/png;base64") >= 6  # PSD, montage, per-subject x2, confusion x3, scalp maps
    assert "src=\"http" not in html and "<link href=\"http" not in html


def test_flagged_entry_and_older_entry_are_labelled(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    loso_row = next(row for row in html.split("<tr>") if protocol_label("loso") in row and "weighted F1" in row)
    assert "not above chance" in loso_row
    within_row = next(row for row in html.split("<tr>") if "HiSTN" in row and task_label("five_class") in row)
    assert "0.310 ± 0.050" in within_row and "chance: stratified (no permutations)" in within_row
    assert "S02 missing in valence, leave one subject out" in html


def test_without_raws_features_or_statistics_the_page_says_so(tmp_path: Path) -> None:
    html = write_html_report(tmp_path, _metrics(), None, RUN_INFO).read_text(encoding="utf-8")
    assert "not available (this run passed no raw recording)" in html
    assert "no sensor positions" in html and "Scalp maps: this run has no EEG window features" in html
    assert "No paired model comparisons" in html and "No budget recorded" in html


def test_nan_subject_is_missing_not_a_zero_bar() -> None:
    by_target = _metrics()["logreg"]
    fig = subject_scores_figure(by_target, "logreg", "binary")
    try:
        ax = fig.axes[0]
        heights = [p.get_height() for p in ax.containers[0]] + [p.get_height() for p in ax.containers[2]]
        assert len(heights) == 2 * len(SUBJECTS) - 1  # S02 of loso has no bar
        assert not any(h == 0 for h in heights)
        assert [t.get_text() for t in ax.texts] == ["missing"]
        fig.canvas.draw()
        legend = ax.get_legend()
        assert legend is not None and legend.get_window_extent().y1 < ax.get_window_extent().y0  # below the bars
        assert "valence, low (<= 3) / high (> 3)" in ax.get_title()
    finally:
        plt.close(fig)


def test_labels_are_words() -> None:
    assert task_label("five_class") == "5 rating levels"
    assert task_label("binary") == "low (<= 3) / high (> 3)"
    assert protocol_label("subject_dependent_kfold") == protocol_label("within_subject") == (
        "within subject, whole trials held out")
    assert protocol_label("histn_blocks") == "within trial, HiSTN's 10 blocks (leaky)"
    assert class_names("five_class", range(5)) == ["1", "2", "3", "4", "5"]
    assert class_names("binary", [0, 1]) == ["low (<= 3)", "high (> 3)"]
    assert entry_title("arousal", "binary", "loso") == "arousal, low (<= 3) / high (> 3), leave one subject out"


def test_page_opens_in_headless_chromium_without_errors(page: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"the report browser test needs Chromium at {CHROMIUM}: run `bash tests/setup_browser.sh` as root")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            requests: list[str] = []
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
            tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            tab.on("requestfailed", lambda request: errors.append(f"failed: {request.url}"))
            tab.on("request", lambda request: requests.append(request.url))
            tab.goto(page.as_uri())
            tab.wait_for_load_state("load")
            assert tab.locator("#results-table").count() == 1
            assert tab.locator("text=not above chance").count() >= 1
            assert not errors
            assert all(url.startswith(("file:", "data:")) for url in requests), requests
        finally:
            browser.close()
