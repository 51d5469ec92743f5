import pytest

from glassnet._internal import memory as _memory
from glassnet.errors import InsufficientMemoryError


def test_available_memory_is_a_positive_byte_count_here():
    available = _memory.available_memory()
    assert available is None or available > 0


def test_without_psutil_it_reads_memavailable(tmp_path, monkeypatch):
    import builtins

    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  2048 kB\nMemAvailable:   1024 kB\n")
    real_import = builtins.__import__

    def no_psutil(name, *args, **kwargs):
        if name == "psutil":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_psutil)
    monkeypatch.setattr(_memory, "_MEMINFO", str(meminfo))
    assert _memory.available_memory() == 1024 * 1024
    monkeypatch.setattr(_memory, "_MEMINFO", str(tmp_path / "absent"))
    assert _memory.available_memory() is None


def test_check_memory_names_both_sizes():
    with pytest.raises(InsufficientMemoryError) as info:
        _memory.check_memory("thing", 3 * 2**30, "shape (3,)", available=2**30)
    assert str(info.value) == (
        "thing: expected a size that fits in the 1.0 GiB (1,073,741,824 bytes) of "
        "memory available; received shape (3,), which needs 3.0 GiB "
        "(3,221,225,472 bytes)"
    )
    assert isinstance(info.value, MemoryError) and isinstance(info.value, ValueError)


def test_check_memory_passes_what_fits_and_skips_when_unknown(monkeypatch):
    _memory.check_memory("thing", 10, "x", available=10)
    monkeypatch.setattr(_memory, "available_memory", lambda: None)
    _memory.check_memory("thing", 10**30, "x")


@pytest.mark.parametrize(
    ("n", "text"), [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (2**40, "1.0 TiB")]
)
def test_format_bytes(n, text):
    assert _memory.format_bytes(n) == text
