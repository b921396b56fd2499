"""The one exception users see: a file that cannot be used, said plainly.

Every loader raises :class:`InputError` for a problem with the user's input, never a
bare ``KeyError`` or ``ArrowInvalid``. The CLI and the app print ``str(err)`` and stop;
nothing else is shown to the user.
"""

from __future__ import annotations

import re
from pathlib import Path


class InputError(Exception):
    """A problem with an input file that stops it being used at all.

    Parameters
    ----------
    source : str or Path
        The file (or ``zip:member``) the problem is in.
    problem : str
        What is wrong, in one sentence a non-programmer can read.
    fix : str
        What the user can do about it.
    field : str, optional
        The column or setting concerned, when there is one.
    field_kind : str
        What ``field`` is called in the message: ``column`` (default) or ``key``.
    """

    def __init__(self, source, problem: str, fix: str, field: str | None = None, field_kind: str = "column"):
        self.source = str(source)
        self.problem = problem.rstrip(".")
        self.fix = fix.rstrip(".")
        self.field = field
        self.field_kind = field_kind
        super().__init__(str(self))

    def __str__(self) -> str:
        if not self.source and self.field:
            return f"{self.field_kind} '{self.field}': {self.problem}. Fix: {self.fix}."
        where = Path(self.source).name if self.source else "input"
        if self.field:
            where = f"{where}, {self.field_kind} '{self.field}'"
        return f"{where}: {self.problem}. Fix: {self.fix}."


_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])(?:/[\w.@+~-]+)+/([\w.@+~-]+)|(?<![\w])[A-Za-z]:\\(?:[^\\\s'\"]+\\)+([^\\\s'\"]+)")


def without_paths(text: str) -> str:
    """``text`` with every absolute file path (``/srv/rtm/ws/data/crime.csv``,
    ``C:\\data\\crime.csv``) cut to its last part (``crime.csv``): what a web page shows of a
    message, so the server's folders are never shown to its users. Takes and returns a str."""
    return _ABSOLUTE_PATH.sub(lambda m: m.group(1) or m.group(2), str(text))


def setting_error(name: str, problem: str, fix: str) -> InputError:
    """An :class:`InputError` about the library setting ``name`` (a parameter or settings
    field, e.g. ``cell_size``); a front end may rename the setting to its own word for it
    (the command line's ``--cell-size``) by changing ``field`` and ``field_kind``."""
    return InputError("", problem, fix, field=name, field_kind="setting")


def output_folder(path) -> Path:
    """Create ``path`` (and its parents) for output files and return it as a Path.

    Raises
    ------
    InputError
        The folder cannot be created (no permission, a file in the way, ...).
    """
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(out, f"the output folder cannot be created ({exc.strerror})",
                         "choose a folder you can write to") from None
    return out
