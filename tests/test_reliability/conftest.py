"""Hypothesis profiles of the fuzz tests (``test_fuzz_inputs.py``).

``ci`` (default): derandomized (the same examples on every run and machine)
with the per-test example budgets written in the tests, no example
database. ``long``: random examples, 50 times the budgets, for a long local
run::

    HYPOTHESIS_PROFILE=long pytest tests/test_reliability/test_fuzz_inputs.py
"""
import os

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the fuzz tests skip themselves without hypothesis
    settings = None

#: Example budgets in the tests are multiplied by this.
BUDGET_SCALE = {'ci': 1, 'long': 50}

if settings is not None:
    common = dict(
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow,
                               HealthCheck.data_too_large])
    settings.register_profile('ci', derandomize=True, **common)
    settings.register_profile('long', derandomize=False, **common)
    settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))
