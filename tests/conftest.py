"""Test set-up shared by every test process."""

from streaming.lslconfig import use_lsl_config

# Before any test can touch LSL: keep liblsl's discovery on this machine (see streaming/lsl_api.cfg).
use_lsl_config()
