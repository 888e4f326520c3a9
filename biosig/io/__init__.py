"""Reading and writing sessions as files (EDF+ for EEG, CSV for ECG, EDA and trials)."""

from biosig.io.files import read_session_files, session_paths, write_session_files

__all__ = ["read_session_files", "session_paths", "write_session_files"]
