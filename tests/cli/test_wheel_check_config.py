"""The short demo config that CI's wheel step (.ci/wheel_check.sh) writes is a valid run config.

The wheel step runs after the test suite, so a config change that broke its
demo would otherwise surface only at its end.
"""

import re

import yaml

from biosig.config import config_from_dict
from tests.helpers import REPO_ROOT


def test_wheel_step_demo_config_validates(tmp_path):
    script = (REPO_ROOT / ".ci" / "wheel_check.sh").read_text(encoding="utf-8")
    block = re.search(r'cat >"\$work/demo\.yaml" <<EOF\n(.*?)\nEOF\n', script, re.S)
    assert block is not None, "the wheel step no longer writes $work/demo.yaml"
    data = yaml.safe_load(block.group(1).replace("$work", str(tmp_path)))
    cfg = config_from_dict(data, origin="wheel_check.sh")
    assert cfg.source.synthetic.n_subjects == 2
    assert [m.name for m in cfg.models] == ["logreg"]
    assert cfg.report.out_dir == tmp_path / "report"
