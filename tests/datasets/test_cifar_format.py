import builtins
import io
import os
import pickle

import numpy as np
import pytest

from glassnet.datasets.cifar_format import (
    RestrictedUnpickler,
    read_cifar_binary,
    read_cifar_python,
)
from glassnet.errors import InvalidFileError
from tests.datasets.builders import cifar_bin_bytes, cifar_py2_pickle, cifar_records


class CallOnLoad:
    """Pickles as a call of ``func(*args)``, which a plain unpickler would run."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def batch_pickle(data, labels, protocol=4) -> bytes:
    return pickle.dumps({b"data": data, b"labels": labels}, protocol=protocol)


def test_binary_records_split_into_label_and_channel_major_pixels(rng):
    x, y = cifar_records(rng, 4)
    got_x, got_y = read_cifar_binary(cifar_bin_bytes(x, y))
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)
    assert got_x.dtype == got_y.dtype == np.uint8


@pytest.mark.parametrize("length", [0, 3072, 3073 * 2 + 1])
def test_binary_files_of_partial_records_are_refused(length):
    with pytest.raises(InvalidFileError, match="multiple of 3073"):
        read_cifar_binary(b"\x00" * length, name="batch.bin")


def test_binary_labels_above_nine_are_refused(rng):
    x, _ = cifar_records(rng, 2)
    with pytest.raises(InvalidFileError, match="label 200"):
        read_cifar_binary(cifar_bin_bytes(x, np.array([1, 200], dtype=np.uint8)))


def test_the_official_python_2_layout_loads(rng, tmp_path):
    x, y = cifar_records(rng, 5)
    path = tmp_path / "data_batch_1"
    path.write_bytes(cifar_py2_pickle(x, y))
    got_x, got_y = read_cifar_python(path)
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)


def test_a_python_3_pickle_of_the_same_dict_loads(rng):
    x, y = cifar_records(rng, 3)
    got_x, got_y = read_cifar_python(batch_pickle(x, [int(v) for v in y]))
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)


def test_the_restricted_unpickler_passes_plain_containers():
    data = {b"a": [1, 2.5, "s", b"b", (None, True)]}
    assert RestrictedUnpickler(io.BytesIO(pickle.dumps(data))).load() == data


def test_the_marker_payload_is_live_under_a_plain_unpickler(tmp_path):
    marker = tmp_path / "pwned"
    pickle.loads(pickle.dumps(CallOnLoad(os.system, f"touch {marker}")))
    assert marker.exists()  # so the refusals below are meaningful


@pytest.mark.parametrize(
    "make",
    [
        lambda m: CallOnLoad(os.system, f"touch {m}"),
        lambda m: CallOnLoad(builtins.eval, f"open({str(m)!r}, 'w').close()"),
        lambda m: CallOnLoad(builtins.exec, f"open({str(m)!r}, 'w').close()"),
        lambda m: CallOnLoad(np.save, str(m), np.zeros(1)),
    ],
    ids=["os.system", "eval", "exec", "numpy.save"],
)
def test_a_pickle_naming_any_other_global_is_refused_unexecuted(tmp_path, make):
    marker = tmp_path / "pwned"
    payload = batch_pickle(make(marker), [0])
    with pytest.raises(InvalidFileError, match="forbidden"):
        read_cifar_python(payload)
    assert not marker.exists() and not (tmp_path / "pwned.npy").exists()


def test_an_oversized_reconstruct_placeholder_is_refused():
    # _reconstruct(ndarray, (10**12,), b'b') would try to allocate a terabyte.
    payload = (
        b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
        b"\x8a\x06\x00\x10\xa5\xd4\xe8\x00\x85C\x01b\x87R."
    )
    with pytest.raises(InvalidFileError, match="placeholder"):
        read_cifar_python(payload)


def test_the_pickle_cannot_call_ndarray_itself():
    # NEWOBJ on numpy.ndarray with shape (10**9,).
    payload = b"\x80\x02cnumpy\nndarray\nJ\x00\xca\x9a;\x85\x81."
    with pytest.raises(InvalidFileError):
        read_cifar_python(payload)


def test_object_arrays_are_refused():
    with pytest.raises(InvalidFileError, match="object"):
        read_cifar_python(batch_pickle(np.array([1, None], dtype=object), [0]))


def test_keys_other_than_data_and_labels_are_refused(rng):
    payload = pickle.dumps({b"images": cifar_records(rng, 1)[0], b"labels": [0]})
    with pytest.raises(InvalidFileError, match="b'data' and b'labels'"):
        read_cifar_python(payload)


@pytest.mark.parametrize(
    "data",
    [np.zeros((2, 3072), dtype=np.float32), np.zeros((2, 3071), dtype=np.uint8), b"x"],
    ids=["float32", "short rows", "bytes"],
)
def test_data_must_be_uint8_rows_of_3072(data):
    with pytest.raises(InvalidFileError, match=r"uint8 array of shape \(N, 3072\)"):
        read_cifar_python(batch_pickle(data, [0, 1]))


@pytest.mark.parametrize("labels", [[0, 10], [0, -1], [0, 1.0], (0, 1)])
def test_labels_must_be_a_list_of_ints_from_0_to_9(labels):
    with pytest.raises(InvalidFileError, match="b'labels'"):
        read_cifar_python(batch_pickle(np.zeros((2, 3072), dtype=np.uint8), labels))


def test_one_label_per_image_is_required():
    payload = batch_pickle(np.zeros((2, 3072), dtype=np.uint8), [0, 1, 2])
    with pytest.raises(InvalidFileError, match="expected 2 labels.*received 3"):
        read_cifar_python(payload)


def test_a_truncated_pickle_is_refused_with_the_file_name(rng, tmp_path):
    x, y = cifar_records(rng, 2)
    path = tmp_path / "data_batch_1"
    path.write_bytes(cifar_py2_pickle(x, y)[:-100])
    with pytest.raises(InvalidFileError, match="data_batch_1"):
        read_cifar_python(path)


def test_a_huge_memo_index_is_refused_before_the_unpickler_sizes_its_memo():
    # LONG_BINPUT 2**31: the C unpickler would allocate a 32 GiB memo table.
    payload = b"\x80\x02}r" + (2**31).to_bytes(4, "little") + b"."
    with pytest.raises(InvalidFileError, match="memo index 2147483648"):
        read_cifar_python(payload)


def test_a_counted_string_longer_than_the_file_is_refused_before_allocating():
    payload = b"\x80\x04\x8e" + (2**40).to_bytes(8, "little") + b"abc."
    with pytest.raises(InvalidFileError, match="bytes8"):
        read_cifar_python(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b"\x80\x02cnumpy\nndarray\n)\x81.",  # NEWOBJ
        b"\x80\x02\x82\x01.",  # EXT1
        b"\x80\x02X\x01\x00\x00\x00aQ.",  # BINPERSID
    ],
    ids=["NEWOBJ", "EXT1", "BINPERSID"],
)
def test_opcodes_that_reach_classes_or_registries_are_refused(payload):
    with pytest.raises(InvalidFileError, match="opcode"):
        read_cifar_python(payload)


class ForgedDtype:
    """A structured dtype whose state sets numpy's 'holds objects' flags."""

    def __reduce__(self):
        fields = {"a": (np.dtype("u8"), 0)}
        return np.dtype, ("V8", False, True), (3, "|", None, ("a",), fields, 8, 1, 27)


def test_a_dtype_state_cannot_turn_an_array_into_an_object_array():
    # Unrestricted, this BUILD makes numpy believe the dtype holds objects.
    payload = pickle.dumps({b"data": ForgedDtype(), b"labels": []}, protocol=4)
    with pytest.raises(InvalidFileError, match="only plain numeric dtypes"):
        read_cifar_python(payload)


def test_an_array_state_must_hold_exactly_its_bytes():
    x = np.zeros((2, 3072), dtype=np.uint8)
    payload = batch_pickle(x, [0, 1]).replace(b"\x00" * 6144, b"\x00" * 6143, 1)
    with pytest.raises(InvalidFileError):
        read_cifar_python(payload)


def test_protocol_5_pickles_and_label_arrays_load(rng):
    x, y = cifar_records(rng, 3)
    got_x, got_y = read_cifar_python(batch_pickle(x, y.astype(np.int64), protocol=5))
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)
