"""biosig-affect: physiological signals (EEG, ECG, EDA) to valence and arousal.

Subpackages: :mod:`biosig.datasets` (embedded synthetic cohort),
:mod:`biosig.io` (files), :mod:`biosig.preprocess` (MNE), :mod:`biosig.features`,
:mod:`biosig.evaluation`, :mod:`biosig.report`, and the ``biosig`` CLI.
"""

__version__ = "0.1.0"
