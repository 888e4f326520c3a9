"""Deep-model training and the main job's orchestration.

Window datasets (:mod:`.windows_dataset`), the fit loop and checkpoints
(:mod:`.trainer`), soft targets (:mod:`.label_smoothing`), the deep-model
protocols (:mod:`.splits`), ordinal metrics (:mod:`.ordinal_metrics`), the
experiment over models x targets x tasks x protocols (:mod:`.experiment`) and
the runner that evaluates every configured model of a run (:mod:`.runner`).
"""
