import json

import pytest

from videomodels import analyze, with_input_size
from videomodels.importers import ImportError_, import_assemblenet, import_evanet, import_tvn
from videomodels.presets.__init__ import PUBLISHED


def test_custom_assemblenet_structure_imports_and_builds():
    # An over-connected two-stream graph that is not a published one, no weights (learnable).
    structure = [[-1, 1], [-2, 1], [0, [0, 1], 16, 2, 1, 0], [0, [0], 16, 1, 1, 0],
                 [1, [0, 1, 2, 3], 32, 4, 2, 0], [2, [2, 4], 32, 1, 2, 0], [3, [3, 4, 5], 64, 2, 2, 0]]
    spec = import_assemblenet({"structure": structure}, depth=26, frames=4, size=64, num_classes=9, flow="input")
    assert {s.id for s in spec.inputs} == {"rgb", "flow"}
    incoming = spec.incoming("n6")
    assert [e.source for e in incoming] == ["n3", "n4", "n5"]
    assert all(e.learnable and e.weight is None for e in incoming)
    analysis = analyze(spec)
    assert analysis.output_shape == (9,)
    assert analysis.nodes["n6"].output_shape[0] == 256


def test_assemblenet_weights_are_frozen_and_in_order():
    config = json.loads((PUBLISHED / "assemblenet_50.json").read_text())
    spec = import_assemblenet(config)
    weights = [e.weight for e in spec.incoming("n9")]
    assert weights == pytest.approx([0.028569, 0.103336, 0.751726, 0.926011], abs=1e-5)
    assert not any(e.learnable for e in spec.incoming("n9"))
    learnable = import_assemblenet(config, learnable_weights=True)
    assert all(e.learnable for e in learnable.incoming("n9"))


def test_assemblenet_stem_width_is_shared_over_stems():
    config = json.loads((PUBLISHED / "assemblenet_plus.json").read_text())
    spec = import_assemblenet(config)
    widths = {n.attrs["filters"] for n in spec.nodes if n.type == "asn_stem"}
    assert widths == {25}  # 128 // 5 stems


@pytest.mark.parametrize("structure,message", [
    ([[0, [1], 32, 1, 1, 0]], "no stem"),
    ([[-1, 1], [0, [3], 32, 1, 1, 0], [3, [1], 32, 1, 1, 0]], "must be an earlier node"),
    ([[-7, 1], [3, [0], 32, 1, 1, 0]], "unknown stem type"),
    ([[-1, 1], [5, [0], 32, 1, 1, 0]], "level must be 0-3"),
    ([[-1, 1], [0, [0], 32, 1, 1, 0]], "no level-3 node"),
])
def test_assemblenet_bad_structures_name_the_entry(structure, message):
    with pytest.raises(ImportError_) as info:
        import_assemblenet({"structure": structure})
    assert message in str(info.value) and "structure" in str(info.value)


def test_assemblenet_weight_count_mismatch():
    structure = [[-1, 1], [-1, 2], [3, [0, 1], 8, 1, 1, 0]]
    with pytest.raises(ImportError_, match=r"weights\[2\]: expected 2 edge weights"):
        import_assemblenet({"structure": structure, "weights": [[], [], [[0.5]]]})


def test_assemblenet_dead_nodes_are_dropped_with_a_note():
    structure = [[-1, 1], [0, [0], 8, 1, 1, 0], [1, [0], 8, 1, 2, 0], [3, [1], 8, 1, 2, 0]]
    spec = import_assemblenet({"structure": structure}, depth=26, frames=2, size=32)
    assert "n2" not in {n.id for n in spec.nodes}
    assert "n2" in spec.meta["import_notes"][0]
    analyze(spec)


def test_tvn_import_of_an_unpublished_config():
    config = {"meta": {"num_frames": 4, "image_size": 48, "frame_stride": 2}, "blocks": [
        {"spatial_type": "avgpool", "spatial_kernel": 2, "spatial_stride": 2, "temporal_type": "1d", "temporal_kernel": 3,
         "temporal_stride": 2, "filters": 8, "expand": 2, "squeeze": 0.1, "context_gate": 1, "skip": 1, "repeats": 3, "non_local": 0},
    ]}
    spec = import_tvn(config, num_classes=3)
    assert spec.inputs[0].frames == 4 and spec.inputs[0].frame_stride == 2
    assert analyze(spec).nodes["b0"].output_shape == (16, 2, 24, 24)


def test_tvn_unknown_field_is_named():
    config = {"meta": {"num_frames": 2, "image_size": 32}, "blocks": [{"filters": 8, "wings": 2}]}
    with pytest.raises(ImportError_, match=r"blocks\[0\]\.wings"):
        import_tvn(config)


def test_tvn_mobile_streams_map_block_inputs():
    config = json.loads((PUBLISHED / "tvn_mobile_1.json").read_text())
    spec = import_tvn(config)
    assert [(e.source, e.target) for e in spec.edges] == [("rgb", "b0"), ("b0", "b1"), ("b1", "head")]
    assert spec.node("b1").attrs["inv_bottleneck"] == 1


def test_evanet_accepts_enum_numbers_and_names():
    dna = {"stem": {"convop1": 1, "time1": 5, "max_pool1_time": 3},
           "blocks": [{"total_filters": 64, "repeats": 3, "layers": [{"layer_type": 2, "conv_type": "TGM", "time": 3, "conv_type2": 2, "time2": 5},
                                                                       {"layer_type": "SINGLE_DEFAULT"}]},
                      {"total_filters": 128, "repeats": 1, "layers": [{"layer_type": "MAXPOOLCONV", "time": 9}]}]}
    spec = import_evanet(dna, frames=8, size=64, num_classes=4)
    assert spec.node("stem").attrs == {"conv_type": "itgm", "temporal_kernel": 5}
    branch = spec.node("res2").attrs["branches"][0]
    assert (branch["kind"], branch["conv_type"], branch["conv_type2"]) == ("conv2", "itgm", "conv2p1")
    assert analyze(spec).output_shape == (4,)


def test_evanet_bad_layer_type_is_named():
    with pytest.raises(ImportError_, match=r"blocks\[0\]\.layers\[0\]\.layer_type"):
        import_evanet({"blocks": [{"layers": [{"layer_type": "TRANSFORMER"}]}]})


def test_published_presets_import_from_files_via_cli(tmp_path):
    from videomodels.cli import main

    out = tmp_path / "asn101.json"
    assert main(["import", str(PUBLISHED / "assemblenet_50.json"), "--from", "assemblenet", "--depth", "101", "-o", str(out)]) == 0
    from videomodels import ArchSpec
    from videomodels.presets import get_preset

    imported = ArchSpec.from_json(out.read_text())
    assert imported.content_hash() == get_preset("assemblenet-101").content_hash()


def test_small_input_override_keeps_architecture():
    spec = import_tvn(json.loads((PUBLISHED / "tvn3.json").read_text()))
    small = with_input_size(spec, frames=4, size=64)
    assert [n.to_dict() for n in small.nodes] == [n.to_dict() for n in spec.nodes]


def test_cli_can_keep_published_weights_learnable(tmp_path):
    from videomodels import ArchSpec
    from videomodels.cli import main

    out = tmp_path / "asn.json"
    args = ["import", str(PUBLISHED / "assemblenet_50.json"), "--from", "assemblenet", "-o", str(out)]
    assert main(args + ["--learnable-weights"]) == 0
    spec = ArchSpec.from_json(out.read_text())
    weighted = [e for e in spec.edges if e.weight is not None]
    assert weighted and all(e.learnable for e in weighted)
    assert main(args) == 0
    assert not any(e.learnable for e in ArchSpec.from_json(out.read_text()).edges if e.weight is not None)
