"""Native code compiled by numba, kept on disk and loaded back with llvmlite alone: no numba import.

numba's own cache loads compiled code through its type system, whose first use in a process imports
most of numba (and, through its BLAS check, scipy.linalg): ~0.8 s before numba-fused's first result,
measured on the 2-core development machine. A ``cfunc`` has a plain C signature, so its machine code
can be written out once as an object file and later linked into the process by llvmlite's MCJIT,
called through ctypes: tens of milliseconds.

The file's name carries a key of everything the code depends on (the kernels' source, numba's and
llvmlite's versions, the CPU and its features, the dtype); a different key compiles anew. Beside it,
a JSON file names the entry symbol and the externals the code refers to (see ``_resolve``). Files go
where numba's cache goes (``NUMBA_CACHE_DIR``, else ``__pycache__`` beside the kernels, else the
temporary folder). Anything unexpected returns None, and the caller falls back to numba.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.util
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

KERNELS = Path(__file__).with_name("_numba_kernels.py")
_ENGINES: list[Any] = []  # the loaded code lives as long as its engine: kept for the process
ARGS = (ctypes.c_void_p,) * 3 + (ctypes.c_ssize_t,) * 2 + (ctypes.c_double,) * 2 + (ctypes.c_ssize_t,) * 2
SIGNATURE = ctypes.CFUNCTYPE(None, *ARGS, *(ctypes.c_void_p,) * 5)  # serial_cfunc's, in C


def folder() -> Path:
    """Where the object files go: numba's cache folder, else __pycache__ beside the kernels."""
    env = os.environ.get("NUMBA_CACHE_DIR")
    for place in ([Path(env)] if env else []) + [KERNELS.parent / "__pycache__"]:
        try:
            place.mkdir(parents=True, exist_ok=True)
            if os.access(place, os.W_OK):
                return place
        except OSError:
            continue
    return Path(tempfile.gettempdir()) / "gdbench-native"


def key(dtype: str) -> str:
    """What the machine code depends on, hashed."""
    import llvmlite.binding as llvm

    parts = [
        KERNELS.read_bytes().hex(),
        installed("numba"),
        installed("llvmlite"),
        llvm.get_host_cpu_name(),
        llvm.get_host_cpu_features().flatten(),
        dtype,
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def installed(name: str) -> str:
    """The installed distribution of package ``name`` (its dist-info folder), without importing it.

    importlib.metadata would cost more than the whole load (it imports the email package).
    """
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return "none"
    here = Path(spec.origin).parent
    return ",".join(sorted(p.name for p in here.parent.glob(f"{name}-*.dist-info"))) or str(here)


def path(dtype: str) -> Path:
    """The object file of the serial loop for ``dtype`` on this machine."""
    return folder() / f"numba_fused_serial-{dtype}-{key(dtype)}.o"


def load(dtype: str) -> Callable[..., None] | None:
    """The serial loop for ``dtype`` from disk, callable through ctypes; None when none is stored."""
    try:
        obj = path(dtype)
        if not obj.is_file():
            return None
        meta = json.loads(obj.with_suffix(".json").read_text())
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        missing = [name for name in meta["externals"] if llvm.address_of_symbol(name) is None]
        stubs = llvm.parse_assembly("".join(f"declare void @{name}()\n" for name in missing))
        machine = llvm.Target.from_default_triple().create_target_machine()
        engine = llvm.create_mcjit_compiler(stubs, machine)
        _resolve(engine, stubs, missing)
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj.read_bytes()))
        engine.finalize_object()
        address = engine.get_function_address(meta["symbol"])
    except (OSError, RuntimeError, ValueError, KeyError, TypeError):
        return None
    if not address:
        return None
    _ENGINES.append(engine)
    return SIGNATURE(address)


def _resolve(engine: Any, stubs: Any, missing: list[str]) -> None:
    """Point the externals this process lacks at abort(), in this engine only.

    They are numba's runtime (raising an exception, the GIL, freeing memory), named only on the path
    a numba function takes when it fails, which this loop, allocating nothing and raising nothing,
    never takes. MCJIT stops resolving at the first symbol it cannot find, leaving even memset at
    address 0; mapped here, not in LLVM's process-wide table, so numba's own code, if numba loads
    later, still finds its real runtime.
    """
    stop = ctypes.cast(ctypes.CDLL(None).abort, ctypes.c_void_p).value
    for name in missing:
        engine.add_global_mapping(stubs.get_function(name), stop)


def store(dtype: str, compiled: Any) -> None:
    """Write a compiled ``cfunc``'s machine code and symbol for ``load``; silently not when it cannot."""
    try:
        library = compiled._library  # numba's; its final module is what the cfunc runs, linked whole
        module = library._final_module
        code = library._codegen._tm.emit_object(module)
        named = [g.name for g in (*module.functions, *module.global_variables) if g.is_declaration]
        meta = {"symbol": compiled.native_name, "externals": [n for n in named if not n.startswith("llvm.")]}
        obj = path(dtype)
        for target, data in ((obj.with_suffix(".json"), json.dumps(meta).encode()), (obj, code)):
            tmp = target.with_name(f".{target.name}.{os.getpid()}")
            tmp.write_bytes(data)
            os.replace(tmp, target)  # the object last: a reader that finds it finds its symbols too
    except (AttributeError, OSError, RuntimeError, TypeError, ValueError):
        return
