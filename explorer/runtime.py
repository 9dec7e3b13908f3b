"""Process-level fixes for running TensorFlow models inside Streamlit."""

from __future__ import annotations


def keep_keras_state() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Streamlit (checked on 1.67) 'cleans' Keras after each rerun, which empties TensorFlow's kernel
    cache: every later training step and decode then rebuilds its kernels and runs ~10x slower
    (measured: 0.2 s -> 2 s per step on lines32). The app keeps long-lived models on purpose
    (cached pretrained models, a trainer per session), so it keeps Streamlit's matplotlib
    clean-up and skips the Keras one. Private API: if it moves, this does nothing.
    """
    from streamlit.runtime.scriptrunner import script_runner

    def close_matplotlib_only() -> None:
        import sys

        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")

    if hasattr(script_runner, "_clean_problem_modules"):
        script_runner._clean_problem_modules = close_matplotlib_only
