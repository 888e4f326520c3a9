"""HTML tables of the run report: results with intervals and chance, preprocessing, comparisons, provenance.

Each function returns an HTML fragment (a ``<table>`` or a note) for
:func:`biosig.report.html.write_html_report`; every value from the run is
escaped. Identifiers are shown in words (:mod:`biosig.report.labels`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any

from biosig.report.labels import metric_label, model_label, protocol_label, target_label, task_label
from biosig.report.score_figures import entry_metric

#: The flag of a score whose interval includes (or lies below) chance.
NOT_ABOVE_CHANCE = "not above chance"

#: Style of these tables, flags and notes; the page includes it once.
STYLE = """
<style>
div.biosig-table { overflow-x: auto; max-width: 100%; }
table.biosig { border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0 1rem; }
table.biosig th, table.biosig td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
table.biosig th { background: #f2f2f2; }
span.nowrap { white-space: nowrap; }
span.flag-chance { white-space: nowrap; background: #fde2e1; color: #9b1c1c; font-weight: 600; padding: 0 4px; border-radius: 3px; }
span.ok { color: #1d6b33; }
p.note { color: #555; font-style: italic; }
</style>
"""


def fmt(value: Any, digits: int = 3) -> str:
    """A number with ``digits`` decimals; ``"missing"`` for None or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if isinstance(value, (int, float)):
        return f"{value:.{digits}f}"
    return escape(str(value))


def p_value(value: Any) -> str:
    """A p-value: ``"< 0.001"`` below that, three decimals otherwise, ``"-"`` when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return "&lt; 0.001" if value < 0.001 else f"{value:.3f}"


def table(header: Iterable[str], rows: Iterable[Iterable[str]], css_id: str | None = None) -> str:
    """A ``<table class="biosig">``; cells are given as HTML (escape values before)."""
    ident = f' id="{css_id}"' if css_id else ""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return (f'<div class="biosig-table"><table class="biosig"{ident}><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def note(text: str) -> str:
    """A short explanatory paragraph (``text`` is escaped)."""
    return f'<p class="note">{escape(text)}</p>'


def _entries(metrics: Mapping) -> Iterable[tuple[str, str, str, str, dict]]:
    for model, by_target in metrics.items():
        for target, tasks in by_target.items():
            for task, protocols in tasks.items():
                for protocol, entry in protocols.items():
                    yield model, target, task, protocol, entry


def _score_cells(entry: dict, metric: str) -> list[str]:
    """Score [CI], n, chance, p and flag of one entry (older metrics: mean ± SD over subjects)."""
    stats = entry.get("statistics")
    if stats is None:
        score = f"{fmt(entry.get(metric))} ± {fmt(entry.get(f'{metric}_std'))} (SD over subjects)"
        chance_value = entry.get("chance_f1_weighted", entry.get("chance_ccc"))
        chance = f"{fmt(chance_value)}; chance: stratified (no permutations)"
        return [score, str(len(entry.get("per_subject", {}))), chance, "-", "-", "-"]
    ci, chance = stats["ci"], stats["chance"]
    confidence = f"{100 * ci.get('confidence', 0.95):g}%"
    interval = f"{fmt(ci['mean'])} [{fmt(ci['low'])}, {fmt(ci['high'])}]"
    score = f"<span class=\"nowrap\">{interval}</span> ({confidence}, {escape(str(ci.get('method', '')))})"
    n = f"{ci.get('n', '-')}" + (f" ({ci['n_missing']} missing)" if ci.get("n_missing") else "")
    kind = chance.get("kind", "")
    if kind == "permutation":
        detail = f"permutation, {chance.get('n_permutations', '?')} shuffles; null 95th pct {fmt(chance.get('null_p95'))}"
    else:
        detail = "stratified, no permutations"
    flag = (
        f'<span class="flag-chance">{NOT_ABOVE_CHANCE}</span>'
        if stats.get("not_above_chance")
        else '<span class="ok">above chance</span>'
    )
    baseline = stats.get("stimulus_baseline") or {}
    if baseline.get("applicable"):
        stimulus = fmt(baseline.get("score"))
    else:
        stimulus = "n/a" + (f": {escape(str(baseline['reason']))}" if baseline.get("reason") else "")
    return [score, n, f"{fmt(chance.get('level'))} ({detail})", p_value(chance.get("p_value")), flag, stimulus]


def results_table(metrics: Mapping, threshold: float = 3.0) -> str:
    """Every model x target x task x protocol with its mean over subjects, interval, chance, p and flag."""
    rows = []
    for model, target, task, protocol, entry in _entries(metrics):
        metric = entry_metric(entry)
        rows.append(
            [escape(model_label(model)), escape(target_label(target)), escape(task_label(task, threshold, entry.get("classes"))),
             escape(protocol_label(protocol)), escape(metric_label(metric)), *_score_cells(entry, metric)]
        )
    header = ["model", "target", "task", "protocol", "score", "mean over subjects [95% interval]", "subjects",
              "chance", "p (permutation)", "flag", "stimulus-only baseline"]
    return table(header, rows, css_id="results-table")


def preprocessing_table(run_info: Mapping) -> str:
    """Per subject: bad channels found (with why), ICA components removed, notes."""
    found = run_info.get("preprocessing")
    if not found:
        return note("This run recorded no per-subject preprocessing findings.")
    rows = []
    for subject, log in found.items():
        bads = ", ".join(f"{escape(ch)} ({escape(str(why))})" for ch, why in log.get("bad_channels", {}).items())
        ica = ", ".join(escape(str(c)) for c in log.get("ica_excluded") or [])
        notes = "; ".join(escape(str(n)) for n in log.get("notes") or [])
        rows.append([escape(subject), bads or "none", ica or "none", notes or "-"])
    return table(["subject", "bad channels found", "ICA components removed", "notes"], rows, css_id="preprocessing")


def comparisons_tables(statistics: Mapping | None, threshold: float = 3.0) -> str:
    """Paired model comparisons and protocol gaps of ``statistics.json``, or a note when they are absent."""
    statistics = statistics or {}
    parts = []
    comparisons = statistics.get("comparisons") or []
    if comparisons:
        rows = [
            [escape(f"{target_label(c['target'])}, {task_label(c['task'], threshold, c.get('classes'))}, "
                    f"{protocol_label(c['protocol'])}"),
             escape(metric_label(c.get("metric", "f1_weighted"))), escape(model_label(pair["a"])),
             escape(model_label(pair["b"])), fmt(pair.get("median_difference")), fmt(pair.get("statistic"), 1),
             p_value(pair.get("p_value")), p_value(pair.get("p_holm")), str(pair.get("n", "-"))]
            for c in comparisons
            for pair in c.get("pairs", [])
        ]
        parts.append(table(["family", "score", "model a", "model b", "median a − b", "W", "p", "p (Holm)", "subjects"],
                           rows, css_id="comparisons"))
    else:
        parts.append(note("No paired model comparisons in this run (statistics.json absent or one model only)."))
    gaps = statistics.get("protocol_gaps") or []
    if gaps:
        rows = [
            [escape(model_label(g["model"])),
             escape(f"{target_label(g['target'])}, {task_label(g['task'], threshold, g.get('classes'))}"),
             escape(protocol_label(g["a"])), escape(protocol_label(g["b"])), fmt(g.get("median_difference")),
             fmt(g.get("statistic"), 1), p_value(g.get("p_value")), str(g.get("n", "-"))]
            for g in gaps
        ]
        parts.append(table(["model", "target and task", "protocol a", "protocol b", "median a − b", "W", "p", "subjects"],
                           rows, css_id="protocol-gaps"))
    else:
        parts.append(note("No protocol-vs-protocol gaps in this run."))
    parts.append(note(
        "Wilcoxon signed-rank tests over subjects (paired: the same trials held out for every model), Holm-corrected "
        "over all model pairs of one target, task and protocol. With few subjects the smallest possible p is large "
        "(8 subjects: 0.0078), so these are reported as statistics, not as tests of significance."
    ))
    return "".join(parts)


def key_value_table(values: Mapping[str, Any], header: tuple[str, str], css_id: str) -> str:
    """Two columns: key and value (numbers with two decimals)."""
    rows = [[escape(str(k)), fmt(v, 2) if isinstance(v, float) else escape(str(v))] for k, v in values.items()]
    return table(header, rows, css_id=css_id)


def budget_table(statistics: Mapping | None) -> str:
    """The run's budget per model (epochs, folds, protocols, tasks, permutations), or a note when absent."""
    budget = (statistics or {}).get("budget")
    if not budget:
        return note("No budget recorded (statistics.json absent).")
    permutations = budget.get("permutations", {})
    models = budget.get("models", {})
    rows = [
        [escape(model_label(model)), escape(str(spec.get("epochs", "-"))), escape(str(spec.get("folds", "-"))),
         escape(", ".join(protocol_label(p) for p in spec.get("protocols", []))),
         escape(", ".join(task_label(t) for t in spec.get("tasks", []))), escape(str(permutations.get(model, 0)))]
        for model, spec in models.items()
    ]
    seeds = escape(", ".join(str(s) for s in budget.get("seeds", [])))
    return table(["model", "epochs", "folds", "protocols", "tasks", "permutations"], rows, css_id="budget") + (
        f"<p>Seeds: {seeds or '-'}</p>"
    )
