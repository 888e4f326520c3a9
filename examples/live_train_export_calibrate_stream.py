"""
Train, export, calibrate, stream, live view
===========================================

The chain from a training run to live valence/arousal predictions. It needs a
Lab Streaming Layer network, trained models and minutes of training, so this
page is **shown, not run** when the documentation is built; the commands are those
of ``biosig --help``. Each step is a command; the last one also has a Python form.

1. ``biosig train CONFIG --export DIR`` trains one final model per model x target x
   task on all the run's windows and writes live checkpoints
   ``DIR/<model>-<target>-<task>.pt`` (channels, rate, window, filters, reference,
   bands).
2. ``biosig calibrate`` adds what a live session lacks: training z-scores each
   trial against its own baseline, so a checkpoint needs the mean and standard
   deviation of rest after the same causal filters. Streaming an uncalibrated
   checkpoint is refused with a message naming this step.
3. ``biosig replay`` plays a recording (or the synthetic cohort) as LSL streams,
   standing in for an amplifier.
4. ``biosig stream`` runs the online pipeline (the offline filters made causal,
   the same windows, features and model) and publishes predictions on the LSL
   stream ``biosig-affect``.
5. ``biosig liveview`` serves the circumplex view on ``http://127.0.0.1:8765/``.
"""

# %%
# The commands, in a shell (each long-running one in the background):
#
# .. code-block:: bash
#
#    .venv/bin/biosig train configs/train_histn.yaml --export models/
#    .venv/bin/biosig calibrate models/histn-*-five_class.pt --from rest.edf --out models/today/
#    .venv/bin/biosig replay synthetic:S03 --loop &
#    .venv/bin/biosig stream --model models/today/histn-valence-five_class.pt \
#        --model models/today/histn-arousal-five_class.pt --eeg biosig-eeg &
#    .venv/bin/biosig liveview --port 8765
#
# Without a rest recording, ``biosig stream --calibrate 60`` takes 60 s of rest
# from the stream itself before the first prediction.

# %%
# The same live session from Python: :func:`streaming.api.biosig_stream` yields
# one prediction per window until the ``with`` block ends.
from streaming.lslconfig import use_lsl_config

use_lsl_config()  # machine-scoped discovery, loopback peers (streaming/lsl_api.cfg)

from streaming.api import biosig_stream  # noqa: E402

with biosig_stream(
    model=["models/today/histn-valence-five_class.pt", "models/today/histn-arousal-five_class.pt"],
    eeg="type=EEG",
) as stream:
    for prediction in stream:
        print(prediction.t_last, prediction.values["valence"], prediction.values["arousal"], prediction.quality)
