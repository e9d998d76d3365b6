"""The validator never raises anything but SpecError, whatever JSON it is given."""
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videomodels import Budget, SpecError, validate

TINY_TVN = json.loads(Path(__file__).with_name("tiny_tvn.json").read_text())

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**7, 10**7) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
SMALL = Budget(max_params=2_000_000, max_macs=200_000_000)


def check(data):
    try:
        validate(data, budget=SMALL)
    except SpecError as error:
        assert error.problems, "a SpecError must carry at least one problem"
        for problem in error.problems:
            assert problem.location and problem.message


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_arbitrary_json_only_raises_spec_error(data):
    check(data)


paths = st.sampled_from([
    ("nodes", 0, "attrs", "filters"), ("nodes", 0, "attrs", "spatial_kernel"), ("nodes", 1, "attrs", "temporal_stride"),
    ("nodes", 1, "attrs", "squeeze"), ("nodes", 1, "type"), ("nodes", 0, "id"), ("edges", 0, "source"),
    ("edges", 1, "target"), ("edges", 2, "weight"), ("inputs", 0, "frames"), ("inputs", 0, "size"),
    ("inputs", 0, "channels"), ("family",), ("nodes", 2, "attrs", "num_classes"), ("nodes", 1, "attrs", "repeats"),
])


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 150)), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(paths, json_values | st.integers(0, 40)), min_size=1, max_size=4))
def test_mutated_valid_spec_only_raises_spec_error(changes):
    data = json.loads(json.dumps(TINY_TVN))
    for path, value in changes:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    check(data)
