import pytest

from glassnet.datasets import _sources, cifar10, fashion_mnist, mnist
from tests.datasets.builders import closed_port_url


@pytest.fixture(autouse=True)
def isolated_data_places(tmp_path, monkeypatch):
    """Keep every dataset test off the user's cache, GLASSNET_DATA, the system-wide
    copies and the network: the home is a fresh directory and every mirror is a
    closed local port."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("GLASSNET_DATA", raising=False)
    monkeypatch.setattr(_sources, "TIMEOUT", 5.0)
    dead = closed_port_url()
    for module in (mnist, fashion_mnist, cifar10):
        monkeypatch.setattr(module, "MIRRORS", [dead])
        monkeypatch.setattr(module, "SYSTEM_DIRS", [])
