"""Fast 64-bit hashes of text columns, for finding repeated ids among millions of rows.

A hash only nominates candidates: callers confirm a repeat by comparing the text itself,
so a collision can never reject a row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .textcols import one_chunk

_PRIMES = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                    0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                   dtype=np.uint64)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads every input bit over the output."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def hash_text(arr: pa.Array) -> np.ndarray:
    """uint64 hash of each string of an Arrow string array (nulls and blanks hash alike).

    Notes
    -----
    When all non-empty values have one length (police.uk crime ids are 64 hex characters)
    the bytes are gathered into a fixed-width matrix and mixed with numpy: about 0.1 s per
    million ids. Other columns are dictionary-encoded and their distinct values hashed with
    ``pandas.util.hash_array`` (cheap for few distinct values, ~0.5 s per million unique).
    """
    arr = one_chunk(arr)
    if isinstance(arr, pa.DictionaryArray):
        hd = np.append(hash_text(arr.dictionary), np.uint64(0))
        return hd[pc.fill_null(arr.indices, len(hd) - 1).to_numpy(zero_copy_only=False)]
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    n = len(arr)
    if n == 0:
        return np.zeros(0, np.uint64)
    offsets = np.frombuffer(arr.buffers()[1], np.int32, n + 1, arr.offset * 4)
    lens = np.diff(offsets)
    valid = lens > 0
    if arr.null_count:
        valid &= np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    width = np.unique(lens[valid])
    if width.size == 1 and arr.buffers()[2] is not None:
        # blanks and nulls take no bytes, so the non-empty values lie back to back in the
        # data buffer: an (n_valid, width) byte matrix without any gather
        width = int(width[0])
        data = np.frombuffer(arr.buffers()[2], np.uint8)[offsets[0]:offsets[-1]]
        if data.size == width * int(valid.sum()):
            words = (width + 7) // 8
            if width % 8 == 0:
                mat = data.reshape(-1, width).view(np.uint64)
            else:
                block = np.zeros((int(valid.sum()), words * 8), np.uint8)
                block[:, :width] = data.reshape(-1, width)
                mat = block.view(np.uint64)
            hv = np.full(mat.shape[0], np.uint64(width), dtype=np.uint64)
            with np.errstate(over="ignore"):
                for j in range(words):
                    hv = _mix(hv ^ (mat[:, j] * _PRIMES[j % 8]))
            h = np.zeros(n, np.uint64)
            h[valid] = hv
            return h
    enc = arr.dictionary_encode()
    words = np.asarray(enc.dictionary.to_numpy(zero_copy_only=False), dtype=object)
    hd = pd.util.hash_array(words, categorize=False)
    codes = enc.indices.fill_null(0).to_numpy(zero_copy_only=False)
    h = hd[codes] if hd.size else np.zeros(n, np.uint64)
    h[~valid] = 0
    return h


def repeated(keys: np.ndarray, texts_of) -> np.ndarray:
    """Mark every row whose key occurred in an earlier row, confirmed on the text.

    Parameters
    ----------
    keys : ndarray of uint64
        Hash key per row.
    texts_of : callable(indices) -> list of hashable
        Returns the exact values (for example (id, period, type) tuples) for rows.

    Returns
    -------
    ndarray of bool
        True for the second and later occurrences of an exact value.
    """
    cand = pd.Series(keys).duplicated(keep=False).to_numpy()
    out = np.zeros(len(keys), dtype=bool)
    idx = np.flatnonzero(cand)
    if idx.size:
        exact = pd.Series(texts_of(idx)).duplicated().to_numpy()
        out[idx[exact]] = True
    return out
