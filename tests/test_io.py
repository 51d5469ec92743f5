import io
import os
import zipfile

import numpy as np
import pytest

from glassnet._internal.io import (
    atomic_write,
    atomic_write_bytes,
    open_regular,
    read_npz,
    read_regular_file,
)
from glassnet.errors import InvalidFileError


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"old")
    atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_a_failing_write_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"good")

    def crash(f):
        f.write(b"half")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(path, crash)
    assert path.read_bytes() == b"good"
    assert os.listdir(tmp_path) == ["f.bin"]


# -- reading: regular files only --


def test_read_regular_file_returns_the_whole_content(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"\x00abc" * 1000)
    assert read_regular_file(path, "data") == b"\x00abc" * 1000
    with open_regular(path) as f:
        assert f.read(4) == b"\x00abc"


def test_a_directory_is_refused_naming_the_label(tmp_path):
    with pytest.raises(InvalidFileError, match="^weights: expected a regular file; "):
        read_regular_file(tmp_path, "weights")
    with pytest.raises(InvalidFileError, match="received a directory"):
        open_regular(tmp_path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InvalidFileError, match="received a FIFO"):
        read_regular_file(fifo)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_device_is_refused():
    with pytest.raises(InvalidFileError, match="character device"):
        read_regular_file("/dev/zero", "zero")


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        open_regular(tmp_path / "nope")


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_the_loaders_share_the_regular_file_check(tmp_path, kind):
    from glassnet.datasets.cifar_format import read_cifar_binary, read_cifar_python
    from glassnet.datasets.idx import read_idx
    from glassnet.saving.container import read_file

    path = tmp_path
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):
            pytest.skip("needs POSIX FIFOs")
        path = tmp_path / "fifo"
        os.mkfifo(path)
    loaders = (read_file, read_idx, read_cifar_binary, read_cifar_python)
    for load in (*loaders, read_npz_labelled, read_cifar_archive):
        with pytest.raises(InvalidFileError, match="regular file; received a"):
            load(str(path))


# -- reading: .npz archives --


def read_npz_labelled(path):
    return read_npz(path, "archive")


def read_cifar_archive(path):
    from pathlib import Path

    from glassnet.datasets.cifar10 import _read_archive

    return _read_archive(Path(path))


def test_read_npz_returns_writable_native_c_arrays(tmp_path, rng):
    arrays = {
        "a": rng.standard_normal((3, 4)).astype(np.float32),
        "f": np.asfortranarray(rng.standard_normal((2, 5))),
        "big": np.arange(6, dtype=">i4"),
        "s": np.float64(2.5),
        "empty": np.zeros((0, 3), np.uint8),
    }
    for save in (np.savez, np.savez_compressed):
        save(tmp_path / "x.npz", **arrays)
        loaded = read_npz(tmp_path / "x.npz", "x")
        assert loaded.keys() == arrays.keys()
        for k, a in loaded.items():
            assert np.array_equal(a, arrays[k]) and a.shape == np.shape(arrays[k])
            assert a.flags.writeable and a.flags.c_contiguous and a.dtype.isnative


def _archive(path, **members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def _npy(array=None, **header):
    f = io.BytesIO()
    if array is not None:
        np.save(f, array, allow_pickle=True)
    else:
        np.lib.format.write_array_header_1_0(f, header)
    return f.getvalue()


@pytest.mark.parametrize(
    "members, match",
    [
        # 2**40 float64 declared, 16 bytes present: refused before allocating.
        ({"w.npy": _npy(descr="<f8", fortran_order=False, shape=(2**40,)) + bytes(16)},
         f"expected {8 * 2**40} bytes of data .*; received 16$"),
        ({"w.npy": _npy(descr="<f8", fortran_order=False, shape=(3,)) + bytes(16)},
         r"expected 24 bytes of data for its shape \(3,\).*; received 16$"),
        ({"w.npy": _npy(np.array([{}], dtype=object))}, "numeric dtype"),
        ({"w.npy": _npy(np.array(["abc"]))}, "numeric dtype"),
        ({"w.npy": _npy(np.zeros(2, "i4,f8"))}, "numeric dtype"),
        ({"w.txt": b"hello"}, "<name>.npy"),
        ({"w.npy": b"\x93NUMPY\x03\x00"}, "version 1.0 or 2.0"),
        ({"w.npy": b"not an npy file"}, "unreadable"),
    ],
)  # fmt: skip
def test_a_forged_npz_member_is_refused(tmp_path, members, match):
    _archive(tmp_path / "x.npz", **members)
    with pytest.raises(InvalidFileError, match=match):
        read_npz(tmp_path / "x.npz", "x")


def test_a_file_that_is_no_zip_archive_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(3))
    with pytest.raises(InvalidFileError, match="^x: expected an .npz archive"):
        read_npz(tmp_path / "x.npy", "x")


# -- atomic writes: links, permissions and failures --


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_saving_through_a_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    real_dir = tmp_path / "store"
    real_dir.mkdir()
    target = real_dir / "model.h5"
    target.write_bytes(b"old")
    link = tmp_path / "latest.h5"
    link.symlink_to(target)
    atomic_write_bytes(link, b"new")
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new"
    # The temporary file lived beside the target and is gone.
    assert os.listdir(real_dir) == ["model.h5"]
    assert sorted(os.listdir(tmp_path)) == ["latest.h5", "store"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_symlink_loop_is_refused_and_stays_a_link(tmp_path):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OSError, match=r"a\.h5'.*\(a loop\); nothing was written"):
        atomic_write_bytes(a, b"data")
    assert a.is_symlink() and b.is_symlink()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.bin"
    link.symlink_to(tmp_path / "made.bin")
    atomic_write_bytes(link, b"data")
    assert link.is_symlink() and (tmp_path / "made.bin").read_bytes() == b"data"


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_replaced_file_keeps_its_permission_bits(tmp_path):
    path = tmp_path / "shared.bin"
    path.write_bytes(b"old")
    path.chmod(0o644)
    atomic_write_bytes(path, b"new")
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_write_error_names_the_target_not_the_temporary_file(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write_bytes(path, b"good")

    def broken(f):
        raise OSError(5, "Input/output error", f.name)

    with pytest.raises(OSError) as info:
        atomic_write(path, broken)
    message = str(info.value)
    assert info.value.errno == 5 and ".tmp-" not in message
    assert message == (
        f"could not save {str(path)!r}: failed to write the new contents "
        "(Input/output error); the earlier file at that path is intact"
    )
    assert path.read_bytes() == b"good" and os.listdir(tmp_path) == ["f.bin"]


def test_a_missing_directory_is_file_not_found_naming_the_target(tmp_path):
    path = tmp_path / "no" / "f.bin"
    with pytest.raises(FileNotFoundError) as info:
        atomic_write_bytes(path, b"x")
    message = str(info.value)
    assert message.startswith(f"could not save {str(path)!r}: failed to create")
    assert message.endswith("nothing was written at that path")
    assert "\n" not in message


def test_a_directory_in_the_way_is_reported_as_the_rename_that_failed(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(IsADirectoryError, match="failed to rename the new file over"):
        atomic_write_bytes(tmp_path / "d", b"x")
    assert os.listdir(tmp_path) == ["d"]


# -- reading: .npy files --


def test_read_npy_returns_the_array(tmp_path):
    from glassnet._internal.io import read_npy

    a = np.arange(12, dtype=">i2").reshape(3, 4)
    np.save(tmp_path / "a.npy", a)
    out = read_npy(tmp_path / "a.npy", "a.npy")
    assert np.array_equal(out, a) and out.dtype.isnative and out.flags.writeable


def test_a_npy_header_claiming_more_than_the_file_holds_is_refused_at_once(tmp_path):
    from glassnet._internal.io import read_npy

    header = _npy(descr="<f8", fortran_order=False, shape=(10**11, 8, 8))
    path = tmp_path / "forged.npy"
    path.write_bytes(header + b"\x00")
    assert path.stat().st_size == 129  # the file: 128-byte header + 1
    match = r"^forged\.npy: expected 51200000000000 bytes .*; received 1$"
    with pytest.raises(InvalidFileError, match=match):
        read_npy(path, "forged.npy")


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "unreadable file"),
        (b"\x93NUMPY\x01\x00\x10\x00{'descr'", "unreadable file"),
        (_npy(np.array([{}], dtype=object)), "numeric dtype"),
    ],
    ids=["empty", "cut-header", "pickled"],
)
def test_a_broken_or_pickled_npy_is_refused_naming_the_file(tmp_path, data, match):
    from glassnet._internal.io import read_npy

    path = tmp_path / "x.npy"
    path.write_bytes(data)
    with pytest.raises(InvalidFileError, match=match) as info:
        read_npy(path, "x.npy")
    assert str(info.value).startswith("x.npy: ") and "\n" not in str(info.value)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_new_file_gets_the_umask_permissions_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "new.bin", b"x")
    finally:
        os.umask(old)
    assert (tmp_path / "new.bin").stat().st_mode & 0o777 == 0o644
