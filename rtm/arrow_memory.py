"""Which allocator Arrow uses for the loader's buffers.

pyarrow's default allocator on Linux is mimalloc. Loading police.uk files allocates and
frees hundreds of megabytes of parsed text; with jemalloc (bundled in pyarrow's Linux and
macOS wheels) freed memory is reused sooner, so the load needs less fresh memory from the
kernel: on the 2-core benchmark VM about 0.1 GB less peak memory and 10-20% less time
(docs/benchmarks.md, "Loading against pyarrow.csv"). Fresh memory is what costs there:
each megabyte the kernel has not handed out recently takes milliseconds to fault in.
"""

from __future__ import annotations

import os

import pyarrow as pa

#: the environment variable pyarrow reads for its default allocator; when a user has set it,
#: their choice stands
POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


def use_jemalloc() -> None:
    """Make jemalloc Arrow's allocator for new buffers, unless ``ARROW_DEFAULT_MEMORY_POOL``
    is set or this pyarrow has no jemalloc (Windows wheels).

    Cheap and idempotent (a pointer swap); buffers already allocated keep their allocator.
    """
    if not os.environ.get(POOL_ENV):
        try:
            pa.set_memory_pool(pa.jemalloc_memory_pool())
        except (NotImplementedError, pa.ArrowNotImplementedError):
            pass
