"""The allocator setting the quality command makes (glibc's mallopt)."""

import ctypes
import platform

import pytest

from smecluster.allocator import M_MMAP_THRESHOLD, keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds():
    assert keep_freed_memory() is True
    # a parameter glibc does not know is refused: the True above is glibc's answer, not a constant
    assert ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD - 1000, 1) == 0
