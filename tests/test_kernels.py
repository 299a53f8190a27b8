"""The greedy searches' shared kernels: the tie tolerance, the first best gain, the sum of logs."""

import numpy as np
import pytest

from blender import metrics
from blender.kernels import TOLERANCE, first_best, improves, sum_logs


@pytest.mark.parametrize("width", [1, 2, 3, 15, 16, 17, 31, 33, 1000])
def test_sum_logs_equals_a_plain_sum_of_logs(width):
    rng = np.random.default_rng(width)
    probabilities = np.clip(rng.random((3, width)) ** 8, metrics.EPSILON, 1 - metrics.EPSILON)
    probabilities[0, :] = metrics.EPSILON  # the smallest products must not underflow
    expected = np.log(probabilities).sum(axis=1)
    np.testing.assert_allclose(sum_logs(probabilities.copy()), expected, rtol=1e-13)


def test_ties_within_rounding_go_to_the_first():
    assert first_best(np.array([0.5, 0.5 + TOLERANCE / 10, np.nan, 0.1])) == 0
    assert first_best(np.array([0.5, 0.5 + 1e-6])) == 1
    assert not improves(1.0 + TOLERANCE / 2, 1.0) and improves(1.0 + 1e-9, 1.0)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 31, 33, 1000, 1003])
def test_sum_logs_over_the_range_caruana_uses(n):
    rng = np.random.default_rng(n)
    values = rng.uniform(1e-15, 3.0, (3, n))
    values[0, :] = rng.choice([1e-15, 1e-12, 50.0], n)  # the extremes of the range it is used for
    np.testing.assert_allclose(sum_logs(values.copy()), np.log(values).sum(axis=1), rtol=1e-14, atol=0)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 31, 33, 1000, 1003, 4099])
def test_sum_logs_of_float32_is_that_of_its_float64_copy_and_leaves_it(n):
    rng = np.random.default_rng(n)
    values = rng.uniform(1e-7, 1.0, (3, n)).astype(np.float32)
    values[0, :] = rng.choice(np.array([1e-7, 1e-6, 1.0 - 2.0**-24], dtype=np.float32), n)
    before = values.copy()
    np.testing.assert_array_equal(sum_logs(values), sum_logs(values.astype(np.float64)))
    np.testing.assert_array_equal(values, before)


def test_sum_logs_in_array_api_strict_equals_numpy():
    import array_api_strict as xps

    from blender.kernels import sum_logs

    values = np.random.default_rng(0).uniform(1e-3, 1.0, (3, 1000))
    strict = sum_logs(xps.asarray(values), xp=xps)
    assert type(strict).__module__.startswith("array_api_strict")
    np.testing.assert_allclose(np.from_dlpack(strict), np.log(values).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(sum_logs(values.copy()), np.log(values).sum(axis=1), rtol=1e-12)
