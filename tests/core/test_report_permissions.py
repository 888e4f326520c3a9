"""Report files get the user's normal permissions (the umask), not mkstemp's owner-only 0600."""

import os
import stat

import pytest

from biosig.report.writer import write_atomic, write_json


@pytest.fixture
def restore_umask():
    """Restore the process umask after a test that changes it."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_report_files_follow_the_umask(tmp_path, restore_umask):
    os.umask(0o022)
    report = write_atomic(tmp_path / "report.md", "# report\n")
    metrics = write_json(tmp_path / "metrics.json", {"valence": {}})
    assert _mode(report) == 0o644 and _mode(metrics) == 0o644
    os.umask(0o077)
    private = write_json(tmp_path / "private.json", {})
    assert _mode(private) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json", "private.json", "report.md"]
