"""The room's protocol viewer (bench/streamlit_viewer.py) against a small local app under `streamlit run`: it opens a
session, finds the fragment's slider, moves it, sees only the fragment rerun and fetches the new image's bytes from
the media endpoint (or takes them from a data: URL in the message, as this app's frames come), and it reports a
page's exception, a missing widget and an image that does not decode as errors."""

import asyncio
import contextlib
import io
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from streamlit_viewer import Viewer, ViewerError  # noqa: E402

APP = '''
import base64
import io

import numpy as np
import streamlit as st

st.session_state.runs = st.session_state.get("runs", 0) + 1
st.image(np.zeros((4, 4), np.uint8), caption=f"whole page, run {st.session_state.runs}")
if st.query_params.get("broken"):
    raise ValueError("this page is broken on purpose")

@st.fragment
def mix():
    value = st.slider("alpha", 0.0, 1.0, 0.5, 0.01)
    picture = np.full((8, 8), int(255 * value), np.uint8)
    if st.query_params.get("inline"):  # as the app's frames: the PNG in the message, as a data: URL
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, format="PNG")
        picture = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    st.image(picture, caption=f"at alpha {value:.2f}", output_format="PNG")

mix()
'''


@contextlib.contextmanager
def small_app(folder: Path):
    (folder / "app.py").write_text(APP)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(folder / "app.py"), "--server.port",
                               str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
                               "--browser.gatherUsageStats", "false"], cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("streamlit run did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with small_app(tmp_path_factory.mktemp("app")) as url:
        yield url


def test_a_viewer_moves_a_fragment_slider_and_fetches_the_new_image(app_url):
    async def visit():
        viewer = Viewer(app_url)
        opened = await viewer.open(timeout=60)
        assert opened > 0 and not viewer.errors
        assert viewer.widgets["alpha"].kind == "slider" and viewer.widgets["alpha"].fragment_id
        assert [image.caption for image in viewer.images] == ["whole page, run 1", "at alpha 0.50"]
        seconds, connections = [], []
        for value in (0.51, 0.75):
            seconds.append(await viewer.move("alpha", value, shows=f"at alpha {value:.2f}"))
            connections.append(viewer._http)
        png = await viewer.fetch(viewer.images[-1].url)
        connections.append(viewer._http)
        captions = [image.caption for image in viewer.images]
        await viewer.close()
        return seconds, png, captions, connections

    seconds, png, captions, connections = asyncio.run(visit())
    # The images came over one kept-alive connection, as a browser's do.
    assert connections[0] is not None and all(kept is connections[0] for kept in connections)
    assert all(0 < value < 30 for value in seconds)
    assert png.startswith(b"\x89PNG")
    # Only the fragment reran: the whole page's image was sent once.
    assert captions == ["whole page, run 1", "at alpha 0.50", "at alpha 0.51", "at alpha 0.75"]


def test_a_viewer_reports_an_exception_a_missing_slider_and_a_missing_image(app_url):
    async def visit():
        broken = Viewer(app_url, query="broken=1")
        with pytest.raises(ViewerError, match="exception: ValueError: this page is broken on purpose"):
            await broken.open(timeout=60)
        await broken.close()
        viewer = Viewer(app_url)
        await viewer.open(timeout=60)
        with pytest.raises(ViewerError, match="no slider 'beta'"):
            await viewer.move("beta", 0.3, shows="at beta")
        with pytest.raises(ViewerError, match="404"):
            await viewer.fetch("/media/no-such-image.png")
        assert (await viewer.fetch(viewer.images[-1].url)).startswith(b"\x89PNG")  # the connection still serves
        with pytest.raises(ViewerError, match="timed out"):
            await viewer.move("alpha", 0.6, shows="at alpha 0.99", timeout=2)
        await viewer.close()

    asyncio.run(visit())


def test_a_viewer_takes_an_inline_image_from_the_message_and_refuses_one_that_does_not_decode(app_url):
    async def visit():
        viewer = Viewer(app_url, query="inline=1")
        await viewer.open(timeout=60)
        await viewer.move("alpha", 0.25, shows="at alpha 0.25")
        shown = viewer.images[-1].url
        png = await viewer.fetch(shown)
        connection = viewer._http
        with pytest.raises(ViewerError, match="does not decode"):
            await viewer.fetch("data:image/png;base64,not*base64")
        await viewer.close()
        return shown, png, connection

    shown, png, connection = asyncio.run(visit())
    assert shown.startswith("data:image/png;base64,") and png.startswith(b"\x89PNG")
    from PIL import Image

    assert Image.open(io.BytesIO(png)).getpixel((0, 0)) == int(255 * 0.25)
    assert connection is None  # nothing was fetched over HTTP: the bytes came with the message
