import pytest
import torch

from videomodels import analyze, build_model, with_input_size
from videomodels.presets import PRESETS, PUBLISHED_NAMES, get_preset, preset_names
from videomodels.profile import example_inputs

pytestmark = pytest.mark.slow  # every preset forward and backward, on each device: one of the longest files

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def test_every_published_network_is_a_preset():
    assert {"baseline-2d", "baseline-r2plus1d", "baseline-r3d", "tvn-small", "assemblenet-small"} <= set(preset_names())
    assert set(PUBLISHED_NAMES) == {
        "evanet-1", "evanet-1-flow", "evanet-2", "evanet-2-flow",
        "assemblenet-50", "assemblenet-101", "assemblenet-plus",
        "tvn-1", "tvn-2", "tvn-3", "tvn-4", "tvn-mobile-1", "tvn-mobile-2",
    }


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", preset_names())
def test_preset_runs_forward_and_backward_at_small_input(name, device):
    torch.manual_seed(0)
    spec = with_input_size(get_preset(name), frames=4, size=64)
    model = build_model(spec, num_classes=7, device=device)
    inputs = example_inputs(spec, batch=2, device=device)
    logits = model(inputs)
    assert logits.shape == (2, 7)
    assert torch.isfinite(logits).all()
    logits.logsumexp(dim=1).sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_meta_analysis_matches_real_parameter_count():
    spec = with_input_size(get_preset("tvn-mobile-2"), size=64)
    analysis = analyze(spec, num_classes=11)
    model = build_model(spec, num_classes=11)
    assert analysis.params == sum(p.numel() for p in model.parameters())


def test_flow_and_rgb_evanet_differ_only_in_the_stem():
    rgb, flow = analyze(get_preset("evanet-1")), analyze(get_preset("evanet-1-flow"))
    assert 0 < rgb.params - flow.params < 100  # seed: "differ by fewer than 100 parameters"
    assert all(rgb.nodes[k].params == flow.nodes[k].params for k in rgb.nodes if k != "stem")


def test_evanet_branch_widths_use_floor_division():
    analysis = analyze(get_preset("evanet-2"))
    channels = {node_id: cost.output_shape[0] for node_id, cost in analysis.nodes.items()}
    assert (channels["res2"], channels["res3"], channels["res4"]) == (255, 510, 1023)


def test_evanet_feature_map_sizes_match_the_seed():
    analysis = analyze(get_preset("evanet-1"))
    # Net temporal stride 4 and spatial stride 32: 32x224 -> 8x56 at res2 ... 7x7 at res5.
    assert analysis.nodes["res2"].output_shape[1:] == (8, 56, 56)
    assert analysis.nodes["res3"].output_shape[2:] == (28, 28)
    assert analysis.nodes["res5"].output_shape[2:] == (7, 7)


def test_assemblenet_node_sizes_match_the_seed_table():
    analysis = analyze(get_preset("assemblenet-50"))
    assert analysis.nodes["n0"].output_shape == (32, 32, 56, 56)
    assert analysis.nodes["n8"].output_shape == (256, 32, 28, 28)
    assert analysis.nodes["n12"].output_shape == (1024, 32, 14, 14)
    assert analysis.nodes["n14"].output_shape == (2048, 32, 7, 7)


def test_assemblenet_101_is_the_same_graph_deeper():
    a50, a101 = get_preset("assemblenet-50"), get_preset("assemblenet-101")
    assert [e.to_dict() for e in a50.edges] == [e.to_dict() for e in a101.edges]
    levels = {n.id: n.attrs.get("num_modules") for n in a101.nodes if n.type == "asn_block"}
    assert levels["n12"] == 23 and levels["n4"] == 3
    assert analyze(a101).params > analyze(a50).params


def test_assemblenet_plus_takes_a_segmentation_stream():
    spec = get_preset("assemblenet-plus")
    modalities = {stream.modality: stream.channels for stream in spec.inputs}
    assert modalities == {"rgb": 3, "segmentation": 151}


def test_tvn_frames_follow_temporal_strides():
    analysis = analyze(get_preset("tvn-1"))
    # TVN-1: 2 frames, block 1 temporal max-pool stride 2 -> 1 frame; 224 -> 112 -> 56 -> 19 -> 10.
    assert analysis.nodes["b0"].output_shape[1:] == (1, 112, 112)
    assert analysis.nodes["b3"].output_shape == (2048, 1, 10, 10)


def test_frozen_published_edge_weights_are_not_trained():
    model = build_model(with_input_size(get_preset("assemblenet-50"), frames=2, size=32), num_classes=3)
    fusion = model.fusions["n6"]
    assert fusion.learned_logits.numel() == 0
    assert fusion.edge_weights() == pytest.approx([0.1381, 0.8465, 0.3073, 0.2867], abs=1e-4)


def test_preset_doc_and_family_are_recorded():
    for name, preset in PRESETS.items():
        spec = get_preset(name)
        assert spec.family == preset.family and spec.meta["preset"] == name


def test_single_frame_baseline_cannot_see_motion():
    spec = get_preset("baseline-2d")
    assert spec.inputs[0].frames == 1
    kernels = [b["temporal_kernel"] for n in spec.nodes if n.type == "evanet_block" for b in n.attrs["branches"]]
    assert kernels and set(kernels) == {1}
