"""The OpenBLAS library that torch loaded into this process, for torch_e2e.py and torch_train.py.

Debian's torch is built with BLAS_INFO=generic: its matrix products go through libblas.so.3,
which in openblas-pthread/ is a thin shim over libopenblasp-r*.so, and torch's set_num_threads
does not reach OpenBLAS's own thread pool. The peers set and report it through this handle.
Import it after torch.
"""
import ctypes
import os


def find():
    """(path, ctypes handle) of the OpenBLAS mapped into this process, or (None, None)."""
    with open("/proc/self/maps") as f:
        libs = sorted({l.split()[-1] for l in f if "openblas" in l.lower() and l.split()[-1].startswith("/")})
    # Ask libopenblas*.so itself before the libblas.so.3 shim.
    libs.sort(key=lambda p: "libopenblas" not in os.path.basename(p))
    for path in libs:
        lib = ctypes.CDLL(path)
        if hasattr(lib, "openblas_set_num_threads"):
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return path, lib
    return None, None
