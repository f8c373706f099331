"""What a bench figure was measured on: the CPU model, its load, and what Numba compiles for.

Every bench prints `describe()` above its table and stores `machine()` in its JSON, so that a figure can be
compared only with figures from the same kind of machine (the decoders' lane count depends on the CPU:
`qec.decoders.bp_kernels.lanes_for_host`).

>>> sorted(machine())[:3]
['cores', 'cpu', 'load_average']
"""

from __future__ import annotations

import os
import platform

import llvmlite.binding
import numba

from qec.decoders.bp_kernels import LANES

VECTOR_FEATURES = ("sse4.2", "avx", "avx2", "fma", "avx512f", "avx512vl")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """The CPU model, cores, load average (1, 5, 15 min), Numba's version, target CPU and vector features, the
    decoders' lane count, Python and the OS."""
    features = numba.config.CPU_FEATURES or llvmlite.binding.get_host_cpu_features().flatten()
    enabled = {name[1:] for name in features.split(",") if name.startswith("+")}
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "numba": numba.__version__,
        "numba_target": numba.config.CPU_NAME or llvmlite.binding.get_host_cpu_name(),
        "numba_vector_features": [name for name in VECTOR_FEATURES if name in enabled],
        "lanes": LANES,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def describe(info: dict | None = None) -> str:
    """One line: `cpu: AMD EPYC (2 cores, load 0.31 1.06 1.12); numba 0.68.1 for znver3 [avx, avx2, fma]; 32 lanes`."""
    info = info or machine()
    load = " ".join(f"{value:.2f}" for value in info["load_average"])
    vectors = ", ".join(info["numba_vector_features"])
    return (
        f"cpu: {info['cpu']} ({info['cores']} cores, load {load}); numba {info['numba']} for "
        f"{info['numba_target']} [{vectors}]; {info['lanes']} lanes"
    )
