#!/usr/bin/env python3
"""Set up and run the project with one command each (Python 3.11+ and pip are enough).

    python3 run.py app [--no-browser]   install into .venv, start the app on the workspace in
                                        RTM_WORKSPACE (else the sample runs/southend, made on
                                        first start), open the browser
    python3 run.py test                 install into .venv (with test tools), run the tests
    python3 run.py install              install into .venv only
    python3 run.py bundle DIR           write an offline bundle (needs PyPI) into DIR, for this
                                        machine or --platform TAG --python-version X.Y
    python3 run.py lock                 update requirements.lock and environment.yml (needs PyPI)

`app`, `test` and `install` take `--from DIR` to install from an offline bundle with
`pip --no-index` (no network). Other options go to `streamlit run` or to `pytest`.

Installs take the exact versions and hashes in requirements.lock. The virtual environment is
reused; it is reinstalled only when requirements.lock or pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import venv
import webbrowser
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # offline_bundle.py beside this file, also when run.py is imported

import offline_bundle  # noqa: E402

VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
LOCK = ROOT / "requirements.lock"
UV = "uv==0.13.9"  # the resolver behind `run.py lock` (pinned: the lock's format stays the same)
PIP = offline_bundle.PIP


class Steps:
    """Prints one line per step with the seconds since the command started."""

    def __init__(self) -> None:
        self.start = time.monotonic()

    def __call__(self, text: str) -> None:
        print(f"[{time.monotonic() - self.start:6.1f} s] {text}", flush=True)


class SetupError(Exception):
    """A set-up step failed; the message says what happened and what to do."""


def _isolated_pip_env() -> dict[str, str]:
    """The environment for a pip that must see the bundle only: no pip settings from
    configuration files or ``PIP_*`` variables (extra indexes, find-links, constraints)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _run(cmd: list[str], what: str, **kwargs) -> None:
    code = subprocess.call(cmd, **kwargs)
    if code != 0:
        raise SetupError(f"{what} failed (exit {code}); the messages above say why.")


# ---------------------------------------------------------------- installing

def env_stamp() -> str:
    """What the installed environment must match: the lock file and the project's metadata."""
    digest = hashlib.sha256(LOCK.read_bytes())
    digest.update((ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def ensure_env(steps: Steps, bundle: Path | None = None) -> None:
    """Create .venv and install the locked dependencies and the project, unless already current.

    Two pip calls, because pip's hash checking cannot cover an editable project (a folder has
    no single file to hash): first every pinned dependency with ``--require-hashes`` from
    ``requirements.lock`` (setuptools, the build backend, included), then the project with
    ``--no-deps --no-build-isolation --no-index``, which downloads nothing. With ``bundle``
    the first call is ``--no-index --find-links BUNDLE/wheels`` with pip's own settings
    ignored, so nothing is fetched from anywhere else.
    """
    stamp = VENV / ".rtm-installed"
    want = env_stamp()
    if stamp.exists() and stamp.read_text() == want and PY.exists():
        steps("The environment in .venv is up to date.")
        return
    if bundle is not None:
        steps(f"Checking the offline bundle {bundle} (checksums, lock file, Python and system) ...")
        offline_bundle.check_bundle(bundle, LOCK)
    if not PY.exists():
        steps("Creating the virtual environment in .venv ...")
        venv.EnvBuilder(with_pip=True).create(VENV)
    source = f"the offline bundle {bundle}" if bundle else "PyPI"
    steps(f"Installing the pinned dependencies of requirements.lock from {source} "
          "(a minute or more the first time; pip's progress follows) ...")
    cmd = [str(PY), *PIP, "install", "--require-hashes", "-r", str(LOCK)]
    if bundle is not None:
        cmd += ["--no-index", "--find-links", str(bundle / "wheels")]
    _run(cmd, "Installing the dependencies", env=_isolated_pip_env() if bundle else None)
    steps("Installing the project itself (editable, nothing downloaded) ...")
    _run([str(PY), *PIP, "install", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-e", str(ROOT)],
         "Installing the project", env=_isolated_pip_env())
    stamp.write_text(want)


def compile_app(root: Path = ROOT, python: Path | str = PY) -> None:
    """Write the bytecode of the app's own modules under ``root`` (a few hundredths of a second when current).

    pip compiles the installed packages, but not an editable project, and Python skips writing
    bytecode where PYTHONDONTWRITEBYTECODE is set (many container images): the app's modules
    would then be compiled again at every start (about 0.1 s)."""
    subprocess.run([str(python), "-m", "compileall", "-q", str(root / "rtm"), str(root / "app_pages")],
                   cwd=root, check=False, stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------- the app

def has_display() -> bool:
    """Whether a browser window can be shown: not under CI, and on Linux only with X or Wayland."""
    if os.environ.get("CI"):
        return False
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _wait_ready(url: str, server: subprocess.Popen, timeout: float = 120.0) -> bool:
    health = url.rstrip("/") + "/_stcore/health"
    end = time.monotonic() + timeout
    while time.monotonic() < end and server.poll() is None:
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


SAMPLE_WORKSPACE = ROOT / "runs" / "southend"
"""The workspace the app opens when ``RTM_WORKSPACE`` is not set: the bundled Southend sample."""


def workspace_env(steps: Steps) -> dict[str, str]:
    """The workspace the app opens: ``RTM_WORKSPACE`` when set; otherwise the bundled sample
    workspace ``runs/southend``, made and published on the first start
    (:func:`rtm.sample_workspace.ensure_sample_workspace`, about 10 s once) so that the
    app's first page only reads its lists. Empty (the app's own default) if that fails."""
    if os.environ.get("RTM_WORKSPACE"):
        steps(f"Opening the workspace {os.environ['RTM_WORKSPACE']} (RTM_WORKSPACE).")
        return {}
    steps(f"Opening the sample workspace {SAMPLE_WORKSPACE} (Southend-on-Sea; set RTM_WORKSPACE for a force's) ...")
    lists = SAMPLE_WORKSPACE / "lists"
    if (SAMPLE_WORKSPACE / "archive.sqlite").is_file() and lists.is_dir() and any(lists.iterdir()):
        return {"RTM_WORKSPACE": str(SAMPLE_WORKSPACE)}  # made and published on an earlier start
    code = subprocess.call([str(PY), "-m", "rtm.sample_workspace", str(SAMPLE_WORKSPACE)], cwd=ROOT)
    if code != 0:
        steps("The sample workspace could not be made (see above); the app opens on its bundled samples.")
        return {}
    return {"RTM_WORKSPACE": str(SAMPLE_WORKSPACE)}


def start_app(steps: Steps, options: list[str], open_browser: bool) -> int:
    """Run ``streamlit run streamlit_app.py`` on the workspace of :func:`workspace_env`, echo
    its output, and once the server answers print the address (and open it in the browser
    when asked and there is a display)."""
    extra = workspace_env(steps)
    steps("Starting the app (this window keeps it running; Ctrl+C stops it) ...")
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8", **extra)
    server = subprocess.Popen([str(PY), "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), *options],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, encoding="utf-8", errors="replace", bufsize=1)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")  # a console that cannot show a character the server printed

    def announce(url: str) -> None:
        if not _wait_ready(url, server):
            return
        steps(f"The app is ready: open {url} in a browser. Ctrl+C here stops it.")
        if open_browser and has_display():
            webbrowser.open(url)

    def stop(signum, frame) -> None:
        # Ctrl+C (or a SIGTERM to run.py) asks the server to stop; its output is read to the end
        # so that it never blocks on a full or closed pipe while shutting down.
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    announced = False
    for line in server.stdout:
        print(line, end="", flush=True)
        found = re.search(r"URL:\s*(https?://\S+)", line)
        if found and not announced:
            threading.Thread(target=announce, args=(found.group(1),), daemon=True).start()
            announced = True
    code = server.wait()
    steps("The app has stopped.")
    return 0 if code in (0, -signal.SIGTERM) else code


# ---------------------------------------------------------------- the lock file

def update_lock(steps: Steps) -> None:
    """Resolve pyproject.toml (with the test extra and the build backend) for every platform
    and Python 3.11+ into requirements.lock with hashes, and copy the pins to environment.yml."""
    import tomllib

    ensure_env(steps)
    steps(f"Installing {UV} into .venv to resolve the versions ...")
    _run([str(PY), *PIP, "install", "-q", UV], "Installing uv")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy2(ROOT / "pyproject.toml", tmp)
        build = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
        Path(tmp, "build-backend.in").write_text("\n".join(build) + "\n")
        steps("Resolving the newest versions allowed by pyproject.toml ...")
        _run([str(PY), "-m", "uv", "pip", "compile", "--quiet", "pyproject.toml", "build-backend.in", "--extra", "test",
              "--universal", "--python-version", "3.11", "--generate-hashes", "--upgrade",
              "--custom-compile-command", "python3 run.py lock", "-o", str(LOCK)], "Resolving", cwd=tmp)
    pin_environment_yml(ROOT / "environment.yml", locked_versions(LOCK.read_text()))
    steps("requirements.lock and environment.yml are updated; run 'python3 run.py test' to check them.")


def locked_versions(lock_text: str, python: str = "3.11") -> dict[str, str]:
    """``{name: version}`` of the lock's pins for Python ``python`` (markers evaluated as on
    Linux x86_64: the project's own requirements carry no platform marker)."""
    pins = offline_bundle.pins_for(lock_text, offline_bundle.Target(python, "linux", "x86_64"))
    return {pin.split("==")[0].lower().replace("_", "-"): pin.split("==")[1].split(" ")[0] for pin in pins}


def pin_environment_yml(path: Path, versions: dict[str, str]) -> None:
    """Rewrite each ``  - name...`` dependency of environment.yml as ``name==version`` from the lock."""
    def pin(m: re.Match) -> str:
        name = m.group(1).lower().replace("_", "-")
        return f"  - {m.group(1)}=={versions[name]}" if name in versions else m.group(0)
    path.write_text(re.sub(r"^  - ([A-Za-z0-9_.-]+)(?:[<>=!~].*)?$", pin, path.read_text(), flags=re.M))


# ---------------------------------------------------------------- the command line

def _take_option(args: list[str], name: str, has_value: bool) -> tuple[list[str], str | bool | None]:
    """Remove ``name`` (and its value) from ``args``; return the rest and the value found."""
    rest, value, i = [], None, 0
    while i < len(args):
        arg = args[i]
        if arg == name:
            if not has_value:
                value = True
            elif i + 1 < len(args):
                value, i = args[i + 1], i + 1
            else:
                raise SetupError(f"{name} needs a value.")
        elif has_value and arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
        else:
            rest.append(arg)
        i += 1
    return rest, value


def main(argv: list[str]) -> int:
    commands = ("app", "test", "install", "bundle", "lock")
    if sys.version_info < (3, 11):
        print(f"This project needs Python 3.11 or newer; this is {sys.version.split()[0]}.", file=sys.stderr)
        return 1
    if not argv or argv[0] not in commands:
        print(__doc__)
        return 2
    command, args = argv[0], argv[1:]
    steps = Steps()
    try:
        if command == "bundle":
            args, platform_tag = _take_option(args, "--platform", True)
            args, python = _take_option(args, "--python-version", True)
            if len(args) != 1:
                raise SetupError("Give the folder to write the bundle into: python3 run.py bundle DIR "
                                 "[--platform TAG] [--python-version X.Y]")
            target = offline_bundle.target_for(platform_tag, python)
            offline_bundle.make_bundle(Path(args[0]).resolve(), ROOT, LOCK, target, steps)
            return 0
        if command == "lock":
            update_lock(steps)
            return 0
        args, bundle = _take_option(args, "--from", True)
        args, no_browser = _take_option(args, "--no-browser", False)
        ensure_env(steps, Path(bundle).resolve() if bundle else None)
        steps("Compiling the app's modules ...")
        compile_app()
    except (SetupError, offline_bundle.BundleError) as exc:
        print(f"run.py {command}: {exc}", file=sys.stderr)
        return 1
    if command == "install":
        steps(f"Installed: {BIN / 'rtm'} and the app are ready ('python3 run.py app' starts it).")
        return 0
    if command == "app":
        return start_app(steps, args, open_browser=not no_browser)
    steps("Running the tests ...")
    code = subprocess.call([str(PY), "-m", "pytest", *args], cwd=ROOT)
    if code == 5:
        print("No tests were collected: treating this as a failure.", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
