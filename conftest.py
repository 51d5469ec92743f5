"""Fixtures for every test pytest collects here: the tests and the doctests."""

import pytest


@pytest.fixture(autouse=True)
def _seeded():
    """Every test and doctest starts from the same random state (glassnet's
    unseeded generators, NumPy's and Python's), so a run is repeatable: a layer
    built without seed= draws the same weights in every run of the suite; and
    with fresh automatic names, as Keras' TestCase.setUp (dense, dense_1...)."""
    from glassnet.utils import clear_session, set_random_seed

    set_random_seed(1234)
    clear_session()
