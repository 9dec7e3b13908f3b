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
