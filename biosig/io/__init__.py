"""Reading and writing sessions as files (EDF+ for EEG, CSV for ECG, EDA and trials), and reading recorded data."""

from biosig.io.files import read_session_files, session_paths, write_session_files
from biosig.io.read import read_session

__all__ = ["read_session", "read_session_files", "session_paths", "write_session_files"]
