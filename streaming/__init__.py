"""Live LSL side of biosig-affect (inlets, online pipeline, outlets, replay, live view)."""
