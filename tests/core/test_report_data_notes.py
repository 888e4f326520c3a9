"""The report's data section: subjects skipped, EEG channels dropped, the asymmetry note, NaN features."""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape
from pathlib import Path

import mne

from biosig.config import config_from_dict
from biosig.report.data_notes import IMPUTATION, collect_data_notes, data_notes_markdown
from biosig.report.html import write_html_report
from biosig.report.writer import render_markdown
from graphs.training.runner import run

ASYMMETRY = "frontal asymmetry pairs ['AF4-AF3'] skipped: the montage lacks their channels"
HR_NOTE = "hr_bpm is NaN in 3 of 20 windows (fewer than 2 beats: 3)"

# Shaped as the runner writes run_info.json with the cohort cache (info["cohort"] = CohortRun.summary()).
RUN_INFO = {
    "name": "data-notes",
    "config": {"name": "data-notes", "features": {"asymmetry_pairs": [["AF4", "AF3"], ["F4", "F3"]]},
               "evaluation": {"targets": ["valence"], "threshold": 3.0, "seeds": [0]}},
    "n_subjects": 2, "n_windows": 44, "n_features": 60, "window_length_s": 2.0, "window_hop_s": 1.0,
    "baseline_mode": "feature_subtract", "C": {"logreg": 0.1},
    "preprocessing": {
        "S01": {"bad_channels": {}, "ica_excluded": [], "notes": [ASYMMETRY, HR_NOTE]},
        "S02": {"bad_channels": {}, "ica_excluded": [], "notes": [
            ASYMMETRY, "EEG channels ['T7', 'T8'] left out: not recorded for every subject of the cohort"]},
    },
    "cohort": {
        "n_sources": 3, "n_subjects": 2, "n_windows": 44, "computed": ["S01", "S02"], "cached": [],
        "skipped": [{"name": "S03", "stage": "load", "error": "S03_eeg.edf: the file holds no signal channels"}],
        "damaged": [], "removed_temporary": [],
        "dropped_channels": {"S02": ["T7", "T8"]},
        "notes": {"S01": [ASYMMETRY, HR_NOTE],
                  "S02": [ASYMMETRY, "EEG channels ['T7', 'T8'] left out: not recorded for every subject of the cohort"]},
        "nan_features": {
            "S01": {"hr_bpm": {"n_nan": 3, "n_windows": 20, "reasons": "fewer than 2 beats: 3"},
                    "scr_amplitude_us": {"n_nan": 5, "n_windows": 20, "reasons": "no response: 4; flat EDA: 1"}},
            "S02": {"scr_amplitude_us": {"n_nan": 2, "n_windows": 24, "reasons": "no response: 2"}},
        },
        "cache_dir": "/tmp/cache", "executor": "serial", "timings_s": {},
    },
    "notes": ["logreg: loso skipped: leave one subject out needs at least 2 subjects, the cohort has 1"],
    "timings_s": {"evaluation": 1.0},
    "versions": {"biosig-affect": "0.1.0", "mne": mne.__version__},
}


def _check_words(text: str, quote: Callable[[str], str] = str) -> None:
    # (d) skipped subjects with stage and reason
    assert "Subjects skipped" in text and "S03" in text and "load" in text
    assert "the file holds no signal channels" in text
    # (a) channels dropped per subject
    assert "EEG channels dropped" in text and "T7, T8" in text
    # (b) the asymmetry note, once, for both subjects
    assert "subjects S01, S02: " + quote(ASYMMETRY) in text
    # (c) NaN features with counts, per subject, reasons summed over subjects, and the imputation said
    assert "Features with NaN windows" in text and "hr_bpm" in text and "scr_amplitude_us" in text
    assert "S01: 5 of 20, S02: 2 of 24" in text and "no response: 6 windows; flat EDA: 1 window" in text
    assert "1 windows" not in text
    assert "fewer than 2 beats: 3 windows" in text
    assert "median" in text and "biosig.evaluation.baseline.make_classifier" in text


def test_markdown_shows_skipped_subjects_dropped_channels_asymmetry_and_nan_features() -> None:
    report = render_markdown({}, RUN_INFO, {})
    _check_words(report)
    assert "| scr_amplitude_us | 7 | 44 | S01: 5 of 20, S02: 2 of 24 |" in report
    assert "| hr_bpm | 3 | 20 | S01: 3 of 20 |" in report
    assert "| S03 | load | S03_eeg.edf: the file holds no signal channels |" in report
    assert "| S02 | T7, T8 |" in report
    assert IMPUTATION in report
    # (e) the skip notes of models and protocols stay where they were
    assert "- note: logreg: loso skipped: leave one subject out needs at least 2 subjects" in report
    # the per-subject preprocessing notes are in the preprocessing table too
    assert "| S01 | none | none | " + ASYMMETRY + "; " + HR_NOTE + " |" in report


def test_html_shows_the_same_account(tmp_path: Path) -> None:
    html = write_html_report(tmp_path, {}, None, RUN_INFO).read_text(encoding="utf-8")
    _check_words(html, escape)
    for ident in ("skipped-subjects", "dropped-channels", "asymmetry-notes", "nan-features"):
        assert f'id="{ident}"' in html, ident
    assert "<td>scr_amplitude_us</td><td>7</td><td>44</td>" in html
    assert "leave one subject out needs at least 2 subjects" in html  # (e) under provenance notes


def test_nothing_recorded_means_no_claim_and_nothing_lost_means_none() -> None:
    bare = {k: v for k, v in RUN_INFO.items() if k not in ("cohort", "preprocessing")}
    bare["config"] = {"name": "bare"}
    assert data_notes_markdown(bare) == []
    clean = {**RUN_INFO, "cohort": {**RUN_INFO["cohort"], "skipped": [], "dropped_channels": {}, "nan_features": {},
                                    "notes": {}}}
    report = "\n".join(data_notes_markdown(clean))
    assert "No subject was skipped." in report and "No channel was dropped" in report
    assert "No feature has a NaN window." in report and "Frontal asymmetry" not in report


def test_without_a_cohort_account_the_preprocessing_notes_give_the_asymmetry_note() -> None:
    info = {k: v for k, v in RUN_INFO.items() if k != "cohort"}
    notes = collect_data_notes(info)
    assert notes.asymmetry == {ASYMMETRY: ["S01", "S02"]}
    assert notes.skipped is None and notes.dropped_channels is None and notes.nan_features is None
    off = {**info, "preprocessing": {}, "config": {"features": {"asymmetry_pairs": []}}}
    assert "every subject: frontal asymmetry is off" in "\n".join(data_notes_markdown(off))


def test_reading_warnings_are_listed_per_subject(tmp_path: Path) -> None:
    warning = "x.csv: no unit given for the eda column(s) ['EDA']: taken as S (SI, the documented default)"
    info = {"preprocessing": {"S01": {"notes": [], "reading_warnings": [warning]}, "S02": {"notes": []}}}
    assert collect_data_notes(info).reading == {"S01": [warning]}
    report = "\n".join(data_notes_markdown(info))
    assert "What reading the recordings assumed" in report and f"- S01: {warning}" in report


def test_run_with_asymmetry_off_says_so_in_the_report(tmp_path: Path) -> None:
    config = config_from_dict({
        "source": {"synthetic": {"n_subjects": 2, "n_trials": 4, "baseline_seconds": 6, "stimulus_seconds": 6},
                   "via_files": False},
        "features": {"peripheral": False, "asymmetry_pairs": []},
        "models": [{"name": "logreg"}],
        "evaluation": {"n_folds": 2, "tasks": ["binary"], "protocols": ["loso"], "targets": ["valence"]},
        "cache": {"dir": str(tmp_path / "cache")},
        "report": {"out_dir": str(tmp_path / "report")},
    })
    out = run(config)
    info = json.loads((out / "run_info.json").read_text())
    assert info["cohort"]["skipped"] == [] and info["cohort"]["dropped_channels"] == {}
    report = (out / "report.md").read_text()
    assert "## Data: subjects, channels and missing features" in report
    assert "subjects S01, S02: frontal asymmetry is off (features.asymmetry_pairs is empty)" in report
    assert "No subject was skipped." in report and "No channel was dropped" in report
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "frontal asymmetry is off (features.asymmetry_pairs is empty)" in html
