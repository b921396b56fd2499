"""The workspace picker in a browser (issue 13 point 2): two workspaces in the workspaces
folder; the one named in the page address opens, stays through a refresh and a page change,
and choosing the other in the sidebar puts it in the address; uploaded files made into a new
workspace on the Data page open at once and reopen from the address in a new session."""

from __future__ import annotations

import pytest

from harness import OUTPUT, ROOT, start_streamlit, wait_for_app

pytest.importorskip("playwright.sync_api", reason="the playwright package is missing: pip install -e .[test]")


@pytest.fixture(scope="module")
def two_workspaces(tmp_path_factory):
    from harness import need_browser

    need_browser()
    from rtm.samples import SAMPLE_DIR, SAMPLES
    from rtm.sample_workspace import ensure_sample_workspace
    from rtm.workspace_new import NewWorkspace, create_workspace

    if not SAMPLES["southend"].available():
        pytest.skip("the bundled Southend sample is missing (sample_geo/southend)")
    root = tmp_path_factory.mktemp("workspaces")
    ensure_sample_workspace(root / "southend")
    s = SAMPLE_DIR / "southend"
    create_workspace(root, NewWorkspace("Other force", sorted((s / "crime").glob("*.csv"))[:3],
                                        s / "southend_lsoa2011.geojson", "LSOA11NM"))
    server = start_streamlit(ROOT / "streamlit_app.py", OUTPUT / "workspace_picker.log",
                             env={"RTM_WORKSPACES_DIR": str(root), "RTM_WORKSPACE": ""})
    yield server, root
    server.stop()


def _data_set(page) -> str:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]', has_text="Data set").first
    return box.locator("input").input_value() + " " + box.inner_text()


def _no_error(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.content()[:2000]


@pytest.mark.slow
def test_the_address_opens_a_workspace_and_the_picker_changes_it(two_workspaces, page):
    server, _ = two_workspaces
    base = f"http://127.0.0.1:{server.port}"
    wait_for_app(page, f"{base}/data?workspace=Other-force", timeout_ms=120_000)
    page.get_by_role("heading", name="Data").first.wait_for(timeout=90_000)
    for _ in range(2):  # as opened, then refreshed
        assert "Workspace: Other-force" in _data_set(page)
        assert "workspace=Other-force" in page.url
        _no_error(page)
        page.reload()
        wait_for_app(page, page.url, timeout_ms=120_000)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]', has_text="Data set").first
    box.locator("input").click()
    page.get_by_role("option", name="Workspace: southend", exact=True).first.click()
    page.wait_for_url("**workspace=southend**", timeout=120_000)
    wait_for_app(page, page.url, timeout_ms=120_000)
    page.reload()
    wait_for_app(page, page.url, timeout_ms=120_000)
    assert "Workspace: southend" in _data_set(page)
    _no_error(page)


@pytest.mark.slow
def test_uploaded_files_become_a_workspace_that_reopens_from_the_address(two_workspaces, page):
    from rtm.samples import SAMPLE_DIR

    server, root = two_workspaces
    s = SAMPLE_DIR / "southend"
    base = f"http://127.0.0.1:{server.port}"
    wait_for_app(page, f"{base}/data", timeout_ms=120_000)
    page.get_by_text("Upload your own data").click()
    page.get_by_label("Name of the new workspace (e.g. the force or study)").fill("Browser made")
    inputs = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    inputs.nth(0).set_input_files([str(p) for p in sorted((s / "crime").glob("*.csv"))[:2]])
    inputs.nth(1).set_input_files(str(s / "southend_lsoa2011.geojson"))
    page.get_by_text("Field naming each district").wait_for(timeout=60_000)
    page.get_by_role("button", name="Make the workspace").click()
    page.wait_for_url("**workspace=Browser-made**", timeout=180_000)
    wait_for_app(page, page.url, timeout_ms=120_000)
    assert (root / "Browser-made" / "workspace.toml").is_file()
    assert "Workspace: Browser-made" in _data_set(page)
    fresh = page.context.new_page()
    wait_for_app(fresh, f"{base}/?workspace=Browser-made", timeout_ms=120_000)
    assert "Workspace: Browser-made" in _data_set(fresh)
    _no_error(page)
    _no_error(fresh)
