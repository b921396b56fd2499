#!/usr/bin/env python3
"""Set up and run the project with one command each (Python 3.11+ and pip are enough).

    python3 run.py app     create .venv, install, start the app on the bundled sample
    python3 run.py test    create .venv, install with test tools, run the whole test suite

The virtual environment is reused; it is reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")


def ensure_env() -> None:
    """Create .venv and install the project (with test tools) unless already current."""
    stamp = VENV / ".rtm-installed"
    want = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == want and PY.exists():
        return
    if not PY.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing the project and its dependencies (first run takes a few minutes) ...", flush=True)
    subprocess.run([str(PY), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-e", f"{ROOT}[test]"],
                   check=True)
    stamp.write_text(want)


def compile_app() -> None:
    """Write the bytecode of the app's own modules (a few hundredths of a second when current).

    pip compiles the installed packages, but not an editable project, and Python skips writing
    bytecode where PYTHONDONTWRITEBYTECODE is set (many container images): the app's modules
    would then be compiled again at every start (about 0.1 s)."""
    subprocess.run([str(PY), "-m", "compileall", "-q", str(ROOT / "rtm"), str(ROOT / "app_pages")],
                   cwd=ROOT, check=False, stdout=subprocess.DEVNULL)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("app", "test"):
        print(__doc__)
        return 2
    try:
        ensure_env()
    except subprocess.CalledProcessError as exc:
        print(f"Installation failed (exit {exc.returncode}); see the pip output above.", file=sys.stderr)
        return 1
    compile_app()
    if argv[0] == "app":
        cmd = [str(PY), "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), *argv[1:]]
        return subprocess.call(cmd, cwd=ROOT)
    code = subprocess.call([str(PY), "-m", "pytest", *argv[1:]], cwd=ROOT)
    if code == 5:
        print("No tests were collected: treating this as a failure.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
