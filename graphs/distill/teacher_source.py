"""The teacher's EEG source: ``biosig run``'s ``source`` section, its rating scale, and the former distill-only schema.

``teacher.source`` is a :class:`biosig.config.SourceConfig`, the section
``biosig run`` reads (any ``kind``: synthetic, files, bids, dreamer, deap,
seed, wesad), with ``teacher.trials`` and ``teacher.labels`` beside it; the
sessions come from :func:`biosig.cohort_sources.sources_from_config`. One
default differs from ``biosig run``: a synthetic teacher cohort is generated
directly (``via_files: false``) unless ``via_files: true`` is written.

Distill configs written before this schema (``teacher.source`` with
``kind: synthetic | dreamer | deap``, ``path``, 1-based integer ``subjects``
and ``rating_scale``) still load: :func:`upgrade_teacher_section` moves
``path`` to ``root``, writes the subjects as the datasets' ids (``3`` ->
``"S03"``) and moves ``rating_scale`` to ``teacher.rating_scale``. A file
giving a former key beside its new place gets the message of
:data:`biosig.config.loading.MOVED_KEYS` (``"<old> moved to <new>"``).
"""

from __future__ import annotations

from typing import Any

#: Rating scale ``(low, high)`` of the sources whose scale is known; other kinds need ``teacher.rating_scale``.
DEFAULT_SCALES: dict[str, tuple[float, float]] = {"synthetic": (1.0, 5.0), "dreamer": (1.0, 5.0), "deap": (1.0, 9.0)}

#: Former key of ``teacher.source`` -> where it is now.
MOVED_TEACHER_KEYS: dict[str, str] = {
    "teacher.source.path": "teacher.source.root",
    "teacher.source.rating_scale": "teacher.rating_scale",
}


def upgrade_teacher_section(teacher: Any) -> Any:
    """The ``teacher`` mapping of a config with former ``teacher.source`` keys moved (module docstring).

    Anything that is not a mapping is returned as given (validation reports
    it). A synthetic source without ``via_files`` gets ``via_files: false``.

    Raises
    ------
    ValueError
        A former key given beside its new place: ``"teacher.source.path moved to teacher.source.root"``.
    """
    if not isinstance(teacher, dict) or not isinstance(teacher.get("source"), dict):
        return teacher
    source = dict(teacher["source"])
    teacher = dict(teacher)
    both = {"teacher.source.path": "root" in source, "teacher.source.rating_scale": "rating_scale" in teacher}
    clashes = [
        f"{old} moved to {new}"
        for old, new in MOVED_TEACHER_KEYS.items()
        if old.rsplit(".", 1)[1] in source and both[old]
    ]
    if clashes:
        raise ValueError("; ".join(clashes) + " (give the new key only)")
    if "path" in source:
        source["root"] = source.pop("path")
    if "rating_scale" in source:
        teacher["rating_scale"] = source.pop("rating_scale")
    subjects = source.get("subjects")
    if isinstance(subjects, (list, tuple)) and source.get("kind") in ("dreamer", "deap"):
        source["subjects"] = [f"S{s:02d}" if isinstance(s, int) else s for s in subjects]
    if source.get("kind", "synthetic") == "synthetic":
        source.setdefault("via_files", False)
    teacher["source"] = source
    return teacher
