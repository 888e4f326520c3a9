"""Sphinx configuration of the biosig-affect documentation (built offline: ``make docs``).

Nothing is fetched at build time: no intersphinx, no remote images, the theme's
assets are those installed with it. The gallery (``examples/``) runs every
``plot_*.py`` script, each generating its own small inputs in a temporary
folder; the scripts that need a live LSL network or trained models
(``live_*.py``) are rendered but not executed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import biosig  # noqa: E402

project = "biosig-affect"
author = "biosig-affect contributors"
copyright = "biosig-affect contributors"  # noqa: A001 (Sphinx's name)
version = release = biosig.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "config_reference",
]

# Offline: MathJax would be loaded from a CDN by the browser only when a page shows maths;
# the build itself downloads nothing. intersphinx is deliberately left out.
templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip", "README.md"]
root_doc = "index"

# --- API reference (autodoc / autosummary / numpydoc) ---
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": False}
autodoc_typehints = "none"  # numpydoc docstrings name parameters; signatures keep the hints
autodoc_member_order = "bysource"
numpydoc_show_class_members = False  # autosummary lists members; numpydoc's tables would repeat them
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# Package docstrings use relative module references (":mod:`.eeg`" in biosig.datasets.synthetic) that
# Python-domain resolution finds ambiguous ("more than one target found"); the package source is not
# edited for the docs, so those ambiguity warnings are silenced. Unresolved references do not warn
# (nitpicky is off), so this hides nothing else of the python domain's reference checks.
suppress_warnings = ["ref.python"]


def _skip_sklearn_request_methods(app, what, name, obj, skip, options):  # noqa: ANN001, ANN202 (Sphinx hook)
    """Leave out scikit-learn's generated ``set_*_request`` methods (metadata routing).

    scikit-learn attaches them to every estimator; their docstrings refer to scikit-learn's own
    glossary and labels, which do not exist in this site (and would be warnings).
    """
    if what == "class" and name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):  # noqa: ANN001, ANN201 (Sphinx hook)
    app.connect("autodoc-skip-member", _skip_sklearn_request_methods)

# --- sphinx-gallery ---
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"[\\/]plot_",  # live_*.py are shown, not run
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "plot_gallery": os.environ.get("BIOSIG_DOCS_PLOT_GALLERY", "True"),
    "within_subsection_order": "FileNameSortKey",
    "reference_url": {"biosig": None},
    "abort_on_example_error": True,
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
}

# --- HTML ---
html_theme = "pydata_sphinx_theme"
html_title = f"biosig-affect {release}"
html_static_path: list[str] = []
html_extra_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "icon_links": [],
    "header_links_before_dropdown": 8,
}
html_show_sourcelink = False
html_copy_source = False
