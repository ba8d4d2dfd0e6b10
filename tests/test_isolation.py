"""Every test, and every process it starts, has settings, data, login and keyring of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

WHERE = """
import json, keyring, platformdirs
from agentdesk.config import settings_path
print(json.dumps({"settings and saved login": str(settings_path()),
                  "data": platformdirs.user_data_dir("agentdesk"),
                  "keyring config": platformdirs.user_config_dir("python_keyring"),
                  "keyring": type(keyring.get_keyring()).__module__}))
"""


def test_a_started_process_sees_only_the_tests_own_home() -> None:
    home = Path(os.environ["HOME"])
    result = subprocess.run([sys.executable, "-c", WHERE], capture_output=True, text=True, timeout=60, check=True)
    where = json.loads(result.stdout)
    assert where.pop("keyring") == "keyring.backends.fail", "a test must choose a real keyring explicitly"
    for what, path in where.items():
        assert Path(path).is_relative_to(home), f"{what} is outside the test's home: {path}"
    assert not [name for name in os.environ if name.startswith("AGENTDESK_")]
