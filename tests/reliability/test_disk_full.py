"""A disk that fills up mid-save: the earlier file survives, the error is clear.

ENOSPC is injected in the writer itself: the temporary file of one destination
takes ``free`` bytes and then fails as a full disk does, so the real cleanup and
error paths of :func:`glassnet._internal.io.atomic_write` run.
"""

import errno
import os

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.cli import main

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="names open files through /proc"
)


class _FullDisk:
    """A binary file that holds ``free`` more bytes, then raises ENOSPC."""

    def __init__(self, f, free):
        self._f, self._free = f, free

    def write(self, data):
        data = memoryview(data).cast("B")
        if len(data) > self._free:
            self._f.write(data[: self._free])
            self._free = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._free -= len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()


@pytest.fixture
def disk_full(monkeypatch):
    """``disk_full(name, free)``: writes to ``name`` run out of space."""

    def fill(name, free=100):
        real = os.fdopen

        def fdopen(fd, mode="r", *args, **kwargs):
            f = real(fd, mode, *args, **kwargs)
            written = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
            if "w" in mode and written.endswith("-" + name):
                return _FullDisk(f, free)
            return f

        monkeypatch.setattr(os, "fdopen", fdopen)

    return fill


def _model(seed):
    model = models.Sequential(
        [layers.Input(shape=(4,)), layers.Dense(3, activation="softmax")], seed=seed
    )
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _no_temporaries(folder):
    return [
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.startswith(".tmp-")
    ]


@pytest.mark.parametrize("save", ["save", "save_weights"])
def test_a_full_disk_keeps_the_previous_file_byte_for_byte(tmp_path, disk_full, save):
    path = tmp_path / "m.h5"
    getattr(_model(1), save)(path)
    before = path.read_bytes()
    disk_full("m.h5", free=100)
    with pytest.raises(OSError) as info:
        getattr(_model(2), save)(path)
    assert info.value.errno == errno.ENOSPC
    assert str(info.value) == (
        f"could not save {str(path)!r}: failed to write the new contents (No space "
        "left on device); the earlier file at that path is intact"
    )
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.h5"]
    loaded = _model(3)
    loaded.load_weights(path)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(loaded.get_weights(), _model(1).get_weights(), strict=True)
    )


def test_train_on_a_full_disk_prints_one_line_naming_the_model_file(
    tmp_path, disk_full, capsys
):
    out = tmp_path / "run"
    disk_full("model.h5")
    argv = ["train", "digits-mlp", "--epochs", "1", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"glassnet: error: could not save {str(out)!r}"[:-1])
    assert "model.h5" in lines[0] and "No space left on device" in lines[0]
    assert lines[0].endswith("nothing was written at that path")
    assert not (out / "model.h5").exists()
    assert _no_temporaries(out) == []
