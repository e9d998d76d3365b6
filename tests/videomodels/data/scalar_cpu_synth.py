"""Run as a script: synthesize the motion benchmark and prepare its clip cache with every
vector unit that numpy, OpenCV and FFmpeg can be told to avoid turned off, then print the
hashes. A machine with other SIMD extensions than this one must give the same bytes; this is
the closest one machine gets to being another. (numpy reads NPY_DISABLE_CPU_FEATURES, set by
the caller, at import.)"""
from __future__ import annotations

import ctypes
import glob
import json
import os
import sys
from pathlib import Path

import av
import cv2


def disable_vector_units() -> None:
    cv2.setUseOptimized(False)
    libs = os.path.join(os.path.dirname(av.__file__), os.pardir, "av.libs", "libavutil-*.so*")
    for lib in glob.glob(libs):  # PyAV's own FFmpeg (the wheel bundles it)
        ctypes.CDLL(lib).av_force_cpu_flags(0)


def main(out: Path, *, scalar: bool) -> dict[str, str]:
    if scalar:
        disable_vector_units()
    from synth_hashes import synth_and_cache_hashes  # beside this script

    return synth_and_cache_hashes(out)


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), scalar=True)))
