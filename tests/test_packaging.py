"""The set-up files agree with each other and the project layout holds."""

import importlib.util
import re
import shutil
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run_script", ROOT / "run.py")
run = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run)


def _name(req: str) -> str:
    return re.split(r"[<>=!~ \[;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_deps() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    proj = data["project"]
    return {_name(r) for r in proj["dependencies"] + proj["optional-dependencies"]["test"]}


def _conda_deps() -> set[str]:
    names, in_deps = set(), False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        m = re.match(r"^  - ([A-Za-z0-9_.-]+)", line)
        if in_deps and m:
            names.add(_name(m.group(1)))
    return names - {"python", "pip"}


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    assert _conda_deps() == _pyproject_deps()


def test_console_script_and_layout():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["scripts"]["rtm"] == "rtm.cli:main"
    for p in ("streamlit_app.py", "rtm", "layers", "sample_geo", "tests", "environment.yml", "README.md",
              ".ci/run", "docs", "bench"):
        assert (ROOT / p).exists(), p


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 run.py test" in readme and "python3 run.py app" in readme
    assert "exec python3 run.py test" in ci


def test_streamlit_usage_statistics_are_off():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["browser"]["gatherUsageStats"] is False
    # a specific address: no start-up lookup of the external IP at an outside service
    assert cfg["server"]["address"] == "localhost"
    # ./static served at /app/static/: a workspace's local basemap tiles (rtm/basemap.py)
    assert cfg["server"]["enableStaticServing"] is True


def test_run_py_writes_the_bytecode_of_the_apps_modules(tmp_path):
    """``run.py`` compiles rtm/ and app_pages/, which an editable install leaves to each start.

    Checked on a copy of the two folders, so nothing is written into the checkout."""
    for folder in ("rtm", "app_pages"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    sources = sorted((tmp_path / "rtm").rglob("*.py")) + sorted((tmp_path / "app_pages").rglob("*.py"))
    assert sources and not list(tmp_path.rglob("*.pyc"))
    run.compile_app(tmp_path, sys.executable)
    for src in sources:
        pyc = Path(importlib.util.cache_from_source(str(src)))
        assert pyc.is_file(), f"no bytecode for {src.relative_to(tmp_path)}"
        # bytes 8-12 of a timestamp pyc hold the source's mtime: the bytecode is current
        assert int.from_bytes(pyc.read_bytes()[8:12], "little") == int(src.stat().st_mtime) & 0xFFFFFFFF, src.name


def _lock_pins() -> dict[str, list[tuple[str, str]]]:
    """``{name: [(version, marker), ...]}`` of requirements.lock, read without run.py's helper."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)(?: ; ([^\\]*?))? \\$", run.LOCK.read_text(), flags=re.M):
        pins.setdefault(m.group(1).lower().replace("_", "-"), []).append((m.group(2), m.group(3) or ""))
    return pins


def test_lock_pins_every_dependency_with_hashes_within_pyproject_ranges():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = (data["project"]["dependencies"] + data["project"]["optional-dependencies"]["test"]
              + data["build-system"]["requires"])
    pins = _lock_pins()
    for req in map(Requirement, wanted):
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{name} is not in requirements.lock: run 'python3 run.py lock'"
        for version, _ in pins[name]:
            assert req.specifier.contains(version, prereleases=True), f"{name}=={version} outside {req.specifier}"
    # every pin carries at least one hash, so pip's --require-hashes accepts the file
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", run.LOCK.read_text().split("\n", 2)[2])
    assert len(blocks) == sum(len(v) for v in pins.values())
    for block in blocks:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), block.splitlines()[0]


def test_environment_yml_pins_the_locked_versions_for_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^  - python=3\.11$", text, flags=re.M)
    pins = _lock_pins()
    for name, version in re.findall(r"^  - ([A-Za-z0-9_.-]+)==(\S+)$", text, flags=re.M):
        applying = [v for v, marker in pins[name.lower()] if ">= '3.12'" not in marker]
        assert applying == [version], f"environment.yml has {name}=={version}, the lock {applying}"


def test_pin_environment_yml_writes_the_lock_versions(tmp_path):
    """The update command's last step, on a copy of environment.yml with loose ranges."""
    loose = re.sub(r"==(\S+)$", ">=0.1", (ROOT / "environment.yml").read_text(), flags=re.M)
    target = tmp_path / "environment.yml"
    target.write_text(loose)
    run.pin_environment_yml(target, run.locked_versions(run.LOCK.read_text()))
    assert target.read_text() == (ROOT / "environment.yml").read_text()


def test_lock_file_names_its_update_command():
    assert run.LOCK.read_text().split("\n", 2)[1].strip() == "#    python3 run.py lock"
