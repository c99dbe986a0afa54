"""The allocator setting the quality command makes (glibc's mallopt)."""

import platform

import pytest

from smecluster import allocator


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_the_thresholds():
    assert allocator.keep_freed_memory() is True


def test_without_glibc_nothing_is_set(monkeypatch):
    def no_libc(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(allocator.ctypes, "CDLL", no_libc)
    assert allocator.keep_freed_memory() is False
