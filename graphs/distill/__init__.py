"""Brain-informed distillation of valence/arousal prototypes into image-only face models.

Our implementation of NeuroGaze-Distill (Li et al., arXiv 2509.11916; field
notes section 2). The paper's formulas, topomap construction, teacher
architecture and binning are not public: every such choice is ours and is
defined in the docstring of the module that makes it.

* :mod:`.config`: the ``biosig distill`` configuration (pydantic, strict);
* :mod:`.teacher`: EEG cohort -> DE scalp maps -> TopomapCNN regressing
  valence/arousal, held-out split, safe checkpoints;
* :mod:`.circumplex`: expression class -> valence/arousal cell table;
* :mod:`.prototypes`: the frozen 5 x 5 prototype grid, its ``.npz`` + JSON
  artefact and validated loading;
* :mod:`.faces`: the embedded procedural 48 x 48 face set and its expression
  models (independent of the circumplex table, or drawn from it);
* :mod:`.face_data`: FERPlus and image-folder loaders, splits;
* :mod:`.students`: ResNet-18 and a small CNN with a projection head;
* :mod:`.losses`: label-smoothed CE, logit KD, Proto-KD, D-Geo and its schedule;
* :mod:`.train`: student training and the loss variants;
* :mod:`.controls`: control grids (untrained teacher, shuffled cells, pure circumplex);
* :mod:`.ablation`: variants and controls over seeds, paired comparisons over seeds;
* :mod:`.evaluate`: 8-way / present-only metrics and grid agreement;
* :mod:`.plots`: the report's figures;
* :mod:`.report`: ``report.md``, ``metrics.json``;
* :mod:`.onnx_export`: ONNX export checked against ONNX Runtime;
* :mod:`.job`: the whole ``biosig distill`` run.
"""
