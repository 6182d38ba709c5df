import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# The first example of a new dtype combination compiles a numba kernel (seconds).
settings.register_profile(
    "imconv", deadline=None, max_examples=60, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("imconv")


@pytest.fixture(scope="session")
def photos():
    """scikit-image's real photographs: name -> uint8 RGB or grey array."""
    from skimage import data

    return {"camera": data.camera(), "astronaut": data.astronaut(), "coffee": data.coffee()}


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)
