"""The set-up files agree with each other and the project layout holds."""

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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


def test_run_py_writes_the_bytecode_of_the_apps_modules():
    """``run.py`` compiles rtm/ and app_pages/, which an editable install leaves to each start."""
    spec = importlib.util.spec_from_file_location("run_script", ROOT / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    if not run.PY.exists():
        pytest.skip(f"{run.PY} is missing: this checks the set-up made by 'python3 run.py'")
    sources = sorted((ROOT / "rtm").glob("*.py")) + sorted((ROOT / "app_pages").glob("*.py"))
    gone = Path(importlib.util.cache_from_source(str(sources[0])))
    gone.unlink(missing_ok=True)
    run.compile_app()
    for src in sources:
        pyc = Path(importlib.util.cache_from_source(str(src)))
        assert pyc.is_file(), f"no bytecode for {src.name}"
        # bytes 8-12 of a timestamp pyc hold the source's mtime: the bytecode is current
        assert int.from_bytes(pyc.read_bytes()[8:12], "little") == int(src.stat().st_mtime) & 0xFFFFFFFF, src.name
