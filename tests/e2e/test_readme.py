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


def _blocks(heading: str) -> list[str]:
    """Every command in the ```sh blocks of the section ``heading`` (continuations joined)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(heading + "\n", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in section.split("```sh")[1:]:
        body = block.split("```", 1)[0].replace("\\\n", " ")
        commands += [re.sub(r"\s+#.*$", "", line).strip() for line in body.strip().splitlines()]
    return [c for c in commands if c]


def test_readme_drill_commands_run(tmp_path):
    commands = _blocks("## Drills")
    assert any("main.py impact" in c for c in commands) and any("--run-drill" in c for c in commands)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for command in commands:
        command = command.replace("/tmp/", f"{tmp_path}/").replace(".venv/bin/python", shlex.quote(sys.executable))
        command = command.replace("QT_QPA_PLATFORM=offscreen ", "")
        proc = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, f"README command failed: {command}\n{proc.stdout}\n{proc.stderr}"
    for name in ("leak.json", "leak.html", "leak.pdf", "leak_map.html", "flood.html", "gas.json",
                 "drill.png"):
        assert (tmp_path / name).stat().st_size > 0, name
