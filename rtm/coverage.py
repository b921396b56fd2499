"""Does a layer file cover the data? Used to offer only the attractor layers whose features lie
near the study area (a Chicago layer is not offered for Southend)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path



@lru_cache(maxsize=256)
def _file_box(path: str, mtime_ns: int) -> tuple | None:
    """(west, south, east, north) of a vector file's features in degrees, or None when unknown."""
    import pyogrio
    from pyproj import CRS, Transformer

    try:
        info = pyogrio.read_info(path, force_total_bounds=True)
    except Exception:  # noqa: BLE001 - an unreadable file is reported when it is loaded
        return None
    box, crs = info.get("total_bounds"), info.get("crs")
    if box is None or crs is None:
        return None
    t = Transformer.from_crs(CRS.from_user_input(crs), "EPSG:4326", always_xy=True)
    w, s, e, n = t.transform_bounds(*box)
    return (w, s, e, n)


def file_covers(path, areas_frame, margin_deg: float = 0.01) -> bool:
    """True when the features of the vector file ``path`` come within ``margin_deg`` degrees
    (about a kilometre) of the box of ``areas_frame`` (any CRS), or when that cannot be told
    (no CRS, unreadable: the loader says what is wrong when the layer is used).

    Reads only the file's header and extent (cached per file version).
    """
    p = Path(path)
    try:
        box = _file_box(str(p.resolve()), p.stat().st_mtime_ns)
    except OSError:
        return True
    if box is None or areas_frame is None or areas_frame.crs is None:
        return True
    w, s, e, n = areas_frame.to_crs("EPSG:4326").total_bounds
    return not (box[2] < w - margin_deg or box[0] > e + margin_deg or box[3] < s - margin_deg
                or box[1] > n + margin_deg)


__all__ = ["file_covers"]
