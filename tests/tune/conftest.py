import pytest

from glassnet.tune import DaskExecutor, preset_data


@pytest.fixture(scope="package")
def cluster():
    """One real LocalCluster of 2 single-threaded worker processes for the package.

    A trial whose worker dies is retried once (the scheduler's allowed-failures).
    """
    pytest.importorskip("distributed")
    with DaskExecutor(workers=2, retries=1) as ex:
        yield ex


@pytest.fixture(scope="package")
def digits():
    """The digits training images, as ``preset_data("digits-mlp")`` gives them."""
    pytest.importorskip("sklearn")
    return preset_data("digits-mlp")
