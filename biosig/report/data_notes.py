"""What the data held back, in the report's words: subjects skipped, channels dropped, asymmetry, NaN features.

Also each subject's reading warnings (``run_info["preprocessing"][subject]["reading_warnings"]``:
what a reader assumed, e.g. a unit, or dropped), as the readers put them in ``Session.info["warnings"]``.

Read from ``run_info.json`` (:func:`collect_data_notes`): the cohort account
``run_info["cohort"]`` (:meth:`biosig.cohort_summary.CohortRun.summary`: keys
``skipped``, ``dropped_channels``, ``notes``, ``nan_features``) and, where it
has no ``notes``, each subject's preprocessing notes
(``run_info["preprocessing"][subject]["notes"]``). A key the run did not
record is left out of the report rather than reported as "none".
:func:`data_notes_markdown` and :func:`data_notes_html` render them for
``report.md`` and ``report.html``; every value from the run is escaped in HTML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any

from biosig.report.html_tables import note, table

#: What the feature baseline does with a NaN feature (:func:`biosig.evaluation.baseline.make_classifier`).
IMPUTATION = (
    "The feature baseline keeps these windows: its classifier replaces each NaN with that feature's median over "
    "the fold's training windows (median imputation, biosig.evaluation.baseline.make_classifier; 0 where no "
    "training window has a value) before standardising. Deep models do not use these features."
)


@dataclass(frozen=True)
class NanFeature:
    """One feature's NaN windows over the cohort.

    ``per_subject`` maps subject -> ``(n_nan, n_windows)``; ``reasons`` maps a
    reason (e.g. ``"fewer than 3 beats"``) to its number of windows, or to
    None when the recorded reason carries no count.
    """

    name: str
    per_subject: dict[str, tuple[int, int]]
    reasons: dict[str, int | None]

    @property
    def n_nan(self) -> int:
        """NaN windows over every subject."""
        return sum(n for n, _ in self.per_subject.values())

    @property
    def n_windows(self) -> int:
        """Windows of the subjects with a NaN window of this feature."""
        return sum(total for _, total in self.per_subject.values())


@dataclass(frozen=True)
class DataNotes:
    """The run's account of its data; a None field was not recorded by the run."""

    skipped: list[dict[str, str]] | None
    dropped_channels: dict[str, list[str]] | None
    asymmetry: dict[str, list[str]] = field(default_factory=dict)
    nan_features: list[NanFeature] | None = None
    feature_baseline: bool = False
    reading: dict[str, list[str]] = field(default_factory=dict)


def _reasons(text: str, into: dict[str, int | None]) -> None:
    """Add ``"why: n; why: n"`` (the format of :func:`biosig.features.extract.nan_counts`) to ``into``."""
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        why, _, count = part.rpartition(": ")
        if why and count.isdigit():
            into[why] = (into.get(why) or 0) + int(count)
        else:
            into.setdefault(part, None)


def _nan_features(by_subject: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[NanFeature]:
    names = list(dict.fromkeys(name for features in by_subject.values() for name in features))
    out = []
    for name in names:
        per_subject: dict[str, tuple[int, int]] = {}
        reasons: dict[str, int | None] = {}
        for subject, features in by_subject.items():
            if name in features:
                count = features[name]
                per_subject[subject] = (int(count["n_nan"]), int(count["n_windows"]))
                _reasons(str(count.get("reasons") or ""), reasons)
        out.append(NanFeature(name, per_subject, reasons))
    return out


def _asymmetry(notes: Mapping[str, list[str]], config: Mapping) -> dict[str, list[str]]:
    """Asymmetry note -> subjects it applies to (the config's empty pair list when no subject says so)."""
    out: dict[str, list[str]] = {}
    for subject, subject_notes in notes.items():
        for text in subject_notes or []:
            if "asymmetry" in text:
                out.setdefault(text, []).append(subject)
    pairs = config.get("features", {}).get("asymmetry_pairs")
    if not out and pairs is not None and len(pairs) == 0:
        out["frontal asymmetry is off (features.asymmetry_pairs is empty)"] = []
    return out


def collect_data_notes(run_info: Mapping[str, Any]) -> DataNotes:
    """The data notes of a run from its ``run_info.json`` mapping (module docstring)."""
    cohort = run_info.get("cohort") or {}
    notes = cohort.get("notes")
    if notes is None:
        notes = {s: list(found.get("notes") or []) for s, found in (run_info.get("preprocessing") or {}).items()}
    nan = cohort.get("nan_features")
    return DataNotes(
        skipped=cohort.get("skipped"),
        dropped_channels=cohort.get("dropped_channels"),
        asymmetry=_asymmetry(notes, run_info.get("config") or {}),
        nan_features=None if nan is None else _nan_features(nan),
        feature_baseline="n_windows" in run_info,
        reading={
            s: list(found["reading_warnings"])
            for s, found in (run_info.get("preprocessing") or {}).items()
            if found.get("reading_warnings")
        },
    )


def _cell(text: str) -> str:
    """A Markdown table cell: pipes escaped, line breaks as spaces."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _who(subjects: list[str]) -> str:
    if not subjects:
        return "every subject"
    return f"subject{'s' if len(subjects) > 1 else ''} {', '.join(subjects)}"


def _reason_text(reasons: Mapping[str, int | None]) -> str:
    parts = [why if n is None else f"{why}: {n} window{'s' if n != 1 else ''}" for why, n in reasons.items()]
    return "; ".join(parts) or "reason not recorded"


def _subject_counts(feature: NanFeature) -> str:
    return ", ".join(f"{s}: {n} of {total}" for s, (n, total) in feature.per_subject.items())


def _nan_rows(feature: NanFeature) -> list[str]:
    return [feature.name, str(feature.n_nan), str(feature.n_windows), _subject_counts(feature),
            _reason_text(feature.reasons)]


_NAN_HEADER = ["feature", "NaN windows", "of windows (those subjects')", "per subject (NaN of windows)", "reasons"]


def data_notes_markdown(run_info: Mapping[str, Any]) -> list[str]:
    """Lines of ``report.md``'s data section (empty when the run recorded none of it)."""
    notes = collect_data_notes(run_info)
    lines: list[str] = []
    if notes.skipped is not None:
        lines += ["### Subjects skipped", ""]
        if notes.skipped:
            lines += ["| subject | stage | reason |", "|---|---|---|"]
            lines += [f"| {_cell(s['name'])} | {_cell(s['stage'])} | {_cell(s['error'])} |" for s in notes.skipped]
        else:
            lines.append("No subject was skipped.")
        lines.append("")
    if notes.dropped_channels is not None:
        lines += ["### EEG channels dropped to the channels common to all subjects", ""]
        if notes.dropped_channels:
            lines += ["| subject | channels left out |", "|---|---|"]
            lines += [f"| {_cell(s)} | {_cell(', '.join(chs))} |" for s, chs in notes.dropped_channels.items()]
        else:
            lines.append("No channel was dropped: every subject has the cohort's EEG channels.")
        lines.append("")
    if notes.asymmetry:
        lines += ["### Frontal asymmetry", ""]
        lines += [f"- {_who(subjects)}: {text}" for text, subjects in notes.asymmetry.items()]
        lines.append("")
    if notes.reading:
        lines += ["### What reading the recordings assumed or left out", ""]
        lines += [f"- {_cell(subject)}: {_cell(w)}" for subject, ws in notes.reading.items() for w in ws]
        lines.append("")
    if notes.nan_features is not None:
        lines += ["### Features with NaN windows", ""]
        if notes.nan_features:
            lines += [f"| {' | '.join(_NAN_HEADER)} |", "|---|---|---|---|---|"]
            lines += [f"| {' | '.join(_cell(c) for c in _nan_rows(f))} |" for f in notes.nan_features]
            lines += ["", IMPUTATION] if notes.feature_baseline else []
        else:
            lines.append("No feature has a NaN window.")
        lines.append("")
    return ["## Data: subjects, channels and missing features", "", *lines] if lines else []


def data_notes_html(run_info: Mapping[str, Any]) -> str:
    """The same account as :func:`data_notes_markdown`, as an HTML fragment for ``report.html``."""
    notes = collect_data_notes(run_info)
    parts: list[str] = []
    if notes.skipped is not None:
        if notes.skipped:
            rows = [[escape(str(s["name"])), escape(str(s["stage"])), escape(str(s["error"]))] for s in notes.skipped]
            parts.append("<h4>Subjects skipped</h4>" + table(["subject", "stage", "reason"], rows, "skipped-subjects"))
        else:
            parts.append(note("No subject was skipped."))
    if notes.dropped_channels is not None:
        if notes.dropped_channels:
            rows = [[escape(s), escape(", ".join(chs))] for s, chs in notes.dropped_channels.items()]
            parts.append("<h4>EEG channels dropped to the channels common to all subjects</h4>"
                         + table(["subject", "channels left out"], rows, "dropped-channels"))
        else:
            parts.append(note("No channel was dropped: every subject has the cohort's EEG channels."))
    if notes.asymmetry:
        items = "".join(f"<li>{escape(_who(subjects))}: {escape(text)}</li>" for text, subjects in notes.asymmetry.items())
        parts.append(f'<h4>Frontal asymmetry</h4><ul id="asymmetry-notes">{items}</ul>')
    if notes.reading:
        items = "".join(f"<li>{escape(subject)}: {escape(w)}</li>" for subject, ws in notes.reading.items() for w in ws)
        parts.append(f'<h4>What reading the recordings assumed or left out</h4><ul id="reading-warnings">{items}</ul>')
    if notes.nan_features is not None:
        if notes.nan_features:
            rows = [[escape(cell) for cell in _nan_rows(f)] for f in notes.nan_features]
            parts.append("<h4>Features with NaN windows</h4>" + table(_NAN_HEADER, rows, "nan-features"))
            parts.append(note(IMPUTATION) if notes.feature_baseline else "")
        else:
            parts.append(note("No feature has a NaN window."))
    return "".join(parts) or note("This run recorded no account of skipped subjects, dropped channels or NaN features.")
