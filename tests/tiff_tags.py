"""Reading a TIFF tag the way a viewer sees it, for tests of the GeoTIFF writer."""

from __future__ import annotations

import struct

#: TIFF PhotometricInterpretation values.
MINISBLACK, RGB = 1, 2


def photometric(path) -> int | None:
    """PhotometricInterpretation (tag 262) of the first image of a classic (not Big) TIFF."""
    with open(path, "rb") as f:
        head = f.read(8)
        order = "<" if head[:2] == b"II" else ">"
        magic, ifd = struct.unpack(order + "HI", head[2:8])
        assert magic == 42, "not a classic TIFF"
        f.seek(ifd)
        (count,) = struct.unpack(order + "H", f.read(2))
        for _ in range(count):
            tag, _type, _n, value = struct.unpack(order + "HHI4s", f.read(12))
            if tag == 262:
                return struct.unpack(order + "H", value[:2])[0]
    return None
