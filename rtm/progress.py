"""The one shape of progress callback the library calls: ``progress(done, total, what)``.

``done`` steps of ``total`` are finished and ``what`` says, in a few words, what comes
next (a file being read, a model step, a period being scored). Front ends turn these calls
into a bar (the command line) or a status line (the app).
"""

from __future__ import annotations

from typing import Callable

Progress = Callable[[int, int, str], None]


def stages(progress: Progress | None, total: int) -> Callable[[str], None]:
    """A ``say(what)`` that reports the next of ``total`` steps to ``progress`` (a no-op
    when ``progress`` is None): the first call reports ``(0, total, what)``."""
    count = [0]

    def say(what: str) -> None:
        if progress is not None:
            progress(count[0], total, what)
        count[0] += 1

    return say
