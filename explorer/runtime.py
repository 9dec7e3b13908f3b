"""Process-level fixes for running TensorFlow models inside Streamlit."""

from __future__ import annotations

import gc
import sys
import warnings

PATCHED_FUNCTION = "_clean_problem_modules"  # in streamlit.runtime.scriptrunner.script_runner (1.67)


def close_matplotlib_only() -> None:
    """Streamlit's clean-up after a script run, less its keras.backend.clear_session() call."""
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def keep_keras_state() -> bool:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Streamlit (checked on 1.67) 'cleans' Keras after each rerun, which empties TensorFlow's kernel
    cache: every later training step and decode then rebuilds its kernels and runs ~10x slower
    (measured: 0.2 s -> 2 s per step on lines32). The app keeps long-lived models on purpose
    (cached pretrained models, a trainer per session), so it keeps Streamlit's matplotlib
    clean-up and skips the Keras one. This replaces a private function: if a Streamlit release
    renames it, this warns (the app still works, but live training gets about 10x slower).

    Returns:
        True if the replacement is in place.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if not hasattr(script_runner, PATCHED_FUNCTION):
        warnings.warn(
            f"streamlit.runtime.scriptrunner.script_runner.{PATCHED_FUNCTION} is gone in this Streamlit "
            "release: Streamlit may now clear Keras after every rerun, which makes live training about 10x "
            "slower. Pin streamlit to the version in requirements.txt.", RuntimeWarning, stacklevel=2)
        return False
    setattr(script_runner, PATCHED_FUNCTION, close_matplotlib_only)
    return True


def settle_heap() -> None:
    """Collect, then move every object alive now out of reach of Python's cyclic garbage collector.

    With TensorFlow and a few models loaded the process holds millions of long-lived objects, and every
    full collection walks them all: measured 0.25-1.3 s with the GIL held, which froze every browser
    session at once (20 viewers moving alpha saw 2-3 s answers; bench/audience.py). Called after loading a
    pretrained model (TensorFlow is loaded by then), which stays for the life of the process, so later
    collections only walk what the sessions allocate since. The price: a frozen object that becomes garbage
    in a reference cycle is never collected. Only models evicted from the app's model cache could (at most
    16 are kept; pretrained/ ships 14), so none is lost in practice.
    """
    gc.collect()
    gc.freeze()
