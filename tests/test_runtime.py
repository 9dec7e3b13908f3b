import pytest


def test_streamlit_no_longer_clears_keras_after_a_rerun(monkeypatch):
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    from explorer import runtime

    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *a, **k: cleared.append(True))
    original = script_runner.__dict__[runtime.PATCHED_FUNCTION]
    if original is not runtime.close_matplotlib_only:  # not yet patched in this process: Streamlit's own
        original()
        assert cleared  # what the patch is for: Streamlit's clean-up clears Keras
    monkeypatch.setattr(script_runner, runtime.PATCHED_FUNCTION, original)
    assert runtime.keep_keras_state()
    cleared.clear()
    getattr(script_runner, runtime.PATCHED_FUNCTION)()  # what Streamlit calls after every script run
    assert not cleared


def test_a_renamed_private_function_is_reported(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    from explorer import runtime

    monkeypatch.delattr(script_runner, runtime.PATCHED_FUNCTION)
    with pytest.warns(RuntimeWarning, match="10x"):
        assert runtime.keep_keras_state() is False


def test_the_app_turns_off_streamlits_full_gc_after_every_script_run():
    """A full gc.collect(2) after every fragment run held the GIL ~0.24 s a second with TensorFlow loaded
    and halved live training's speed (docs/BENCHMARKS.md): the app's config must keep it off, under an
    option name this Streamlit still knows."""
    import tomllib
    from pathlib import Path

    from streamlit import config

    settings = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert settings["runner"]["postScriptGC"] is False
    assert config.get_option("runner.postScriptGC") in (True, False)  # the option exists in this release


def test_the_first_page_draws_its_controls_without_loading_tensorflow():
    """streamlit_app.py and the Interpolate page import no TensorFlow: the controls appear seconds before the
    model (docs/BENCHMARKS.md, first paint). Checked in a fresh interpreter."""
    import subprocess
    import sys

    code = ("import sys; import acai.machine, explorer.address, explorer.presentation, explorer.runtime, "
            "explorer.page_interpolate; print(sorted({'tensorflow', 'keras'} & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_settling_the_heap_puts_todays_objects_out_of_the_collectors_reach():
    import gc

    from explorer import runtime

    try:
        runtime.settle_heap()
        assert gc.get_freeze_count() > 0  # walked by no later collection
    finally:
        gc.unfreeze()


@pytest.mark.slow
def test_importing_acai_changes_nothing_and_configure_tensorflow_sizes_the_pools():
    """Importing acai (even all of it) leaves the environment alone; configure_tensorflow() sets one intra-op
    thread per two cores (acai.machine.thread_defaults) and the log level, and a variable the user set wins.
    Checked in fresh interpreters."""
    import os
    import subprocess
    import sys

    from acai.machine import thread_defaults

    assert thread_defaults(1) == {"TF_NUM_INTEROP_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1"}
    assert thread_defaults(2) == {"TF_NUM_INTEROP_THREADS": "2", "TF_NUM_INTRAOP_THREADS": "1"}
    assert thread_defaults(8) == {"TF_NUM_INTEROP_THREADS": "8", "TF_NUM_INTRAOP_THREADS": "4"}
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("TF_NUM_", "TF_CPP_"))}

    def environment_after(code: str, **extra) -> list[str]:
        show = "; print(*(os.environ.get(k) for k in ('TF_NUM_INTEROP_THREADS', 'TF_NUM_INTRAOP_THREADS', " \
               "'TF_CPP_MIN_LOG_LEVEL')))"
        done = subprocess.run([sys.executable, "-c", "import os; " + code + show], env={**clean, **extra},
                              capture_output=True, text=True, check=True)
        return done.stdout.split()

    assert environment_after("import acai, acai.config, acai.models, acai.metrics, acai.cli") == ["None"] * 3
    expected = thread_defaults()
    configured = "from acai.machine import configure_tensorflow; configure_tensorflow()"
    assert environment_after(configured) == [expected["TF_NUM_INTEROP_THREADS"], expected["TF_NUM_INTRAOP_THREADS"], "3"]
    assert environment_after(configured, TF_NUM_INTRAOP_THREADS="3") == [expected["TF_NUM_INTEROP_THREADS"], "3", "3"]
    late = subprocess.run([sys.executable, "-W", "error", "-c", "import tensorflow as tf; tf.constant(1.0) + 1; "
                           + configured], env=clean, capture_output=True, text=True)
    assert late.returncode != 0 and "came after TensorFlow started its runtime" in late.stderr  # said, not silent
