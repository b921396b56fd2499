"""Uploaded files: the types and size accepted, and where they are kept (in a workspace; files
only read once sit in a :func:`scratch` folder removed when done)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from pathlib import Path

import streamlit as st

from rtm.errors import InputError

UPLOAD_TYPES = ("csv", "zip", "geojson", "json", "gpkg", "parquet")
"""File types accepted for upload. Shapefiles come zipped; nothing uploaded is executed or unpickled."""


def upload_limit_mb() -> int:
    """The upload size limit in MB: ``RTM_UPLOAD_LIMIT_MB``, else Streamlit's ``server.maxUploadSize``."""
    env = os.environ.get("RTM_UPLOAD_LIMIT_MB")
    if env and env.isdigit():
        return int(env)
    return int(st.get_option("server.maxUploadSize"))


def safe_name(name: str) -> str:
    """A file name safe to write in the upload folder: no folders, only letters, digits, ``._-``."""
    base = re.split(r"[\\/]", str(name))[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip(".") or "upload"
    if len(base) > 120:  # shortened before its type, which says how it is read (.csv, .csv.gz)
        suffix = re.search(r"(\.[A-Za-z0-9]{1,8}){0,2}$", base).group(0)
        base = base[:120 - len(suffix)] + suffix
    return base


@contextlib.contextmanager
def scratch():
    """A private folder for uploaded files a reader needs on disk (a boundary file's fields,
    patrol logs, zones), under ``RTM_UPLOAD_DIR`` when set, else the system temp folder;
    removed with everything in it when the ``with`` block ends. Data a user keeps goes into a
    workspace instead (:func:`add_to_workspace`, :func:`rtm.workspace_new.create_workspace`)."""
    root = os.environ.get("RTM_UPLOAD_DIR") or None
    if root:
        Path(root).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rtm-upload-", dir=root) as folder:
        yield Path(folder)


def save_upload(file, folder: Path) -> Path:
    """Check an uploaded file's type and size and write it to ``folder`` under its sanitised
    name. Returns the path; raises :class:`InputError` for a type or size that is refused."""
    name = safe_name(file.name)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in UPLOAD_TYPES:
        raise InputError(file.name, f"files of type '.{ext}' are not accepted" if ext else "the file has no type",
                         f"upload one of: {', '.join('.' + t for t in UPLOAD_TYPES)} (zip a shapefile's parts)")
    limit = upload_limit_mb()
    if file.size > limit * 1024 * 1024:
        raise InputError(file.name, f"the file is {file.size / 1024 / 1024:,.0f} MB, over the {limit} MB limit",
                         "split it (e.g. by year) or ask for the limit to be raised (docs/deployment.md)")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(file.getvalue())
    return path


def save_uploads(files, folder: Path) -> list[Path]:
    """Save uploads each in a numbered subfolder of ``folder`` (:func:`save_upload` each):
    names that differ only in characters the sanitiser replaces (``crime (1).csv``,
    ``crime [1].csv``) never overwrite each other. Returns the paths in order."""
    return [save_upload(f, Path(folder) / f"{i:03d}") for i, f in enumerate(files)]


def add_to_workspace(files, workspace_folder) -> list[Path]:
    """Save uploaded incident files into the workspace's ``uploads/incidents/``
    (:data:`rtm.workspace.UPLOADS`), where the weekly run and every session's app read them
    with the configured sources. Each file is checked as :func:`save_upload` does, written
    under ``uploads/.incoming/`` and then moved into place (a reader never sees half a file).
    Returns the paths added; InputError for a refused file, or a name already there with
    other content (nothing is replaced)."""
    from rtm.workspace import UPLOADS

    final_dir = Path(workspace_folder) / UPLOADS
    incoming = Path(tempfile.mkdtemp(prefix="incoming-", dir=_made(Path(workspace_folder) / "uploads")))
    try:
        files = _one_of_each(files)
        saved = [save_upload(f, incoming) for f in files]
        final_dir.mkdir(parents=True, exist_ok=True)
        for path, f in zip(saved, files):
            there = final_dir / path.name
            if there.exists() and there.read_bytes() != path.read_bytes():
                raise InputError(f.name, f"the workspace already has a different file named {path.name}",
                                 "rename the file before adding it, or remove the old one from uploads/incidents/")
        added = []
        for path in saved:
            os.replace(path, final_dir / path.name)
            added.append(final_dir / path.name)
        return added
    finally:
        shutil.rmtree(incoming, ignore_errors=True)


def _one_of_each(files) -> list:
    """``files`` without a second copy of the same file picked twice; InputError for two
    different files whose names become the same once made safe (``crime (1).csv`` and
    ``crime [1].csv`` are both ``crime_1_.csv``), which would overwrite each other."""
    kept: dict[str, object] = {}
    for f in files:
        name = safe_name(f.name)
        if name in kept:
            if kept[name].getvalue() == f.getvalue():
                continue
            raise InputError(f.name, f"it and '{kept[name].name}' would both be saved as {name}",
                             "rename one of them (e.g. crime_2019-01.csv) and add them again")
        kept[name] = f
    return list(kept.values())


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder

