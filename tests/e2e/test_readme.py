"""The README is honest: every command in its "Command line" block runs."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Command line", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [re.sub(r"\s+#.*$", "", line).strip() for line in block.strip().splitlines()]


def test_readme_command_block_runs(tmp_path):
    commands = _commands()
    assert any("main.py info" in c for c in commands) and any("main.py validate" in c for c in commands)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for command in commands:
        command = command.replace("/tmp/", f"{tmp_path}/").replace(".venv/bin/python", shlex.quote(sys.executable))
        proc = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, f"README command failed: {command}\n{proc.stdout}\n{proc.stderr}"
    assert (tmp_path / "window.png").stat().st_size > 0
