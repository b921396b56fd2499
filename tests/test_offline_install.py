"""The offline route: ``run.py bundle DIR`` where PyPI is reachable, then ``run.py ... --from DIR``.

The slow tests build one real bundle per test session (pip's download cache makes a second
build quick), unpack the project from it into a temporary folder and install it there into a
fresh virtual environment from the bundle alone: pip runs with ``--no-index``, its settings
files are ignored and any proxy it might try points at a closed port. Nothing is written into
the checkout.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run_script", ROOT / "run.py")
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)
import offline_bundle  # noqa: E402  (beside run.py, which puts the project folder on sys.path)

NO_NETWORK = {"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
              "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "no_proxy": "localhost"}
"""Proxy settings aimed at a closed local port: a download attempted despite --no-index fails."""


def _fake_bundle(tmp_path: Path) -> Path:
    """A small folder laid out like a bundle, with a correct checksum list."""
    bundle = tmp_path / "bundle"
    (bundle / "wheels").mkdir(parents=True)
    (bundle / "wheels" / "example-1.0-py3-none-any.whl").write_bytes(b"not really a wheel")
    shutil.copy2(run.LOCK, bundle / "requirements.lock")
    (bundle / "TARGET").write_text(f"{offline_bundle.this_machine()}\n")
    offline_bundle.write_checksums(bundle)
    return bundle


def test_check_bundle_accepts_an_intact_bundle_and_names_a_damaged_file(tmp_path):
    bundle = _fake_bundle(tmp_path)
    offline_bundle.check_bundle(bundle, run.LOCK)
    (bundle / "wheels" / "example-1.0-py3-none-any.whl").write_bytes(b"not really a wheeL")
    damaged = r"1 file\(s\) .* damaged \(first: wheels/example-1.0-py3-none-any.whl\)"
    with pytest.raises(offline_bundle.BundleError, match=damaged):
        offline_bundle.check_bundle(bundle, run.LOCK)


def test_check_bundle_refuses_another_lock_another_python_or_no_checksums(tmp_path):
    bundle = _fake_bundle(tmp_path)
    (bundle / "TARGET").write_text("Python 3.99 on plan9 mips\n")
    offline_bundle.write_checksums(bundle)
    with pytest.raises(offline_bundle.BundleError, match="made for Python 3.99 on plan9 mips"):
        offline_bundle.check_bundle(bundle, run.LOCK)
    (bundle / "requirements.lock").write_text("numpy==1.0\n")
    offline_bundle.write_checksums(bundle)
    with pytest.raises(offline_bundle.BundleError, match="different requirements.lock"):
        offline_bundle.check_bundle(bundle, run.LOCK)
    (bundle / "SHA256SUMS").unlink()
    with pytest.raises(offline_bundle.BundleError, match="not an offline bundle"):
        offline_bundle.check_bundle(bundle, run.LOCK)


def test_bundle_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "something.txt").write_text("keep me")
    out = subprocess.run([sys.executable, str(ROOT / "run.py"), "bundle", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert "is not empty" in out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["something.txt"]


LOCK_EXAMPLE = """# header
#    python3 run.py lock
colorama==0.4.6 ; sys_platform == 'win32' \\
    --hash=sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \\
    --hash=sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
    # via click
numpy==2.4.6 ; python_full_version < '3.12' \\
    --hash=sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc
    # via pandas
numpy==2.5.5 ; python_full_version >= '3.12' \\
    --hash=sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd
six==1.16.0 \\
    --hash=sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
watchdog==7.1.0 ; sys_platform != 'darwin' \\
    --hash=sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
"""


@pytest.mark.parametrize("platform_tag, python, expected", [
    ("win_amd64", "3.11", ["colorama==0.4.6", "numpy==2.4.6", "six==1.16.0", "watchdog==7.1.0"]),
    ("manylinux_2_28_x86_64", "3.12", ["numpy==2.5.5", "six==1.16.0", "watchdog==7.1.0"]),
    ("macosx_11_0_arm64", "3.13", ["numpy==2.5.5", "six==1.16.0"]),
])
def test_pins_for_a_target_evaluates_the_locks_markers(platform_tag, python, expected):
    pins = offline_bundle.pins_for(LOCK_EXAMPLE, offline_bundle.target_for(platform_tag, python))
    assert [p.split(" ")[0] for p in pins] == expected
    colorama = [p for p in pins if p.startswith("colorama")]
    if colorama:
        assert colorama[0].split(" ")[1:] == ["--hash=sha256:" + "a" * 64, "--hash=sha256:" + "b" * 64]


def test_target_for_names_the_system_as_the_target_machine_reports_it():
    assert str(offline_bundle.target_for("win_amd64", "3.11")) == "Python 3.11 on win32 amd64"
    assert str(offline_bundle.target_for("manylinux_2_28_aarch64", "3.12")) == "Python 3.12 on linux aarch64"
    assert offline_bundle.target_for(None, None) == offline_bundle.this_machine()
    with pytest.raises(offline_bundle.BundleError, match="not a wheel platform tag"):
        offline_bundle.target_for("amiga_68k", "3.11")
    with pytest.raises(offline_bundle.BundleError, match="major.minor"):
        offline_bundle.target_for(None, "3")


# ---------------------------------------------------------------- a real bundle (slow)

def _pypi_reachable() -> bool:
    probe = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps",
                            "--only-binary", ":all:", "--no-cache-dir", "pip"],
                           capture_output=True, text=True, timeout=120)
    return probe.returncode == 0


def _step_lines(text: str) -> list[str]:
    return re.findall(r"^\[\s*\d+\.\d s\] .*$", text, flags=re.M)


@pytest.fixture(scope="session")
def offline_install(tmp_path_factory):
    """Build a bundle with ``run.py bundle``, unpack its project, ``run.py install --from`` it.

    Returns ``(bundle, project, outputs)``; the folders (about 1.3 GB) are removed afterwards."""
    work = tmp_path_factory.mktemp("offline")
    bundle = work / "bundle"
    try:
        started = time.monotonic()
        built = subprocess.run([sys.executable, str(ROOT / "run.py"), "bundle", str(bundle)],
                               capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL)
        if built.returncode != 0 and not _pypi_reachable():
            pytest.skip("PyPI cannot be reached from here: building an offline bundle needs it")
        assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
        build_s = time.monotonic() - started
        (archive,) = bundle.glob("rtm-harmspots-*.zip")
        with zipfile.ZipFile(archive) as z:
            z.extractall(work)
        project = work / archive.stem
        started = time.monotonic()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
        installed = subprocess.run([sys.executable, "run.py", "install", "--from", str(bundle)], cwd=project,
                                   env={**env, **NO_NETWORK}, capture_output=True, text=True, timeout=1800,
                                   stdin=subprocess.DEVNULL)
        assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
        print(f"\noffline bundle built in {build_s:.0f} s, installed from it in {time.monotonic() - started:.0f} s")
        yield bundle, project, {"bundle": built.stdout, "install": installed.stdout}
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.slow
def test_bundle_holds_a_wheel_per_locked_pin_the_project_and_its_checksums(offline_install):
    bundle, project, outputs = offline_install
    wheels = {}
    for whl in (bundle / "wheels").glob("*.whl"):
        name, version = whl.name.split("-")[:2]
        wheels[name.lower().replace("_", "-")] = version
    lock = run.LOCK.read_text()
    for name, version in wheels.items():
        assert re.search(rf"^{re.escape(name)}=={re.escape(version)} ", lock, flags=re.M | re.I), name
    pinned = {pin.split("==")[0].lower() for pin in offline_bundle.pins_for(lock, offline_bundle.this_machine())}
    assert set(wheels) == pinned
    listed = dict(reversed(line.split("  ", 1)) for line in (bundle / "SHA256SUMS").read_text().splitlines())
    assert set(listed) == {p.relative_to(bundle).as_posix() for p in bundle.rglob("*")
                           if p.is_file() and p.name != "SHA256SUMS"}
    for must in ("run.py", "requirements.lock", "streamlit_app.py", "layers", "sample_geo", "app_pages"):
        assert (project / must).exists(), must
    assert "run.py app --from" in (bundle / "README.txt").read_text()
    assert len(_step_lines(outputs["bundle"])) >= 4


@pytest.mark.slow
def test_offline_install_runs_rtm_and_imports_the_app_pages(offline_install):
    bundle, project, outputs = offline_install
    steps = _step_lines(outputs["install"])
    for words in ("Checking the offline bundle", "Creating the virtual environment", "Installing the pinned",
                  "Installing the project", "Compiling"):
        assert any(words in s for s in steps), (words, steps)
    assert "Looking in links: " + str(bundle / "wheels") in outputs["install"]
    venv_bin = project / ".venv" / ("Scripts" if os.name == "nt" else "bin")
    helped = subprocess.run([str(venv_bin / "rtm"), "--help"], capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0, helped.stderr
    for command in ("validate", "model", "weekly"):
        assert command in helped.stdout
    # every module the app and its pages import, imported in the offline environment
    modules = set()
    for script in [project / "streamlit_app.py", *sorted((project / "app_pages").glob("*.py"))]:
        for node in ast.walk(ast.parse(script.read_text())):
            if isinstance(node, ast.Import):
                modules.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module)
                modules.update(f"{node.module}.{a.name}" for a in node.names  # `from app_pages import common`
                               if (project / node.module.replace(".", "/") / f"{a.name}.py").is_file())
    assert {"streamlit", "streamlit_folium", "app_pages.common"} <= modules
    code = ("import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)\n"
            "print('imported', len(sys.argv) - 1)")
    imported = subprocess.run([str(venv_bin / "python"), "-c", code, *sorted(modules)], cwd=project,
                              capture_output=True, text=True, timeout=300, env={**os.environ, **NO_NETWORK})
    assert imported.returncode == 0, imported.stderr[-3000:]
    assert imported.stdout.strip() == f"imported {len(modules)}"
    pip_list = subprocess.run([str(venv_bin / "python"), "-m", "pip", "list", "--format", "freeze"],
                              capture_output=True, text=True, timeout=120).stdout
    assert "pandas==" + run.locked_versions(run.LOCK.read_text())["pandas"] in pip_list


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_app(project: Path, bundle: Path, opened: Path, *options: str) -> tuple[subprocess.Popen, list[str], str]:
    """``run.py app --from`` in the unpacked project, with a display and a recording $BROWSER;
    returns the process, its output lines up to the ready line, and the address."""
    browser = opened.parent / "record-browser"
    browser.write_text(f"#!{sys.executable}\nimport sys\nopen({str(opened)!r}, 'a').write(sys.argv[1] + '\\n')\n")
    browser.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(NO_NETWORK, DISPLAY=":99", BROWSER=str(browser), PYTHONUNBUFFERED="1",
               RTM_MODEL_DIR=str(opened.parent / "models"))
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "run.py", "app", "--from", str(bundle), *options,
                             "--server.port", str(port)], cwd=project, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)
    lines, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        found = re.search(r"The app is ready: open (\S+) ", line)
        if found:
            return proc, lines, found.group(1)
    proc.kill()
    raise AssertionError("no ready line:\n" + "\n".join(lines))


def _stop_with_ctrl_c(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    return rest


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="sends SIGINT as Ctrl+C does in a POSIX terminal")
def test_app_prints_steps_and_the_address_opens_the_browser_and_stops_on_ctrl_c(offline_install, tmp_path):
    bundle, project, _ = offline_install
    opened = tmp_path / "opened.txt"
    proc, lines, url = _start_app(project, bundle, opened)
    try:
        assert re.fullmatch(r"http://localhost:\d+", url), url
        with urllib.request.urlopen(url + "/_stcore/health", timeout=10) as response:
            assert response.status == 200
        steps = _step_lines("\n".join(lines))
        assert any("Starting the app" in s and "Ctrl+C" in s for s in steps), steps
        deadline = time.monotonic() + 30
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert opened.read_text().split() == [url]
    finally:
        rest = _stop_with_ctrl_c(proc)
    assert proc.returncode == 0, rest
    assert "The app has stopped." in rest
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "/_stcore/health", timeout=5)


@pytest.mark.slow
@pytest.mark.skipif(os.name == "nt", reason="sends SIGINT as Ctrl+C does in a POSIX terminal")
def test_app_no_browser_option_opens_nothing(offline_install, tmp_path):
    bundle, project, _ = offline_install
    opened = tmp_path / "opened.txt"
    proc, _, url = _start_app(project, bundle, opened, "--no-browser")
    try:
        time.sleep(3)  # the browser is opened right after the ready line when it is wanted
        assert not opened.exists()
    finally:
        _stop_with_ctrl_c(proc)
    assert proc.returncode == 0


@pytest.mark.slow
def test_a_bundle_for_windows_made_here_holds_windows_wheels_that_satisfy_the_lock(tmp_path):
    """``--platform win_amd64``: the lock's markers are evaluated for Windows (colorama comes
    in), every wheel is for Windows or any system, and pip, told it installs for Windows,
    resolves the whole lock from these wheels alone with their hashes checked."""
    bundle = tmp_path / "bundle-windows"
    built = subprocess.run([sys.executable, str(ROOT / "run.py"), "bundle", str(bundle), "--platform", "win_amd64",
                            "--python-version", "3.11"], capture_output=True, text=True, timeout=1800,
                           stdin=subprocess.DEVNULL)
    if built.returncode != 0 and not _pypi_reachable():
        pytest.skip("PyPI cannot be reached from here: building an offline bundle needs it")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert (bundle / "TARGET").read_text() == "Python 3.11 on win32 amd64\n"
    wheels = sorted(p.name for p in (bundle / "wheels").glob("*.whl"))
    pins = offline_bundle.pins_for(run.LOCK.read_text(), offline_bundle.target_for("win_amd64", "3.11"))
    assert len(wheels) == len(pins)
    assert any(w.startswith("colorama-") for w in wheels)
    for wheel in wheels:
        assert wheel.endswith(("-none-any.whl", "-win_amd64.whl")), wheel
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    dry = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                          "--platform", "win_amd64", "--python-version", "3.11", "--implementation", "cp",
                          "--only-binary", ":all:", "--target", str(tmp_path / "target"), "--no-index",
                          "--find-links", str(bundle / "wheels"), "--require-hashes", "-r", str(run.LOCK)],
                         capture_output=True, text=True, timeout=600, env={**env, "PIP_CONFIG_FILE": os.devnull})
    assert dry.returncode == 0, dry.stdout[-3000:] + dry.stderr[-3000:]
    assert "Would install" in dry.stdout and "numpy-" in dry.stdout
    shutil.rmtree(bundle)
