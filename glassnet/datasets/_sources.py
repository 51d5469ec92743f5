"""Where dataset files are looked for, and how missing ones are downloaded.

The places, in order:

1. an explicit ``path=`` directory (then nothing else is tried);
2. ``$GLASSNET_DATA/<dataset>``;
3. the user cache, ``$XDG_CACHE_HOME/glassnet/<dataset>`` (``~/.cache/glassnet/...``);
4. system-wide directories such as Debian's ``/usr/share/datasets/fashion-mnist``.

When none holds the files, they are downloaded into the user cache from each
mirror in turn, checked against their known size and SHA-256 and written
atomically, so an interrupted or corrupted download never leaves a file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from glassnet._internal.io import atomic_write
from glassnet.errors import DatasetNotFoundError, InvalidFileError

ENV_VAR = "GLASSNET_DATA"
TIMEOUT = 30.0
_CHUNK = 1 << 20

T = TypeVar("T")


@dataclass(frozen=True)
class RemoteFile:
    """A file to download: its name on the mirrors, size in bytes and SHA-256."""

    name: str
    size: int
    sha256: str


def cache_root() -> Path:
    """The user cache of glassnet: ``$XDG_CACHE_HOME/glassnet`` or ``~/.cache/...``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "glassnet"


def search_dirs(
    dataset: str, path: str | os.PathLike[str] | None, system_dirs: Sequence[str]
) -> list[tuple[str, Path | None]]:
    """The places to look in, in order, as (description, directory) pairs.

    A place that does not apply (``GLASSNET_DATA`` unset) has directory ``None``.
    """
    if path is not None:
        return [("path=", Path(path))]
    env = os.environ.get(ENV_VAR)
    places: list[tuple[str, Path | None]] = [
        (f"${ENV_VAR}/{dataset}", Path(env) / dataset if env else None),
        ("user cache", cache_root() / dataset),
    ]
    places += [("system-wide", Path(d)) for d in system_dirs]
    return places


def locate(
    dataset: str,
    match: Callable[[Path], T | None],
    *,
    path: str | os.PathLike[str] | None,
    system_dirs: Sequence[str] = (),
    wanted: str,
    download: Callable[[Path], None] | None = None,
    hints: Sequence[str] = (),
) -> T:
    """Find a dataset's files, downloading them into the cache as a last resort.

    Args:
        dataset: the dataset's directory name, e.g. ``"mnist"``.
        match: returns what it found in a directory, or ``None``.
        path: the explicit directory, which disables every other place.
        system_dirs: system-wide directories to try after the cache.
            Defaults to `()`.
        wanted: the files looked for, in words, for the error message.
        download: fills the given cache directory. Defaults to `None`.
        hints: other ways to get the files, for the error message.
            Defaults to `()`.

    Raises:
        DatasetNotFoundError: when no place has the files and no download worked.
        InvalidFileError: when every mirror served a file with the wrong checksum.
    """
    looked: list[str] = []
    for what, directory in search_dirs(dataset, path, system_dirs):
        if directory is None:
            looked.append(f"{what} (not set)")
            continue
        if directory.is_dir():
            found = match(directory)
            if found is not None:
                return found
            looked.append(f"{directory} ({what}: files missing)")
        else:
            looked.append(f"{directory} ({what}: no such directory)")
    failures: list[str] = []
    if path is None and download is not None:
        cache = cache_root() / dataset
        try:
            download(cache)
        except DatasetNotFoundError as e:
            failures.append(str(e))
        else:
            found = match(cache)
            if found is not None:
                return found
            failures.append(f"the download did not produce the files in {cache}")
    raise DatasetNotFoundError(
        _not_found_message(dataset, wanted, looked, failures, hints)
    )


def _not_found_message(
    dataset: str,
    wanted: str,
    looked: list[str],
    failures: list[str],
    hints: Sequence[str],
) -> str:
    lines = [f"{dataset}: could not find {wanted}.", "Looked in:"]
    lines += [f"  - {place}" for place in looked]
    if failures:
        lines.append("Download failed:")
        lines += [f"  - {line}" for f in failures for line in f.splitlines()]
    lines.append("To get the files:")
    lines += [f"  - {hint}" for hint in hints]
    lines.append(
        f"  - or put them in ${ENV_VAR}/{dataset}, or in a directory passed as path="
    )
    return "\n".join(lines)


def fetch(remote: RemoteFile, mirrors: Sequence[str], directory: Path) -> Path:
    """Download ``remote`` into ``directory`` from the first mirror that works.

    Returns:
        The path of the verified file.

    Raises:
        InvalidFileError: when every reachable mirror served a wrong file.
        DatasetNotFoundError: when no mirror could be reached.
    """
    target = directory / remote.name
    errors: list[str] = []
    corrupt: list[str] = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + remote.name
        try:
            _download(url, remote, target)
            return target
        except InvalidFileError as e:
            corrupt.append(str(e))
        except (OSError, urllib.error.URLError, http.client.HTTPException) as e:
            errors.append(f"{url}: {getattr(e, 'reason', None) or e}")
    if corrupt:
        raise InvalidFileError("\n".join(corrupt + errors))
    raise DatasetNotFoundError("\n".join(errors) or "no mirror is configured")


def _download(url: str, remote: RemoteFile, target: Path) -> None:
    with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
        # Created only once a mirror answers, so failures leave no empty cache.
        target.parent.mkdir(parents=True, exist_ok=True)

        def write(f: IO[bytes]) -> None:
            digest = hashlib.sha256()
            received = 0
            with _progress(remote.size, remote.name) as bar:
                while chunk := response.read(_CHUNK):
                    received += len(chunk)
                    if received > remote.size:
                        break
                    digest.update(chunk)
                    f.write(chunk)
                    bar.update(len(chunk))
            if received != remote.size:
                raise InvalidFileError(
                    f"{url}: expected {remote.size} bytes; received "
                    f"{'more' if received > remote.size else received}"
                )
            if digest.hexdigest() != remote.sha256:
                raise InvalidFileError(
                    f"{url}: expected SHA-256 {remote.sha256}; received "
                    f"{digest.hexdigest()} (corrupted or tampered download, deleted)"
                )

        # The temporary file is renamed into place only after both checks pass.
        atomic_write(target, write)


@contextlib.contextmanager
def _progress(total: int, desc: str) -> Iterator[Any]:
    try:
        from tqdm.auto import tqdm  # type: ignore[import-untyped]
    except ImportError:
        yield _NoBar()
        return
    # disable=None turns the bar off when stderr is not a terminal.
    with tqdm(total=total, desc=desc, unit="B", unit_scale=True, disable=None) as bar:
        yield bar


class _NoBar:
    def update(self, n: int) -> None:
        """Ignore progress when tqdm is not installed."""


def find_first(directory: Path, candidates: Sequence[str]) -> Path | None:
    """The first of the candidate file names that exists in ``directory``."""
    for name in candidates:
        if (directory / name).is_file():
            return directory / name
    return None


__all__ = [
    "ENV_VAR",
    "RemoteFile",
    "cache_root",
    "fetch",
    "find_first",
    "locate",
    "search_dirs",
]
