#!/usr/bin/env python3
"""Rebuild the vendored browser assets in this folder from the npm registry.

The app's maps must work with no internet connection, so the few browser files they need
(Leaflet and jQuery, the versions folium 0.20 asks for) are kept in the repository and
inlined into each map by ``rtm/webmap.py``. This script fetches them again, reproducibly:

    python3 static/vendor/fetch_assets.py           # fetch, check, write the files
    python3 static/vendor/fetch_assets.py --check   # fetch and compare with the committed files

It needs ``npm`` on the PATH and the npm registry; nothing else. For each package it runs
``npm pack NAME@VERSION`` in a temporary folder, checks the tarball against the pinned
sha256 below, copies the listed files (and the licence) into ``<package>/`` here and
writes ``SHA256SUMS`` (``sha256sum -c SHA256SUMS`` checks them by hand).

Takes: optional ``--check``. Returns: exit status 0 when everything matches, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# package, version, sha256 of the npm tarball, {file in the tarball: file written here}
PACKAGES: list[tuple[str, str, str, dict[str, str]]] = [
    ("leaflet", "1.9.3", "10d016716b56048661eaf9cde004dc82e80bd3613b52c4f53cf5aec73088006c", {
        "package/dist/leaflet.js": "leaflet/leaflet.js",
        "package/dist/leaflet.css": "leaflet/leaflet.css",
        "package/dist/images/layers.png": "leaflet/images/layers.png",
        "package/dist/images/layers-2x.png": "leaflet/images/layers-2x.png",
        "package/dist/images/marker-icon.png": "leaflet/images/marker-icon.png",
        "package/dist/images/marker-icon-2x.png": "leaflet/images/marker-icon-2x.png",
        "package/dist/images/marker-shadow.png": "leaflet/images/marker-shadow.png",
        "package/LICENSE": "leaflet/LICENSE",
    }),
    ("jquery", "3.7.1", "68a9f787516da47c680e09c187bcbac4536b6f85d90eb882844e12919e583f53", {
        "package/dist/jquery.min.js": "jquery/jquery.min.js",
        "package/LICENSE.txt": "jquery/LICENSE.txt",
    }),
    # the map's drawing tools (the List settings page's exclusion zones); the tarball has no
    # licence file, its package.json says MIT (kept, with leaflet-draw/LICENSE.md written here)
    ("leaflet-draw", "1.0.4", "b3ec161a931ad88b3f008283b824ceac5af98b5ec603877f294834d1edcc3aa6", {
        "package/dist/leaflet.draw.js": "leaflet-draw/leaflet.draw.js",
        "package/dist/leaflet.draw.css": "leaflet-draw/leaflet.draw.css",
        "package/dist/images/spritesheet.png": "leaflet-draw/images/spritesheet.png",
        "package/dist/images/spritesheet-2x.png": "leaflet-draw/images/spritesheet-2x.png",
        "package/dist/images/spritesheet.svg": "leaflet-draw/images/spritesheet.svg",
        "package/package.json": "leaflet-draw/package.json",
    }),
]

# Files written here by hand, not taken from a tarball (listed in SHA256SUMS all the same).
HAND_WRITTEN = ["leaflet-draw/LICENSE.md"]

# References a vendored file may contain although they are never fetched (see rtm/webmap.py).
NOT_FETCHED = {"http://www.w3.org/2000/svg", "https://leafletjs.com",
               # Leaflet.draw's banner comment and an error message's text
               "http://leafletjs.com", "https://github.com/Leaflet/Leaflet.draw", "https://github.com/Leaflet/Leaflet/"}


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def fetch(name: str, version: str, workdir: Path) -> Path:
    """Run ``npm pack name@version`` in ``workdir``; return the tarball's path."""
    out = subprocess.run(["npm", "pack", f"{name}@{version}", "--silent"], cwd=workdir, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return workdir / out


def audit(path: str, data: bytes) -> list[str]:
    """Problems that would make a vendored text file reach outside: outside URLs it contains."""
    if not path.endswith((".js", ".css")):
        return []
    text = data.decode("utf-8")
    if path.endswith(".css"):
        text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)  # comments are never fetched
    found = set(re.findall(r"https?://[^\s\"'<>()\\`]+", text)) - NOT_FETCHED
    if path.endswith(".css"):
        # every url(...) in a stylesheet is a request; only the bundled images may be named
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", text):
            if not (ref.startswith("images/") or ref.startswith("#")):
                found.add(ref)
    return sorted(found)


def build(check: bool) -> int:
    """Fetch every package and write (or, with ``check``, compare) the files; return an exit code."""
    sums: dict[str, str] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, version, want, files in PACKAGES:
            tarball = fetch(name, version, Path(tmp))
            got = sha256(tarball.read_bytes())
            print(f"{name}@{version}: tarball sha256 {got}")
            if want and got != want:
                problems.append(f"{name}@{version}: tarball sha256 {got}, expected {want}")
                continue
            with tarfile.open(tarball) as tar:
                for member, dest in files.items():
                    data = tar.extractfile(member).read()
                    sums[dest] = sha256(data)
                    problems += [f"{dest}: outside reference {u}" for u in audit(dest, data)]
                    target = HERE / dest
                    if check:
                        if not target.is_file() or target.read_bytes() != data:
                            problems.append(f"{dest}: differs from {name}@{version}")
                    else:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(data)
    for dest in HAND_WRITTEN:
        sums[dest] = sha256((HERE / dest).read_bytes())
    lines = "".join(f"{digest}  {path}\n" for path, digest in sorted(sums.items()))
    if check:
        if (HERE / "SHA256SUMS").read_text() != lines:
            problems.append("SHA256SUMS differs")
    elif not problems:
        (HERE / "SHA256SUMS").write_text(lines)
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: parse ``--check`` and run :func:`build`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    if shutil.which("npm") is None:
        print("npm is not on the PATH", file=sys.stderr)
        return 1
    return build(parser.parse_args(argv).check)


if __name__ == "__main__":
    sys.exit(main())
