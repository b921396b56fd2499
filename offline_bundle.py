"""The offline bundle behind ``python3 run.py bundle DIR`` and ``run.py ... --from DIR`` (stdlib and pip only).

A bundle is a folder: ``wheels/`` (one wheel per pin of requirements.lock that applies to
the target), the project's source as a zip, the lock, ``TARGET`` (the Python version and
system it is for), ``README.txt`` and ``SHA256SUMS``.
"""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SKIP_IN_SOURCE = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis", "runs", "build", "dist"}
PIP = ["-m", "pip", "--disable-pip-version-check"]


class BundleError(Exception):
    """Making or checking a bundle failed; the message says what happened and what to do."""


@dataclass(frozen=True)
class Target:
    """The Python version and system a bundle is for (``pip_platform`` None: this machine's)."""

    python: str  # "3.11"
    sys_platform: str  # "linux", "win32", "darwin"
    machine: str  # platform.machine().lower(): "x86_64", "amd64", "arm64", "aarch64"
    pip_platform: str | None = None
    full: str | None = None  # "3.11.7" when known (this machine); lock markers may split on it

    def __str__(self) -> str:
        return f"Python {self.python} on {self.sys_platform} {self.machine}"

    def markers(self) -> dict[str, str]:
        """The environment markers pip would see on the target (``packaging``'s names)."""
        system = {"win32": "Windows", "darwin": "Darwin"}.get(self.sys_platform, "Linux")
        full = self.full or self.python + ".0"
        return {"python_version": self.python, "python_full_version": full,
                "sys_platform": self.sys_platform, "platform_system": system,
                "os_name": "nt" if self.sys_platform == "win32" else "posix",
                "platform_machine": {"amd64": "AMD64", "x86": "x86"}.get(self.machine, self.machine),
                "implementation_name": "cpython", "platform_python_implementation": "CPython",
                "platform_release": "", "platform_version": "", "implementation_version": full}


def this_machine() -> Target:
    return Target(f"{sys.version_info.major}.{sys.version_info.minor}", sys.platform, platform.machine().lower(),
                  full=platform.python_version())


def target_for(pip_platform: str | None, python: str | None) -> Target:
    """The target of ``--platform TAG`` (a wheel platform tag) and ``--python-version X.Y``."""
    here = this_machine()
    python = python or here.python
    if not re.fullmatch(r"3\.\d+", python):
        raise BundleError(f"--python-version {python!r}: give major.minor, e.g. 3.11.")
    if pip_platform is None:
        if python == here.python:
            return here
        return Target(python, here.sys_platform, here.machine, _native_tag())
    windows = {"win_amd64": "amd64", "win32": "x86", "win_arm64": "arm64"}
    if pip_platform in windows:
        return Target(python, "win32", windows[pip_platform], pip_platform)
    m = re.fullmatch(r"(?:many|musl)linux_\d+_\d+_(x86_64|aarch64)|manylinux2014_(x86_64|aarch64)", pip_platform)
    if m:
        return Target(python, "linux", m.group(1) or m.group(2), pip_platform)
    m = re.fullmatch(r"macosx_\d+_\d+_(x86_64|arm64)", pip_platform)
    if m:
        return Target(python, "darwin", m.group(1), pip_platform)
    raise BundleError(f"--platform {pip_platform!r} is not a wheel platform tag this knows: use win_amd64, "
                      "manylinux_2_28_x86_64, manylinux_2_28_aarch64, macosx_11_0_arm64 or macosx_10_13_x86_64.")


def _native_tag() -> str:
    if sys.platform == "win32":
        return "win_amd64" if platform.machine().lower() == "amd64" else "win32"
    if sys.platform == "darwin":
        return f"macosx_11_0_{platform.machine().lower()}"
    return f"manylinux_2_28_{platform.machine().lower()}"


def pins_for(lock_text: str, target: Target) -> list[str]:
    """The lock's requirement lines that apply to ``target``, each ``name==version --hash=...``
    with its marker evaluated and dropped (for ``pip download --no-deps``).

    When the target's patch version is unknown (a bundle for another machine), a pin counts
    if its marker holds for any patch release of the minor version: the lock may split on
    ``python_full_version`` (e.g. one version below 3.11.5, another from it), and the pip
    that installs the bundle chooses by its own interpreter, so both wheels travel."""
    from pip._vendor.packaging.markers import Marker  # pip's own marker logic (pip is always there)

    envs = [target.markers()] if target.full else \
        [{**target.markers(), "python_full_version": f"{target.python}.{patch}",
          "implementation_version": f"{target.python}.{patch}"} for patch in range(0, 30)]
    lines = []
    for block in re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock_text):
        head = re.match(r"([A-Za-z0-9_.-]+==\S+)(?: ; (.*?))? \\$", block.splitlines()[0])
        if not head:
            continue
        if head.group(2) and not any(Marker(head.group(2)).evaluate(env) for env in envs):
            continue
        hashes = re.findall(r"--hash=sha256:[0-9a-f]{64}", block)
        lines.append(" ".join([head.group(1), *hashes]))
    return lines


def source_files(root: Path) -> list[Path]:
    """The project's files: those git tracks, or (outside a git checkout) every file but caches."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
        files = [root / name for name in out.decode().split("\0") if name]
        return [f for f in files if f.is_file()]
    except (OSError, subprocess.CalledProcessError):
        return [p for p in sorted(root.rglob("*")) if p.is_file()
                and not SKIP_IN_SOURCE.intersection(p.relative_to(root).parts)
                and not any(part.endswith(".egg-info") for part in p.relative_to(root).parts)
                and p.suffix != ".pyc"]


def checksums(folder: Path) -> dict[str, str]:
    """``{relative posix path: sha256}`` of every file under ``folder`` but SHA256SUMS."""
    sums = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != "SHA256SUMS":
            sums[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums


def write_checksums(folder: Path) -> None:
    (folder / "SHA256SUMS").write_text("".join(f"{d}  {n}\n" for n, d in checksums(folder).items()))


def check_bundle(bundle: Path, lock: Path) -> None:
    """Check a bundle before installing from it: every file against SHA256SUMS, its lock file
    against ``lock``, its TARGET against this machine. Raises BundleError saying what to do."""
    listing = bundle / "SHA256SUMS"
    if not listing.is_file():
        raise BundleError(f"{bundle} is not an offline bundle: it has no SHA256SUMS. "
                          "Make one with 'python3 run.py bundle DIR' where PyPI is reachable.")
    wanted = dict(reversed(line.split("  ", 1)) for line in listing.read_text().splitlines() if line)
    actual = checksums(bundle)
    bad = sorted(name for name, digest in wanted.items() if actual.get(name) != digest)
    if bad:
        raise BundleError(f"{len(bad)} file(s) of the bundle {bundle} are missing or damaged "
                          f"(first: {bad[0]}); copy the whole bundle folder again.")
    if (bundle / "requirements.lock").read_bytes() != lock.read_bytes():
        raise BundleError(f"The bundle {bundle} was made from a different requirements.lock than this "
                          "checkout's; make a new bundle from this version of the project.")
    made_for = (bundle / "TARGET").read_text().strip()
    if made_for != str(this_machine()):
        raise BundleError(f"The bundle {bundle} was made for {made_for}, this machine is {this_machine()}; "
                          "make a bundle for this one (python3 run.py bundle DIR --platform TAG --python-version X.Y).")


def make_bundle(out: Path, root: Path, lock: Path, target: Target, steps: Callable[[str], None]) -> None:
    """Write the bundle for ``target`` into the new or empty folder ``out``.

    Downloads with ``pip download --no-deps --require-hashes --only-binary :all:`` the lock's
    pins that apply to the target (pip's cache and settings are used), so every wheel is
    checked against the lock's hashes. Costs the download (about 350 MB, seconds from a warm
    cache) and a pass over the files for the checksums."""
    if out.exists() and any(out.iterdir()):
        raise BundleError(f"{out} is not empty; give a new or empty folder for the bundle.")
    out.mkdir(parents=True, exist_ok=True)
    pins = pins_for(lock.read_text(), target)
    steps(f"Downloading {len(pins)} wheels pinned in requirements.lock for {target} into {out / 'wheels'} "
          "(pip's cache is used; pip's progress follows) ...")
    cross = []
    if target.pip_platform:
        cross = ["--platform", target.pip_platform, "--python-version", target.python, "--implementation", "cp"]
    # pip refuses two versions of one package in one call: a package the lock pins twice (a
    # split on the patch version) has its second version downloaded in a call of its own
    batches, seen = [[]], set()
    for pin in pins:
        name = pin.split("==")[0].lower()
        if name in seen:
            batches.append([pin])
        else:
            seen.add(name)
            batches[0].append(pin)
    code = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, batch in enumerate(batches):
            wanted = Path(tmp, f"requirements{i}.txt")
            wanted.write_text("\n".join(batch) + "\n")
            # a later pin of a split is for later patch releases: tell pip so (Requires-Python)
            args = [a if not (i and cross and a == target.python) else f"{target.python}.99" for a in cross]
            code = code or subprocess.call([sys.executable, *PIP, "download", "--no-deps", "--require-hashes",
                                            "--only-binary", ":all:", *args, "-r", str(wanted),
                                            "-d", str(out / "wheels")])
    if code != 0:
        raise BundleError(f"Downloading the wheels failed (exit {code}); the messages above say why "
                          "(no wheel for that system, or PyPI out of reach).")
    import tomllib  # Python 3.11+, checked by run.py

    name = "rtm-harmspots-" + tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]
    steps(f"Writing the project's source to {name}.zip ...")
    with zipfile.ZipFile(out / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for path in source_files(root):
            archive.write(path, f"{name}/{path.relative_to(root).as_posix()}")
    (out / "requirements.lock").write_bytes(lock.read_bytes())
    (out / "TARGET").write_text(f"{target}\n")
    (out / "README.txt").write_text(README.format(name=name, target=target, made=time.strftime("%Y-%m-%d %H:%M %Z")))
    steps("Writing the checksum list SHA256SUMS ...")
    write_checksums(out)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    steps(f"The bundle is ready: {out} ({size:.0f} MB). Copy the whole folder; its README.txt says what next.")


README = """Offline bundle of {name}, made {made} for {target}.

wheels/             every dependency pinned in requirements.lock, for that Python and system
{name}.zip  the project (app, library, catalogue, sample data, tests)
requirements.lock   the pinned versions and their hashes
TARGET              the Python version and system this bundle is for
SHA256SUMS          checksums of every file here (checked before installing)

On the machine without internet (same Python version and system as above):

    unzip {name}.zip        (or extract it with the file manager)
    cd {name}
    python3 run.py app --from ..    (or: python3 run.py test --from ..; on Windows: py run.py ...)

Give --from the path of this folder. Nothing is downloaded: pip runs with --no-index.
"""
