"""Parameter counts of the implemented networks against the published block formulas.

The expected numbers are derived here, independently of the implementation, from
the block semantics in the seed notes (shared/reference/seed_systems.md, sections
1.1 EvaNet, 2.1/2.3 AssembleNet(++), 3.1 TVN), applied to the published configs
read straight from ``videomodels/presets/published/*.json`` in their original
formats. Nothing below calls an implementation helper to compute an expectation;
the implementation is only asked for its own count (``analyze(...).params``, per
node ``analysis.nodes[id].params``, and for small networks the real
``build_model(...).parameters()``).

Counting conventions (seed + port):
- conv: cin*cout*kt*kh*kw, no bias; BN: gamma+beta = 2 per channel (running
  statistics are buffers); Linear: i*o + o; pools, ReLU, dropout: no parameters.
- classifier: one Linear(C -> num_classes).
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from videomodels.graph import analyze, build_model
from videomodels.importers import import_assemblenet, import_evanet, import_tvn
from videomodels.presets import PUBLISHED_NAMES, get_preset

NUM_CLASSES = 10
PUBLISHED = Path(__file__).resolve().parents[2] / "videomodels" / "presets" / "published"


# --------------------------------------------------------------------------- primitives

def conv(cin: int, cout: int, kt: int = 1, kh: int = 1, kw: int = 1) -> int:
    return cin * cout * kt * kh * kw


def bn(c: int) -> int:
    return 2 * c


def conv_bn(cin: int, cout: int, kt: int = 1, kh: int = 1, kw: int = 1) -> int:
    return conv(cin, cout, kt, kh, kw) + bn(cout)


def linear(i: int, o: int) -> int:
    return i * o + o


def load(name: str) -> dict:
    return json.loads((PUBLISHED / name).read_text())


# --------------------------------------------------------------------------- EvaNet (seed 1.1)

EVANET_STEM_FILTERS = 64


def _evanet_key(value) -> str:
    # "SINGLE_DEFAULT(1x1x1 conv)" -> "SINGLE_DEFAULT"; "iTGM" -> "ITGM"
    return str(value).split("(")[0].strip().upper()


def evanet_conv_op(conv_type: str, cin: int, cout: int, t: int, k: int = 3) -> int:
    """One ``conv_type`` layer [t,k,k] cin->cout, followed by its BN."""
    kind = _evanet_key(conv_type)
    if kind in ("CONV3D", "CONV3D_DEFAULT"):
        return conv_bn(cin, cout, t, k, k)
    if kind == "CONV2P1":
        # temporal first, to out/2 (+BN+ReLU), then spatial [1,k,k] to out (+BN)
        mid = cout // 2
        return conv_bn(cin, mid, t, 1, 1) + conv_bn(mid, cout, 1, k, k)
    if kind in ("ITGM", "TGM"):
        # 2D kernel k*k*Cin*Cout + per-(Cin,Cout) mixing over 4 Cauchy kernels + 4 centres + 4 widths
        return k * k * cin * cout + cin * cout * 4 + 8 + bn(cout)
    raise AssertionError(f"unknown EvaNet conv type {conv_type!r}")


def evanet_block(cin: int, block: dict) -> tuple[int, int]:
    layers = block["layers"]
    branches = len(layers)
    f = block["total_filters"] // branches
    out = branches * f
    total = 0
    for i in range(block["repeats"]):
        use_time = i % 2 == 0
        c = cin if i == 0 else out
        for layer in layers:
            kind = _evanet_key(layer.get("layer_type", "SINGLE_DEFAULT"))
            t = layer.get("time", 1) if use_time else 1
            t2 = layer.get("time2", 1) if use_time else 1
            ct = layer.get("conv_type", "CONV3D")
            ct2 = layer.get("conv_type2", "CONV3D")
            if kind == "SINGLE_DEFAULT":
                total += conv_bn(c, f)
            elif kind == "CONV":
                total += conv_bn(c, f // 2) + evanet_conv_op(ct, f // 2, f, t)
            elif kind == "CONV2":
                total += conv_bn(c, f // 4) + evanet_conv_op(ct, f // 4, f // 2, t) + evanet_conv_op(ct2, f // 2, f, t2)
            elif kind == "MAXPOOLCONV":
                total += conv_bn(c, f)  # the max-pool has no parameters; time is irrelevant here
            else:
                raise AssertionError(f"unknown EvaNet layer type {kind!r}")
        if i == 0:
            total += conv_bn(cin, out)  # projection shortcut; later repeats are identity
    return total, out


def evanet_expected(dna: dict, in_channels: int, num_classes: int) -> dict[str, int]:
    stem = dna["stem"]
    nodes = {"stem": evanet_conv_op(stem.get("convop1", "CONV3D"), in_channels, EVANET_STEM_FILTERS, stem.get("time1", 3), k=7)}
    c = EVANET_STEM_FILTERS
    for index, block in enumerate(dna["blocks"]):
        nodes[f"pool{index + 1}"] = 0
        nodes[f"res{block.get('res_block', index + 2)}"], c = evanet_block(c, block)
    nodes["head"] = linear(c, num_classes)
    return nodes


# --------------------------------------------------------------------------- AssembleNet(++) (seed 2.1, 2.3)

ASN_MODULES = {26: (2, 2, 2, 2), 38: (2, 4, 4, 2), 50: (3, 4, 6, 3), 68: (3, 4, 12, 3), 77: (3, 4, 15, 3), 101: (3, 4, 23, 3)}
ASN_MID = (64, 128, 256, 512)
OBJECT_CHANNELS = 151  # ADE-20k classes


def asn_block_group(cin: int, f: int, level: int, modules: int, dilation: int) -> int:
    mid = ASN_MID[level]
    total = 0
    for j in range(modules):
        c = cin if j == 0 else 4 * f
        first_t = 1 if j % 2 == 0 else 3  # 2D module / (2+1)D module (dilation changes no count)
        total += conv_bn(c, f, first_t, 1, 1) + conv_bn(f, mid, 1, 3, 3) + conv_bn(mid, 4 * f)
        if j == 0:
            total += conv_bn(cin, 4 * f)  # projection shortcut
    return total


def assemblenet_expected(config: dict, depth: int, peer_attention: bool, num_classes: int) -> dict[str, int]:
    structure = config["structure"]
    weights = config.get("weights") or []
    stems = [raw for raw in structure if len(raw) == 2]
    fs = 128 // len(stems)  # object stems count
    width: dict[int, int] = {}
    level: dict[int, int] = {}
    is_object: dict[int, bool] = {}
    nodes: dict[str, int] = {}
    if any(raw[0] == -2 for raw in stems):
        nodes["repflow"] = 0  # representation flow with fixed hyper-parameters: parameter-free
    for i, raw in enumerate(structure):
        if len(raw) == 2:
            kind = raw[0]
            level[i], is_object[i] = -1, kind == -3
            if kind == -1:
                nodes[f"n{i}"], width[i] = conv_bn(3, fs, 1, 7, 7) + conv_bn(fs, fs, 5, 1, 1), fs
            elif kind == -2:
                nodes[f"n{i}"], width[i] = conv_bn(2, fs, 1, 7, 7), fs  # no temporal conv
            elif kind == -3:
                nodes[f"n{i}"], width[i] = 0, OBJECT_CHANNELS  # max-pool only
            else:
                raise AssertionError(kind)
            continue
        lvl, sources, f, dilation = raw[0], raw[1], raw[2], raw[3]
        level[i], is_object[i] = lvl, False
        in_w = [width[s] for s in sources]
        total = 0
        if len(sources) >= 2:
            target = max(width[s] for s in sources if not is_object[s])
            if not (i < len(weights) and weights[i]):
                total += len(sources)  # learnable edge logits (given weights are frozen buffers)
            total += sum(conv(c, target) for c in sorted(set(in_w)) if c != target)
            if peer_attention:
                peers = [k for k in level if level[k] < lvl]
                assert peers and all(k < i for k in peers)
                cmax = max(width[k] for k in peers)
                total += sum(linear(width[k], cmax) for k in peers)
                total += sum(len(peers) + linear(cmax, c) for c in in_w)
            cin = target
        else:
            cin = in_w[0]
        total += asn_block_group(cin, f, lvl, ASN_MODULES[depth][lvl], dilation)
        nodes[f"n{i}"], width[i] = total, 4 * f
    final = [i for i in level if level[i] == 3]
    assert final and len({width[i] for i in final}) == 1
    nodes["head"] = linear(width[final[0]], num_classes)
    return nodes


# --------------------------------------------------------------------------- TVN (seed 3.1)

def tvn_block(cin: int, frames: int, b: dict) -> tuple[int, int, int]:
    F = b["filters"]
    E = max(int(F * b.get("expand", 1)), F)
    inv = bool(b.get("inv-bottle", b.get("inv_bottleneck", 0)))
    work = E if inv else F  # width of the spatial and temporal layers
    total = 0
    for r in range(b.get("repeats", 1)):
        s_kernel, s_type = b.get("spatial_kernel", 3), b.get("spatial_type", "std")
        t_kernel, t_type = b.get("temporal_kernel", 1), b.get("temporal_type", "1d")
        t_stride = b.get("temporal_stride", 1) if r == 0 else 1
        temporal_on = not (r >= 1 and r % 2 == 1)
        x_in, cur, t_in = cin, cin, frames
        if inv:
            total += conv_bn(cur, E)
            cur = E
        if s_kernel != 1:
            if s_type == "std":
                total += conv_bn(cur, work) + conv_bn(work, work, 1, s_kernel, s_kernel)
                cur = work
            elif s_type == "depth":
                total += conv_bn(cur, work) + s_kernel * s_kernel * work + bn(work)
                cur = work
            else:
                assert s_type in ("maxpool", "avgpool")
        if temporal_on and t_kernel != 1 and frames != 1:
            if t_type == "1d":
                total += conv_bn(cur, work, t_kernel, 1, 1)
                cur = work
            else:
                assert t_type in ("maxpool", "avgpool")
            frames = math.ceil(frames / t_stride)
        if not inv:
            total += conv_bn(cur, E)
            cur = E
        if b.get("squeeze", 0) > 0:
            hidden = max(int(E * b["squeeze"]), 8)
            total += linear(E, hidden) + linear(hidden, E)
        if b.get("context_gate", 0):
            total += linear(E, E)
        if inv:
            total += conv_bn(E, F)
            cur = F
        if b.get("skip", 0) and frames == t_in:
            total += conv_bn(x_in, cur)
        cin = cur
    return total, cin, frames


def tvn_expected(config: dict, num_classes: int) -> dict[str, int]:
    meta = config["meta"]
    stream = meta["input_streams"][0] if "input_streams" in meta else meta
    available = [(3, stream["num_frames"])]  # input stream, then each block's output
    nodes: dict[str, int] = {}
    for index, b in enumerate(config["blocks"]):
        source = b["inputs"][0] if "inputs" in b else len(available) - 1
        cin, frames = available[source]
        nodes[f"b{index}"], c, frames = tvn_block(cin, frames, b)
        available.append((c, frames))
    nodes["head"] = linear(available[-1][0], num_classes)
    return nodes


# --------------------------------------------------------------------------- presets

PRESET_SOURCES = {
    "evanet-1": ("evanet", "evanet_net_1.json", {"in_channels": 3}),
    "evanet-1-flow": ("evanet", "evanet_net_1.json", {"in_channels": 2}),
    "evanet-2": ("evanet", "evanet_net_2.json", {"in_channels": 3}),
    "evanet-2-flow": ("evanet", "evanet_net_2.json", {"in_channels": 2}),
    "assemblenet-50": ("assemblenet", "assemblenet_50.json", {"depth": 50, "peer_attention": False}),
    "assemblenet-101": ("assemblenet", "assemblenet_50.json", {"depth": 101, "peer_attention": False}),
    "assemblenet-plus": ("assemblenet", "assemblenet_plus.json", {"depth": 50, "peer_attention": True}),
    "tvn-1": ("tvn", "tvn1.json", {}),
    "tvn-2": ("tvn", "tvn2.json", {}),
    "tvn-3": ("tvn", "tvn3.json", {}),
    "tvn-4": ("tvn", "tvn4.json", {}),
    "tvn-mobile-1": ("tvn", "tvn_mobile_1.json", {}),
    "tvn-mobile-2": ("tvn", "tvn_mobile_2.json", {}),
}


def expected_nodes(family: str, config: dict, num_classes: int = NUM_CLASSES, **options) -> dict[str, int]:
    if family == "evanet":
        return evanet_expected(config, options["in_channels"], num_classes)
    if family == "assemblenet":
        return assemblenet_expected(config, options["depth"], options["peer_attention"], num_classes)
    if family == "tvn":
        return tvn_expected(config, num_classes)
    raise AssertionError(family)


def preset_expected(name: str) -> dict[str, int]:
    family, source, options = PRESET_SOURCES[name]
    return expected_nodes(family, load(source), **options)


_ANALYSES: dict[str, object] = {}


def preset_analysis(name: str):
    if name not in _ANALYSES:
        _ANALYSES[name] = analyze(get_preset(name), num_classes=NUM_CLASSES)
    return _ANALYSES[name]


def test_every_preset_is_covered():
    assert sorted(PUBLISHED_NAMES) == sorted(PRESET_SOURCES)


@pytest.mark.parametrize("name", sorted(PRESET_SOURCES))
def test_preset_total_params_match_published_formula(name):
    expected = sum(preset_expected(name).values())
    got = preset_analysis(name).params
    assert got == expected, f"{name}: implementation {got:,} != formula {expected:,} (diff {got - expected:+,})"


@pytest.mark.parametrize("name", sorted(PRESET_SOURCES))
def test_preset_per_node_params_match_published_formula(name):
    expected = preset_expected(name)
    got = {node_id: cost.params for node_id, cost in preset_analysis(name).nodes.items()}
    mismatches = {k: (got.get(k), expected.get(k)) for k in sorted(set(got) | set(expected)) if got.get(k) != expected.get(k)}
    assert not mismatches, f"{name}: node -> (implementation, formula): {mismatches}"


def test_preset_input_channels():
    for name, (family, _, options) in PRESET_SOURCES.items():
        if family == "evanet":
            assert [s.channels for s in get_preset(name).inputs] == [options["in_channels"]], name


def test_evanet_flow_differs_only_in_stem_temporal_conv():
    # Seed 1.3: flow versions differ by fewer than 100 parameters: the (2+1)D stem's
    # temporal conv [time1,1,1] in->32 sees 2 instead of 3 channels.
    for number in (1, 2):
        time1 = load(f"evanet_net_{number}.json")["stem"]["time1"]
        diff = preset_analysis(f"evanet-{number}").params - preset_analysis(f"evanet-{number}-flow").params
        assert diff == time1 * 32 * (3 - 2)


def test_assemblenet_101_adds_only_level2_modules():
    # Same graph; 101 has 23 instead of 6 level-2 modules. Each extra module j >= 6 at a
    # level-2 node with f=256: first layer 4f->f (1x1 or [3,1,1]), 3x3 f->256, 1x1 256->4f.
    structure = load("assemblenet_50.json")["structure"]
    extra = 0
    for raw in structure:
        if len(raw) > 2 and raw[0] == 2:
            f = raw[2]
            for j in range(6, 23):
                extra += conv_bn(4 * f, f, 1 if j % 2 == 0 else 3) + conv_bn(f, 256, 1, 3, 3) + conv_bn(256, 4 * f)
    assert preset_analysis("assemblenet-101").params - preset_analysis("assemblenet-50").params == extra


def test_assemblenet_frozen_edge_weights_are_not_parameters():
    # Published post-sigmoid edge weights are frozen: no parameters. Without weights,
    # every edge into a multi-input node gets one learnable logit.
    config = load("assemblenet_50.json")
    n_multi_edges = sum(len(raw[1]) for raw in config["structure"] if len(raw) > 2 and len(raw[1]) >= 2)
    assert n_multi_edges == 4 + 2 + 5 + 4 + 3 + 2 + 4 + 2 + 2
    unweighted = {"structure": config["structure"]}
    got = analyze(import_assemblenet(unweighted, depth=50), num_classes=NUM_CLASSES).params
    expected = sum(assemblenet_expected(unweighted, 50, False, NUM_CLASSES).values())
    assert got == expected
    assert got - preset_analysis("assemblenet-50").params == n_multi_edges


def test_assemblenet_plus_node9_is_kept_as_attention_peer():
    # In AssembleNet++ node 9 (level 1) feeds no block through an edge, but every node of
    # a lower level is a peer of the level-2/3 nodes' peer-attention (seed 2.1 step 1),
    # so node 9's output is used and its block group exists.
    structure = load("assemblenet_plus.json")["structure"]
    assert structure[9][0] == 1 and all(9 not in raw[1] for raw in structure if len(raw) > 2)
    expected = preset_expected("assemblenet-plus")["n9"]
    nodes = preset_analysis("assemblenet-plus").nodes
    assert "n9" in nodes, "node n9 (a peer of nodes 12, 13, 14) was dropped from assemblenet-plus"
    assert nodes["n9"].params == expected


# --------------------------------------------------------------------------- built models

@pytest.mark.parametrize("name", ["tvn-mobile-2", "tvn-1"])
def test_built_model_parameters_match(name):
    model = build_model(get_preset(name), num_classes=NUM_CLASSES)
    expected = sum(preset_expected(name).values())
    assert sum(p.numel() for p in model.parameters()) == expected
    assert sum(p.numel() for p in model.parameters()) == preset_analysis(name).params


# --------------------------------------------------------------------------- hand-made tiny configs

TINY_EVANET_3D_STEM = {
    "stem": {"convop1": "CONV3D", "time1": 3, "max_pool1_time": 1, "max_pool3_time": 3, "max_pool4_time": 1},
    "blocks": [
        # L=3: f = 40//3 = 13 (output 39), f//2 = 6, f//4 = 3; 3 repeats: use_time on, off, on.
        {"res_block": 2, "total_filters": 40, "repeats": 3, "use_nl": False, "layers": [
            {"layer_type": "SINGLE_DEFAULT(1x1x1 conv)"},
            {"layer_type": "CONV", "conv_type": "CONV2P1", "time": 3},
            {"layer_type": "CONV2", "conv_type": "iTGM", "time": 5, "time2": 3, "conv_type2": "CONV3D"},
        ]},
        # L=4: f = 7, f//2 = 3 (a (2+1)D to 3 has mid 1), f//4 = 1.
        {"res_block": 3, "total_filters": 30, "repeats": 2, "use_nl": False, "layers": [
            {"layer_type": "MAXPOOLCONV", "time": 3},
            {"layer_type": "CONV2", "conv_type": "CONV2P1", "time": 3, "time2": 3, "conv_type2": "CONV2P1"},
            {"layer_type": "CONV", "conv_type": "iTGM", "time": 3},
            {"layer_type": "CONV", "conv_type": "CONV3D", "time": 3},
        ]},
    ],
}

TINY_EVANET_ITGM_STEM = {
    "stem": {"convop1": "iTGM", "time1": 5, "max_pool1_time": 3, "max_pool3_time": 1, "max_pool4_time": 1},
    "blocks": [
        {"res_block": 2, "total_filters": 24, "repeats": 2, "use_nl": False, "layers": [
            {"layer_type": "CONV", "conv_type": "CONV3D", "time": 3},
            {"layer_type": "MAXPOOLCONV", "time": 3},
        ]},
    ],
}

TINY_ASN = {
    # rgb, flow and object stems: 128//3 = 42 filters; object stem keeps 151 channels
    "structure": [
        [-1, 1], [-2, 1], [-3, 1],
        [0, [0, 1, 2], 4, 1, 1, 0],   # 42, 42, 151 -> fused width 42, 151->42 conv
        [0, [0], 4, 2, 1, 0],         # single input: no fusion, no attention
        [1, [3, 4, 2], 8, 1, 2, 0],   # 16, 16, 151 -> 16
        [2, [5], 8, 1, 2, 0],
        [3, [6, 5, 1], 8, 1, 2, 0],   # 32, 32, 42 -> fused width 42 (32->42 conv)
    ],
}
TINY_ASN_WEIGHTS = [[], [], [], [[0.5, 0.3, 0.2]], [], [[0.1, 0.2, 0.3]], [], [[0.4, 0.5, 0.6]]]

TINY_TVN = {
    "meta": {"num_frames": 4, "image_size": 64, "frame_stride": 1},
    "blocks": [
        # frames 4 -> 2 on r=0 (no residual), temporal off on r=1 (residual), on at r=2 with stride 1
        {"spatial_type": "std", "spatial_kernel": 3, "spatial_stride": 2, "temporal_type": "1d", "temporal_kernel": 3,
         "temporal_stride": 2, "filters": 8, "expand": 2, "squeeze": 0.25, "context_gate": 1, "skip": 1, "repeats": 3,
         "non_local": 0},
        # spatial kernel 1: no spatial layer; inverted bottleneck, E = 24, SE hidden 12
        {"spatial_type": "depth", "spatial_kernel": 1, "spatial_stride": 1, "temporal_type": "1d", "temporal_kernel": 2,
         "temporal_stride": 1, "filters": 8, "expand": 3, "squeeze": 0.5, "context_gate": 0, "skip": 1, "repeats": 2,
         "inv-bottle": 1, "non_local": 0},
        # inverted std; temporal max-pool 2 -> 1 frame at r=0
        {"spatial_type": "std", "spatial_kernel": 3, "spatial_stride": 1, "temporal_type": "maxpool", "temporal_kernel": 2,
         "temporal_stride": 2, "filters": 12, "expand": 2, "squeeze": 0.0, "context_gate": 1, "skip": 1, "repeats": 2,
         "inv-bottle": 1, "non_local": 0},
        # 1 frame left: the 1d temporal conv is skipped; pool-only block, expand 1 -> 1x1 12->16 still present
        {"spatial_type": "avgpool", "spatial_kernel": 2, "spatial_stride": 2, "temporal_type": "1d", "temporal_kernel": 3,
         "temporal_stride": 1, "filters": 16, "expand": 1, "squeeze": 0.9, "context_gate": 0, "skip": 0, "repeats": 1,
         "non_local": 0},
    ],
}


def _tiny_cases():
    asn_weighted = dict(copy.deepcopy(TINY_ASN), weights=TINY_ASN_WEIGHTS)
    return {
        "evanet-3d-stem-rgb": (import_evanet(TINY_EVANET_3D_STEM, modality="rgb", frames=8, size=64),
                               expected_nodes("evanet", TINY_EVANET_3D_STEM, in_channels=3)),
        "evanet-itgm-stem-flow": (import_evanet(TINY_EVANET_ITGM_STEM, modality="flow", frames=8, size=64),
                                  expected_nodes("evanet", TINY_EVANET_ITGM_STEM, in_channels=2)),
        "asn-learnable-peer": (import_assemblenet(copy.deepcopy(TINY_ASN), depth=26, frames=4, size=64, attention="peer"),
                               expected_nodes("assemblenet", TINY_ASN, depth=26, peer_attention=True)),
        "asn-frozen-plain": (import_assemblenet(copy.deepcopy(asn_weighted), depth=26, frames=4, size=64),
                             expected_nodes("assemblenet", asn_weighted, depth=26, peer_attention=False)),
        "tvn-tiny": (import_tvn(copy.deepcopy(TINY_TVN)), expected_nodes("tvn", TINY_TVN)),
    }


TINY_NAMES = ["evanet-3d-stem-rgb", "evanet-itgm-stem-flow", "asn-learnable-peer", "asn-frozen-plain", "tvn-tiny"]


@pytest.mark.parametrize("case", TINY_NAMES)
def test_tiny_config_params_match_formula(case):
    spec, expected = _tiny_cases()[case]
    analysis = analyze(spec, num_classes=NUM_CLASSES)
    got = {node_id: cost.params for node_id, cost in analysis.nodes.items()}
    mismatches = {k: (got.get(k), expected.get(k)) for k in sorted(set(got) | set(expected)) if got.get(k) != expected.get(k)}
    assert not mismatches, f"{case}: node -> (implementation, formula): {mismatches}"
    model = build_model(spec, num_classes=NUM_CLASSES, analysis=analysis)
    assert sum(p.numel() for p in model.parameters()) == sum(expected.values())
