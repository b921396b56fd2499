"""Making a workspace from a user's own files (rtm.workspace_new): the app's "Upload your own
data". The folder is kept under the workspaces root, is never half made or overwritten, and the
weekly run publishes from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from rtm.archive import Archive
from rtm.cli import main
from rtm.errors import InputError
from rtm.samples import SAMPLE_DIR, SAMPLES
from rtm.workspace_new import NewWorkspace, create_workspace, folder_name, list_workspaces, workspaces_root

SOUTHEND = SAMPLE_DIR / "southend"
needs_southend = pytest.mark.skipif(not SAMPLES["southend"].available(),
                                    reason="the bundled Southend sample is missing")


def _streets(path: Path) -> Path:
    """Two named street lines in central Southend (WGS84)."""
    lines = [("High Street", [[0.7105, 51.5360], [0.7110, 51.5420]]),
             ("Marine Parade", [[0.7150, 51.5335], [0.7250, 51.5340]])]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n}, "geometry": {"type": "LineString", "coordinates": c}}
        for n, c in lines]}))
    return path


def _spec(name="Southend test", area_field="LSOA11NM", **kw) -> NewWorkspace:
    return NewWorkspace(name, sorted((SOUTHEND / "crime").glob("*.csv")), SOUTHEND / "southend_lsoa2011.geojson",
                        area_field, tolerance_m=150.0, **kw)


@needs_southend
def test_a_workspace_made_from_uploaded_files_is_published_by_the_weekly_run(tmp_path):
    root = tmp_path / "workspaces"
    spec = _spec(layers={"pubs": SOUTHEND / "pubs.geojson"}, streets=_streets(tmp_path / "streets.geojson"))
    folder, ws, _areas, inc = create_workspace(root, spec)
    assert folder == root / "Southend-test" and list_workspaces(root) == ["Southend-test"]
    assert ws.name == "Southend test" and ws.period_kind == "month"  # police.uk files are dated by month
    assert inc.report.rows_used > 20_000
    assert [f.name for f in ws.job.terrain.factors] == ["pubs"] and ws.job.streets
    for p in [*ws.job.study.incidents, ws.job.study.area, ws.job.streets]:  # copies inside the workspace
        assert Path(p).resolve().is_relative_to(folder.resolve())
    res = CliRunner().invoke(main, ["weekly", "--workspace", str(folder)])
    assert res.exit_code == 0, res.output
    assert (folder / "lists" / "2019-03" / "harmspots_month_2019-03.csv").is_file()
    assert Archive(folder / "archive.sqlite").periods()["period_key"].tolist() == ["2019-03"]


@needs_southend
def test_a_second_workspace_of_the_same_name_is_numbered_never_overwritten(tmp_path):
    first, *_ = create_workspace(tmp_path, _spec())
    before = (first / "workspace.toml").read_bytes()
    second, *_ = create_workspace(tmp_path, _spec(weights="count"))
    assert second.name == "Southend-test-2"
    assert (first / "workspace.toml").read_bytes() == before
    assert "count" in (second / "workspace.toml").read_text() and "cchi" in (first / "workspace.toml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Southend-test", "Southend-test-2"]


@needs_southend
def test_a_bad_upload_leaves_no_half_made_workspace(tmp_path):
    bad = tmp_path / "in" / "crime.csv"
    bad.parent.mkdir()
    bad.write_text("a,b\n1,2\n")
    root = tmp_path / "workspaces"
    with pytest.raises(InputError):
        create_workspace(root, NewWorkspace("Bad", [bad], SOUTHEND / "southend_lsoa2011.geojson", "LSOA11NM"))
    with pytest.raises(InputError, match="LSOA99"):  # a field the boundary file lacks
        create_workspace(root, _spec(area_field="LSOA99"))
    assert list(root.iterdir()) == []


def test_names_typed_by_a_user_make_safe_folder_names():
    assert folder_name("../../etc/passwd") == "etc-passwd"
    assert folder_name("Essex Police: Grip 2026") == "Essex-Police-Grip-2026"
    assert folder_name("<script>x</script>") == "script-x-script"
    with pytest.raises(InputError, match="no letter or digit"):
        folder_name(" ../ ")


def test_a_name_with_quotes_is_written_as_valid_toml(tmp_path):
    from rtm.workspace_new import _config_text

    text = _config_text(NewWorkspace('Force "A"\\ \n', [], Path("a")), "f", ["data/incidents/a.csv"],
                        "data/areas/a.geojson", {}, None, "week")
    import tomllib

    assert tomllib.loads(text)["force"]["name"] == 'Force "A"\\ '


def test_the_workspaces_root_comes_from_the_environment(tmp_path):
    assert workspaces_root({"RTM_WORKSPACES_DIR": str(tmp_path)}) == tmp_path
    assert workspaces_root({"RTM_WORKSPACE": str(tmp_path / "essex")}) == tmp_path.resolve()
    assert workspaces_root({}).name == "runs"
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "workspace.toml").write_text("")
    (tmp_path / ".new-b").mkdir()
    (tmp_path / ".new-b" / "workspace.toml").write_text("")
    (tmp_path / "c").mkdir()
    assert list_workspaces(tmp_path) == ["a"] and list_workspaces(tmp_path / "none") == []
