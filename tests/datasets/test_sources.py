import hashlib
from pathlib import Path

import pytest

from glassnet.datasets._sources import (
    RemoteFile,
    cache_root,
    fetch,
    locate,
    search_dirs,
)
from glassnet.errors import DatasetNotFoundError, InvalidFileError
from tests.datasets.builders import closed_port_url, serve_directory

PAYLOAD = b"glassnet test payload\n" * 50


def remote_for(data: bytes, name="file.gz") -> RemoteFile:
    return RemoteFile(name, len(data), hashlib.sha256(data).hexdigest())


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "file.gz").write_bytes(PAYLOAD)
    with serve_directory(root) as url:
        yield url


def test_the_cache_is_under_home_unless_xdg_cache_home_is_set(tmp_path, monkeypatch):
    assert cache_root() == tmp_path / "home" / ".cache" / "glassnet"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "glassnet"


def test_places_come_in_order_env_cache_then_system(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "data"))
    dirs = [d for _, d in search_dirs("mnist", None, ["/usr/share/x"])]
    assert dirs == [
        tmp_path / "data" / "mnist",
        cache_root() / "mnist",
        Path("/usr/share/x"),
    ]


def test_an_explicit_path_is_the_only_place():
    assert search_dirs("mnist", "/some/dir", ["/usr/share/x"]) == [
        ("path=", Path("/some/dir"))
    ]


def test_locate_returns_the_first_place_that_matches(tmp_path, monkeypatch):
    monkeypatch.setenv("GLASSNET_DATA", str(tmp_path / "data"))
    for d in (tmp_path / "data" / "ds", cache_root() / "ds", tmp_path / "sys"):
        d.mkdir(parents=True)
    assert locate("ds", lambda d: d, path=None, wanted="x") == tmp_path / "data" / "ds"
    found = locate(
        "ds",
        lambda d: d if d == tmp_path / "sys" else None,
        path=None,
        system_dirs=[str(tmp_path / "sys")],
        wanted="x",
    )
    assert found == tmp_path / "sys"


def test_an_explicit_path_without_the_files_never_downloads(tmp_path):
    def download(cache):
        raise AssertionError("must not download")

    with pytest.raises(DatasetNotFoundError, match="path=") as info:
        locate("ds", lambda d: None, path=tmp_path, wanted="x", download=download)
    assert str(tmp_path) in str(info.value)


def test_the_download_is_verified_and_cached(tmp_path, served):
    remote = remote_for(PAYLOAD)
    target = fetch(remote, [served], tmp_path / "cache")
    assert target == tmp_path / "cache" / "file.gz"
    assert target.read_bytes() == PAYLOAD


def test_mirrors_are_tried_in_turn(tmp_path, served):
    mirrors = [closed_port_url(), served + "missing/", served]
    target = fetch(remote_for(PAYLOAD), mirrors, tmp_path / "cache")
    assert target.read_bytes() == PAYLOAD


def test_a_checksum_mismatch_raises_and_leaves_nothing_in_the_cache(tmp_path, served):
    remote = RemoteFile("file.gz", len(PAYLOAD), "0" * 64)
    with pytest.raises(InvalidFileError, match="SHA-256"):
        fetch(remote, [served], tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_response_longer_than_the_known_size_is_refused(tmp_path, served):
    remote = RemoteFile(
        "file.gz", len(PAYLOAD) - 1, hashlib.sha256(PAYLOAD).hexdigest()
    )
    with pytest.raises(InvalidFileError, match="bytes; received more"):
        fetch(remote, [served], tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_no_server_gives_a_not_found_error_naming_the_url(tmp_path):
    dead = closed_port_url()
    with pytest.raises(DatasetNotFoundError, match=dead) as info:
        fetch(remote_for(PAYLOAD), [dead], tmp_path / "cache")
    assert isinstance(info.value, FileNotFoundError)
    assert not (tmp_path / "cache").exists()


def test_the_not_found_message_lists_places_failures_and_hints(tmp_path):
    def download(cache):
        fetch(remote_for(PAYLOAD), [closed_port_url()], cache)

    with pytest.raises(DatasetNotFoundError) as info:
        locate(
            "ds",
            lambda d: None,
            path=None,
            system_dirs=[str(tmp_path / "sys")],
            wanted="the files",
            download=download,
            hints=["apt-get install something"],
        )
    message = str(info.value)
    for part in (
        "ds: could not find the files",
        "$GLASSNET_DATA/ds (not set)",
        str(cache_root() / "ds"),
        str(tmp_path / "sys"),
        "Download failed",
        "127.0.0.1",
        "apt-get install something",
    ):
        assert part in message
