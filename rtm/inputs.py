"""Which files a path names: a file, a folder (searched recursively) or a zip, with every
file found and not read named in the notes, and the reason.

Special files (pipes, devices, sockets) are refused at once, symbolic links that loop or
lead nowhere are named as such, and a file in a folder that may not be read stops the
load with its name (a month silently missing would be worse).
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from .errors import InputError
from .sources import COMPRESSED, PARQUET_SUFFIXES, SHAPEFILE_PARTS, TEXT_SUFFIXES, VECTOR_SUFFIXES, Entry


def _is_folder_table(name: str) -> bool:
    """Files taken from a folder: CSV (maybe compressed), Parquet, vector layers, zips.
    Text files with other endings (.txt, .tsv: readmes, manifests) are taken only when
    named directly."""
    low = name.lower()
    stripped = low[: -len(Path(low).suffix)] if Path(low).suffix in COMPRESSED else low
    return stripped.endswith((".csv",) + PARQUET_SUFFIXES + VECTOR_SUFFIXES) or low.endswith(".zip")


def _special(mode: int) -> str | None:
    for test, what in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return None


def _check_path(p: Path) -> os.stat_result:
    """``os.stat`` of a user-given path, or an InputError saying why it cannot be read."""
    try:
        st = os.stat(p)
    except OSError as exc:
        if os.path.islink(p):
            why = ("a symbolic link that leads back to itself (a loop)" if exc.errno == 40
                   else "a symbolic link to something that does not exist")
            raise InputError(p, f"the path is {why}", "point at the real file or folder") from None
        if exc.errno == 13:
            raise InputError(p, "you may not read this file or folder", "ask for read permission or copy it") from None
        raise InputError(p, "the file or folder does not exist", "check the path and its spelling") from None
    what = _special(st.st_mode)
    if what:
        raise InputError(p, f"the path is {what}, not a file", "save the data to a file and load that")
    return st


def _walk(folder: Path) -> tuple[list[Path], dict[str, list[str]]]:
    """Regular files below ``folder`` (symbolic links to folders are not followed) and the
    other entries by the reason they are not read."""
    files: list[Path] = []
    skipped: dict[str, list[str]] = {}

    def skip(why, path):
        skipped.setdefault(why, []).append(str(path.relative_to(folder)))

    for root, dirs, names in os.walk(folder, followlinks=False, onerror=lambda e: skip("cannot be opened", Path(e.filename))):
        here = Path(root)
        for d in sorted(dirs):
            if (here / d).is_symlink():
                skip("symbolic links to folders (not followed)", here / d)
        dirs[:] = sorted(d for d in dirs if not (here / d).is_symlink() and not d.startswith("."))
        for n in sorted(names):
            f = here / n
            if n.startswith("."):
                skip("hidden files", f)
                continue
            try:
                st = os.stat(f)
            except OSError:
                skip("broken or looping symbolic links", f)
                continue
            what = _special(st.st_mode)
            if what:
                skip("not regular files (pipes, devices, sockets)", f)
            elif not os.access(f, os.R_OK):
                raise InputError(f, "you may not read this file", "ask for read permission, or move it out of the folder")
            else:
                files.append(f)
    return files, skipped


def _name_skipped(where: str, skipped: dict[str, list[str]], notes: list) -> None:
    for why, names in skipped.items():
        if names:
            notes.append(f"{where}: not read, {why}: {', '.join(names)}")


def expand_inputs(paths, notes: list | None = None) -> list[Entry]:
    """Turn user-given paths (files, folders, zips) into a sorted list of readable entries.

    Folders are searched recursively for tables and vector files. A zip contributes its
    CSV members; when it holds police.uk ``*-street.csv`` files only those are taken. Every
    file found but not taken is named in ``notes`` with the reason.

    Raises
    ------
    InputError
        A path that does not exist, is a pipe or device, a folder with no readable file,
        an unreadable file in a folder, or a zip with no CSV.
    """
    notes = notes if notes is not None else []
    entries: list[Entry] = []
    for p in map(Path, paths):
        st = _check_path(p)
        if stat.S_ISDIR(st.st_mode):
            files, skipped = _walk(p)
            found = [f for f in files if _is_folder_table(f.name)]
            shp = {f.with_suffix("") for f in found if f.suffix.lower() == ".shp"}
            taken = set(found)
            for f in files:
                if f in taken:
                    continue
                low = f.name.lower()
                part = next((s for s in SHAPEFILE_PARTS if low.endswith(s)), None)
                if part and Path(str(f)[: -len(part)]) in shp:
                    continue  # read with its .shp
                why = "not data tables" if not low.endswith((".txt", ".tsv")) else \
                    "text files other than .csv (name one directly to load it)"
                skipped.setdefault(why, []).append(str(f.relative_to(p)))
            _name_skipped(p.name, skipped, notes)
            if not found:
                held = [f"{n}, {why}" for why, names in skipped.items() for n in names]
                shown = "; ".join(held[:5]) + (f"; and {len(held) - 5} more" if len(held) > 5 else "")
                raise InputError(p, "the folder holds no CSV, Parquet, zip or vector file" +
                                 (f" (it holds: {shown})" if held else " (it is empty)"),
                                 "point at the folder that holds the monthly CSV files")
            for f in found:
                entries.extend(expand_inputs([f], notes))
        elif p.suffix.lower() == ".zip" or _looks_like_zip(p):
            entries.extend(_zip_entries(p, notes))
        else:
            entries.append(Entry(str(p), p))
    return entries


def _looks_like_zip(p: Path) -> bool:
    if p.suffix.lower() in (".xlsx", ".docx"):
        return False
    try:
        with open(p, "rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError as exc:
        raise InputError(p, f"the file cannot be read ({exc.strerror})", "check that you may read it") from None


def _zip_entries(p: Path, notes: list) -> list[Entry]:
    """The members of a zip to read: its police.uk street CSVs, else its CSV files, else its
    map layers (a zipped shapefile); every other member is named in ``notes``."""
    try:
        with zipfile.ZipFile(p) as zf:
            infos = [(i, info.filename) for i, info in enumerate(zf.infolist()) if not info.filename.endswith("/")]
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(p, f"the zip file is damaged or not a zip ({exc})", "download the file again") from None
    names = list(dict.fromkeys(n for _, n in infos))
    base = {n: Path(n).name for n in names}
    texts = [n for n in names if n.lower().endswith(TEXT_SUFFIXES + tuple(t + c for t in TEXT_SUFFIXES for c in COMPRESSED))
             and not base[n].startswith(".")]
    # .csv members, as from a folder; other text files (.txt, .tsv: a readme) only in a zip without any
    csvs = [n for n in texts if _is_folder_table(n)] or texts
    vectors = [n for n in names if n.lower().endswith(VECTOR_SUFFIXES + PARQUET_SUFFIXES) and not base[n].startswith(".")]
    street = [n for n in csvs if n.lower().endswith("-street.csv")]
    skipped: dict[str, list[str]] = {}
    if street:
        take = street
        skipped["other police.uk files (outcomes, stop and search) and other text files"] = [
            n for n in texts if n not in street]
        skipped["map layers in a zip of police.uk files (load them separately)"] = vectors
    elif csvs:
        take = csvs
        skipped["map layers in a zip of CSV files (load them separately)"] = vectors
        skipped["text files other than .csv"] = [n for n in texts if n not in csvs]
    elif vectors:
        take = vectors
    else:
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "") or "nothing"
        raise InputError(p, f"the zip holds no CSV file (it holds {shown})",
                         "unzip it and check its contents, or download the police.uk zip again")
    shp_stems = {n[:-4].lower() for n in take if n.lower().endswith(".shp")}
    rest = []
    for n in names:
        if n in take or any(n in v for v in skipped.values()):
            continue
        low = n.lower()
        part = next((s for s in SHAPEFILE_PARTS if low.endswith(s)), None)
        if part and low[: -len(part)] in shp_stems:
            continue
        rest.append(n)
    skipped["not data tables"] = rest
    _name_skipped(p.name, skipped, notes)
    at: dict[str, list[int]] = {}  # a zip may hold two members of one name: each is read
    for i, n in infos:
        at.setdefault(n, []).append(i)
    entries = []
    for n in sorted(take):
        places = at[n]
        if len(places) > 1:
            notes.append(f"{p.name}: {len(places)} members are called {n}; each is read, as {n} (1) to ({len(places)})")
        entries += [Entry(f"{p.name}:{n}" + (f" ({k})" if len(places) > 1 else ""), p, n, i)
                    for k, i in enumerate(places, 1)]
    return entries


