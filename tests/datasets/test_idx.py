import gzip
import re
import tracemalloc

import numpy as np
import pytest

from glassnet.datasets.idx import read_idx
from glassnet.errors import InvalidFileError
from tests.datasets.builders import idx_bytes


def header(code: int, dims) -> bytes:
    return code.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)


@pytest.mark.parametrize("gz", [False, True])
def test_images_and_labels_round_trip_from_a_file(tmp_path, rng, gz):
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 5, dtype=np.uint8)
    for name, array, ndim in (("img", images, 3), ("lab", labels, 1)):
        data = idx_bytes(array)
        path = tmp_path / name
        path.write_bytes(gzip.compress(data) if gz else data)
        out = read_idx(path, ndim=ndim)
        assert out.dtype == np.uint8 and out.flags.writeable
        np.testing.assert_array_equal(out, array)


def test_bytes_are_read_and_gzip_is_detected_from_the_content(rng):
    array = rng.integers(0, 256, (2, 3, 4), dtype=np.uint8)
    np.testing.assert_array_equal(read_idx(idx_bytes(array)), array)
    np.testing.assert_array_equal(read_idx(gzip.compress(idx_bytes(array))), array)


def test_the_magic_number_fixes_the_rank(tmp_path):
    path = tmp_path / "labels-as-images"
    path.write_bytes(idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(InvalidFileError, match=re.escape(str(path)) + ".*0x00000803"):
        read_idx(path, ndim=3)


def test_a_foreign_file_is_refused_by_its_magic_number(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"GARBAGE! this is not an IDX file")
    with pytest.raises(InvalidFileError, match="magic number"):
        read_idx(path)


def test_a_dtype_other_than_unsigned_byte_is_refused():
    data = header(0x00000D01, [2]) + b"\x00" * 8  # 0x0D: float32
    with pytest.raises(InvalidFileError, match="dtype code 0x08.*0x0d"):
        read_idx(data, ndim=1)


@pytest.mark.parametrize("length", [0, 3])
def test_a_file_shorter_than_the_magic_number_is_refused(length):
    with pytest.raises(InvalidFileError, match="truncated"):
        read_idx(b"\x00\x00\x08\x03"[:length], name="short.idx")


def test_a_header_cut_inside_the_dimensions_is_refused():
    with pytest.raises(InvalidFileError, match="short.idx.*truncated"):
        read_idx(header(0x803, [5, 28, 28])[:10], name="short.idx")


@pytest.mark.parametrize("gz", [False, True])
def test_missing_data_is_refused_as_truncated(gz):
    data = idx_bytes(np.ones((3, 28, 28), dtype=np.uint8))[:-1]
    with pytest.raises(InvalidFileError, match="truncated"):
        read_idx(gzip.compress(data) if gz else data)


@pytest.mark.parametrize("gz", [False, True])
def test_trailing_bytes_are_refused_as_a_wrong_size(gz):
    data = idx_bytes(np.ones(4, dtype=np.uint8)) + b"\x00"
    with pytest.raises(InvalidFileError, match="trailing"):
        read_idx(gzip.compress(data) if gz else data)


def test_gzip_garbage_is_refused():
    with pytest.raises(InvalidFileError, match="corrupt gzip"):
        read_idx(b"\x1f\x8b\x08\x00" + b"not deflate at all" * 4, name="junk.gz")


def test_a_cut_gzip_stream_is_refused():
    data = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    with pytest.raises(InvalidFileError, match="cut.gz"):
        read_idx(data[: len(data) // 2], name="cut.gz")


@pytest.mark.parametrize("gz", [False, True])
def test_forged_huge_dimensions_are_refused_before_any_allocation(gz):
    # 4e9 images of 28x28 would need 3 TB; the file holds a few bytes.
    data = header(0x803, [4_000_000_000, 28, 28]) + b"\x00" * 64
    data = gzip.compress(data) if gz else data
    tracemalloc.start()
    try:
        with pytest.raises(InvalidFileError, match="header forged"):
            read_idx(data, name="forged")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_a_gzip_stream_shorter_than_its_header_declares_is_refused():
    # 20 x 28 x 28 bytes fit the compression-ratio bound; only 10 bytes follow.
    data = gzip.compress(header(0x803, [20, 28, 28]) + b"\x01" * 10)
    with pytest.raises(InvalidFileError, match="15680 bytes.*received 10 bytes"):
        read_idx(data)


@pytest.mark.parametrize("gz", [False, True])
def test_dimensions_of_2_31_by_2_31_are_refused_before_any_allocation(gz):
    # 2**62 bytes (4 EiB) declared; the product is compared with the bytes present.
    data = header(0x802, [2**31, 2**31]) + b"\x00" * 64
    data = gzip.compress(data) if gz else data
    tracemalloc.start()
    try:
        with pytest.raises(InvalidFileError, match="header forged"):
            read_idx(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


def test_a_directory_is_refused_as_not_a_regular_file(tmp_path):
    with pytest.raises(InvalidFileError, match="regular file; received a directory"):
        read_idx(tmp_path)


@pytest.mark.parametrize("gz", [False, True])
def test_a_zero_dimension_beside_huge_ones_is_refused(gz):
    # Found by fuzz/fuzz_loaders.py: 0 bytes of data, but a shape of 2**64 items
    # that numpy cannot index (it raised a bare ValueError from reshape).
    data = header(0x803, [0, 2**32 - 1, 2**32 - 1])
    data = gzip.compress(data) if gz else data
    with pytest.raises(InvalidFileError, match="header forged"):
        read_idx(data)
