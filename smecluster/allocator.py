"""The C allocator's settings for a command that works through a whole registry in batches.

glibc's malloc hands a freed block over its trim threshold back to the system and serves a large request
with a fresh mmap; a command that allocates and frees the same batch-sized NumPy arrays dozens of times
then spends seconds of system time faulting in and zeroing new pages. Fixed thresholds keep freed memory
in the heap for the next batch (decision 2290). Other allocators (Polars', DuckDB's and
Arrow's jemalloc or mimalloc) are not touched.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest: a request above 32 MB still gets its own mapping
TRIM_THRESHOLD = 1 << 30  # keep up to 1 GB of freed heap for reuse


def keep_freed_memory() -> bool:
    """Ask glibc to reuse freed memory instead of returning it at once; False where there is no glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
