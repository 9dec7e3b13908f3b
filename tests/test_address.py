"""Views in the address bar: the parsers, and the round trip through the app (AppTest)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import address as views

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
EXAMPLE = {"page": "interpolate", "dataset": "mnist", "model": "mnist32-acai", "compare": "mnist32-baseline",
           "a": "test:3", "b": "test:7", "alpha": "0.30"}


@pytest.mark.parametrize("text, expected", [("0", 0.0), ("1", 1.0), ("0.30", 0.3), ("0.333", 0.33)])
def test_alpha_parses_to_the_sliders_resolution(text, expected):
    assert views.parse_alpha(text) == expected


@pytest.mark.parametrize("text", ["7", "-0.1", "nan", "inf", "half", ""])
def test_bad_alphas_say_why(text):
    with pytest.raises(views.BadValue):
        views.parse_alpha(text)


def test_frames_paths_and_test_images():
    assert views.parse_frames("5") == 5 and views.parse_frames("12") == 12
    for bad in ("4", "13", "eight", "8.5"):
        with pytest.raises(views.BadValue):
            views.parse_frames(bad)
    assert views.parse_choice("slerp", views.PATHS) == "slerp"
    with pytest.raises(views.BadValue, match="lerp, slerp"):
        views.parse_choice("cubic", views.PATHS)
    assert views.parse_test_image("test:0", 10) == 0 and views.parse_test_image("test:9", 10) == 9
    with pytest.raises(views.BadValue, match="0 to 9"):
        views.parse_test_image("test:10", 10)
    for bad in ("train:3", "test:", "test:-1", "3", "test:3x", "test:\u00b2", "test:\u0663", "test:" + "9" * 10_000):
        with pytest.raises(views.BadValue, match="test:INDEX"):
            views.parse_test_image(bad, 10)
    assert views.format_endpoint(("test", 42)) == "test:42"
    assert views.format_endpoint(("upload", object())) is None  # an upload cannot live in an address


def address(app: AppTest) -> dict[str, str]:
    """The query string the app has written, as the browser's address bar would show it."""
    return {name: value if isinstance(value, str) else value[-1] for name, value in app.query_params.items()}


def opened_at(params: dict) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180)
    for name, value in params.items():
        app.query_params[name] = value
    return app.run()


@pytest.mark.slow
def test_a_bookmarked_view_opens_as_it_was_and_the_address_follows_the_controls(mnist_available):
    app = opened_at(EXAMPLE)
    assert not app.exception and not app.warning
    assert app.selectbox(key="interp_dataset").value == "mnist"
    assert app.selectbox(key="interp_model/mnist").value.label == "mnist32-acai"
    assert app.selectbox(key="interp_compare/mnist").value.label == "mnist32-baseline"
    assert app.slider(key="alpha").value == 0.30
    endpoints = app.session_state["acai"].endpoints["mnist"]
    assert endpoints == [("test", 3), ("test", 7)]
    assert any("mnist32-acai at alpha 0.30" in image.proto.imgs[0].caption for image in app.get("image"))
    assert {name: address(app)[name] for name in EXAMPLE} == EXAMPLE
    assert address(app)["path"] == "lerp" and address(app)["frames"] == "8"

    app.slider(key="alpha").set_value(0.75).run()
    app.segmented_control(key="interp_method").set_value("slerp").run()
    app.slider(key="interp_steps").set_value(10).run()
    app.button(key="swap").click().run()
    current = address(app)
    assert current["alpha"] == "0.75" and current["path"] == "slerp" and current["frames"] == "10"
    assert (current["a"], current["b"]) == ("test:7", "test:3")

    # That address, opened afresh, is the same view.
    again = opened_at(current)
    assert again.slider(key="alpha").value == 0.75 and again.slider(key="interp_steps").value == 10
    assert again.segmented_control(key="interp_method").value == "slerp"
    assert again.session_state["acai"].endpoints["mnist"] == [("test", 7), ("test", 3)]


@pytest.mark.slow
def test_bad_and_stale_values_fall_back_with_one_notice(mnist_available):
    app = opened_at({"page": "interpolate", "dataset": "mnist", "model": "mnist999-gone", "compare": "nope",
                     "a": "test:99999", "b": "test:x", "alpha": "7", "path": "cubic", "frames": "40",
                     "present": "maybe"})
    assert not app.exception
    (notice,) = app.warning  # one notice, naming every value it could not use
    for name, value in (("model", "mnist999-gone"), ("compare", "nope"), ("a", "test:99999"), ("b", "test:x"),
                        ("alpha", "7"), ("path", "cubic"), ("frames", "40"), ("present", "maybe")):
        assert f"{name}=`{value}`" in notice.value
    assert app.slider(key="alpha").value == 0.5 and app.slider(key="interp_steps").value == 8
    assert app.session_state["acai"].endpoints["mnist"] == [("test", 0), ("test", 1)]
    app.slider(key="alpha").set_value(0.2).run()
    assert not app.warning  # said once, not on every run
    assert address(app)["model"] == app.selectbox(key="interp_model/mnist").value.label


@pytest.mark.slow
def test_an_unknown_dataset_or_page_falls_back(mnist_available):
    app = opened_at({"dataset": "celeba", "page": "nowhere"})
    assert not app.exception
    (notice,) = app.warning
    assert "dataset=`celeba`" in notice.value and "page=`nowhere`" in notice.value
    assert app.title[0].value == "Interpolate"
    app.run()
    assert not app.warning  # said once, not on every run


@pytest.mark.slow
def test_the_page_and_presentation_mode_come_from_the_address():
    app = opened_at({"page": "race", "present": "1"})
    assert not app.exception and app.title[0].value == "Race"
    assert app.toggle(key="present").value is True
    assert address(app) == {"page": "race", "present": "1"}
    app.toggle(key="present").set_value(False).run()
    assert address(app) == {"page": "race"}


@pytest.mark.slow
def test_presentation_mode_shows_fewer_controls(mnist_available):
    normal, presenting = opened_at(EXAMPLE), opened_at({**EXAMPLE, "present": "1"})
    assert presenting.toggle(key="present").value is True
    keys = {"pick_a_3", "gallery_next", "download_png"}
    assert keys <= {button.key for button in normal.button} | {button.key for button in normal.get("download_button")}
    assert not keys & {button.key for button in presenting.button}
    assert presenting.slider(key="alpha").value == 0.30  # the view itself is the same


@pytest.mark.slow
def test_a_bad_slots_setting_is_said_plainly(monkeypatch):
    from explorer import slots

    monkeypatch.setattr(slots, "_shared", None)
    monkeypatch.setenv("ACAI_TRAINING_SLOTS", "lots")
    app = opened_at({"page": "train"})
    assert not app.exception
    assert "ACAI_TRAINING_SLOTS must be a whole number" in app.error[0].value


@pytest.mark.slow
def test_hostile_addresses_get_a_notice_never_a_traceback_or_a_link(mnist_available):
    link = "[Session expired, log in](//example.invalid)"
    app = opened_at({"page": "interpolate", "dataset": "mnist", "a": "test:\u00b2", "b": "test:" + "9" * 10_000,
                     "model": link, "compare": "`x`"})
    assert not app.exception
    (notice,) = app.warning
    assert f"model=`{link[:37]}…`" in notice.value  # shown as code (shortened): Streamlit draws no link from it
    assert "compare=`` `x` ``" in notice.value and "a=`test:\u00b2`" in notice.value and "b=`test:999" in notice.value
    assert not [element for element in app.markdown if "example.invalid" in element.value]
    assert app.session_state["acai"].endpoints["mnist"] == [("test", 0), ("test", 1)]


@pytest.mark.slow
def test_a_failing_page_shows_a_short_message_and_logs_the_error(monkeypatch, caplog):
    from explorer import page_evaluate

    def broken() -> None:
        raise RuntimeError("boom in /srv/secret/path.py")

    monkeypatch.delenv("ACAI_DEBUG")
    monkeypatch.setattr(page_evaluate, "render", broken)
    app = opened_at({"page": "evaluate"})
    assert not app.exception
    (message,) = app.error
    assert "Something went wrong on this page" in message.value and "secret" not in message.value
    assert "boom in /srv/secret/path.py" in caplog.text  # for the operator
