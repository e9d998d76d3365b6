import json

import pytest

from videomodels import ArchSpec, SpecError
from videomodels.presets import get_preset, preset_names


@pytest.mark.parametrize("name", preset_names())
def test_presets_round_trip_through_json_unchanged(name):
    spec = get_preset(name)
    text = spec.to_json()
    again = ArchSpec.from_json(text)
    assert again.to_json() == text
    assert again.content_hash() == spec.content_hash()


def test_hash_ignores_name_and_meta_but_not_architecture(tiny_tvn):
    spec = ArchSpec.from_dict(tiny_tvn)
    renamed = ArchSpec.from_dict({**tiny_tvn, "name": "other", "meta": {"note": "x"}})
    assert renamed.content_hash() == spec.content_hash()
    tiny_tvn["nodes"][0]["attrs"]["filters"] = 9
    assert ArchSpec.from_dict(tiny_tvn).content_hash() != spec.content_hash()


def test_hash_is_stable_across_key_order(tiny_tvn):
    reordered = json.loads(json.dumps(tiny_tvn, sort_keys=True))
    assert ArchSpec.from_dict(reordered).content_hash() == ArchSpec.from_dict(tiny_tvn).content_hash()


def test_distinct_presets_have_distinct_hashes():
    hashes = {get_preset(name).content_hash() for name in preset_names()}
    assert len(hashes) == len(preset_names())


def test_invalid_json_text_is_a_spec_error():
    with pytest.raises(SpecError) as info:
        ArchSpec.from_json("{not json")
    assert "not valid JSON" in str(info.value)
