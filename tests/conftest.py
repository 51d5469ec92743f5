import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("default", max_examples=25, deadline=None)
settings.load_profile("default")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same random state (glassnet's unseeded
    generators, NumPy's and Python's), so a run is repeatable: a layer built
    without seed= draws the same weights in every run of the suite; and with
    fresh automatic names."""
    from glassnet.utils import clear_session, set_random_seed

    set_random_seed(1234)
    # As Keras' TestCase.setUp: automatic names start again (dense, dense_1...).
    clear_session()
