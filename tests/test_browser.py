"""A real browser: Playwright drives Debian's headless Chromium against `streamlit run` on localhost,
clicking through the app as a person would. Screenshots go to artifacts/screenshots/."""

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("ACAI_SCREENSHOTS", ROOT / "artifacts" / "screenshots"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.browser, pytest.mark.slow]
if CHROMIUM is None and not os.environ.get("ACAI_REQUIRE_BROWSER"):
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = _free_port()
    SHOTS.parent.mkdir(parents=True, exist_ok=True)
    with open(SHOTS.parent / "streamlit.log", "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield launched
        launched.close()


def _mix_caption(page):
    return page.get_by_text(re.compile(r"at alpha \d\.\d\d · critic")).first.inner_text()


def _wait_idle(page):
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)


def _metric(page, label: str) -> int:
    metric = page.locator("[data-testid='stMetric']", has_text=label).first
    return int(metric.locator("[data-testid='stMetricValue']").inner_text().replace(",", ""))


def test_a_person_explores_and_trains(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(server)
    page.get_by_text(re.compile(r"at alpha 0\.50")).first.wait_for(timeout=90_000)
    _wait_idle(page)
    page.screenshot(path=SHOTS / "1-interpolate.png", full_page=True)

    # Pick a pair from the gallery: test image #3 becomes A, #7 becomes B.
    mix = page.get_by_role("img").nth(2)  # A, B, then the large mix
    before = mix.get_attribute("src")
    page.locator(".st-key-pick_a_3 button").first.click()
    _wait_idle(page)
    page.locator(".st-key-pick_b_7 button").first.click()
    sync_api.expect(mix).not_to_have_attribute("src", before, timeout=30_000)  # a new mix for the new pair
    _wait_idle(page)
    # Move alpha with the keyboard, as a person can.
    thumb = page.locator("[data-testid='stSlider']", has_text="alpha (0 = A, 1 = B)").get_by_role("slider")
    thumb.focus()
    for _ in range(20):
        thumb.press("ArrowLeft")
    _wait_idle(page)
    page.get_by_text(re.compile(r"at alpha 0\.30")).first.wait_for(timeout=30_000)
    page.screenshot(path=SHOTS / "2-alpha-moved.png", full_page=True)

    # A bad upload gets a message, and the page keeps working.
    upload = page.locator("[data-testid='stExpander']", has_text="Upload an image")
    upload.locator("summary").click()
    bad = tmp_path / "notes.png"
    bad.write_text("definitely not a picture")
    upload.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_text("not a readable PNG or JPEG").wait_for(timeout=30_000)
    page.screenshot(path=SHOTS / "3-bad-upload.png", full_page=True)

    # Train in this tab...
    page.get_by_role("link", name="Train").click()
    page.get_by_role("button", name="Start", exact=True).wait_for(timeout=30_000)
    page.locator("[data-testid='stSelectbox']", has_text="Dataset").click()
    page.get_by_role("option", name="Lines (synthetic)").click()
    _wait_idle(page)
    page.get_by_role("button", name="Start", exact=True).click()
    page.locator("[data-testid='stMetric']", has_text="step").first.wait_for(timeout=90_000)
    deadline = time.time() + 90
    while _metric(page, "step") < 5 and time.time() < deadline:
        page.wait_for_timeout(500)
    first_count = _metric(page, "step")
    page.wait_for_timeout(3000)
    assert _metric(page, "step") > first_count >= 5  # it keeps going while we watch
    assert page.locator(".js-plotly-plot").count() >= 1  # the live loss chart
    page.screenshot(path=SHOTS / "4-training.png", full_page=True)

    # ...while a second tab (a separate session) trains its own model, one step.
    other = context.new_page()
    other.goto(server + "/train")
    other.get_by_role("button", name="Step").wait_for(timeout=60_000)
    other.get_by_role("button", name="Step").click()
    other.locator("[data-testid='stMetric']", has_text="step").first.wait_for(timeout=90_000)
    assert _metric(other, "step") == 1
    other.screenshot(path=SHOTS / "5-second-tab.png", full_page=True)
    assert _metric(page, "step") > 5  # the first tab's model is untouched by the second

    pause = page.get_by_role("button", name="Pause")
    pause.click()
    # The page has taken the click once it re-renders Pause disabled; a chunk already in flight may still
    # finish and show one more step before that, so the step is read only then.
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Pause' && b.disabled)",
        timeout=30_000)
    _wait_idle(page)
    paused = _metric(page, "step")
    page.wait_for_timeout(2000)
    assert _metric(page, "step") == paused
    context.close()


def _strip_sources(page, side_label: str) -> list[str]:
    """The src of every frame in the strips drawn under a side's label on the Race page."""
    return page.evaluate(
        """(label) => {
            const marker = [...document.querySelectorAll('em')].find(e => e.innerText.startsWith(label));
            if (!marker) return [];
            let block = marker.closest('[data-testid="stElementContainer"]').nextElementSibling;
            return block ? [...block.querySelectorAll('img')].map(img => img.src) : [];
        }""", side_label)


def test_a_person_starts_a_race_and_sees_both_strips_move(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(server + "/race")
    page.get_by_role("button", name="Start", exact=True).wait_for(timeout=60_000)
    page.get_by_role("button", name="Start", exact=True).click()
    page.locator("[data-testid='stMetric']", has_text="step (each model)").first.wait_for(timeout=90_000)
    # A few steps in, both strips are drawn: from the warm start, which already reconstructs, they change as the
    # two models learn (from fresh weights, early frames were all the same grey and the walk waited 60 steps).
    deadline = time.time() + 90
    while _metric(page, "step (each model)") < 10 and time.time() < deadline:
        page.wait_for_timeout(500)
    first = {side: _strip_sources(page, side) for side in ("ACAI", "Plain autoencoder")}
    assert all(len(sources) == 16 for sources in first.values()), first  # two pairs of 8 frames each
    page.screenshot(path=SHOTS / "6-race-early.png", full_page=True)
    deadline = time.time() + 120
    while time.time() < deadline:  # early frames are all alike: wait until learning shows in the pixels
        page.wait_for_timeout(2000)
        later = {side: _strip_sources(page, side) for side in ("ACAI", "Plain autoencoder")}
        if all(later[side] != first[side] for side in first):
            break
    for side in first:  # both models' frames were decoded again as they learned
        assert later[side] != first[side], side
    assert page.locator("[data-testid='race-ratio']").count() == 1
    # The race chart and both loss charts (Plotly draws them a moment after each redraw of the pictures).
    page.wait_for_function("document.querySelectorAll('.js-plotly-plot').length >= 3", timeout=30_000)
    opacities = []
    for _ in range(30):  # sampled over 3 s, across several redraws
        opacities.append(page.evaluate("""() => Math.min(...[...document.querySelectorAll('img')].map(img => {
            let seen = 1;
            for (let node = img; node; node = node.parentElement) seen *= parseFloat(getComputedStyle(node).opacity);
            return seen;
        }))"""))
        page.wait_for_timeout(100)
    assert min(opacities) == 1.0  # no image is dimmed while the page redraws
    page.screenshot(path=SHOTS / "7-race-later.png", full_page=True)
    page.get_by_role("button", name="Pause").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some(b => b.innerText.trim() === 'Pause' && b.disabled)",
        timeout=30_000)
    context.close()


BOOKMARK = "/?page=interpolate&dataset=mnist&model=mnist32-acai&compare=mnist32-baseline&a=test:3&b=test:7&alpha=0.30"


def _drawn(page) -> int:
    return int(page.locator(".acai-player").get_attribute("data-drawn"))


def test_a_presenter_opens_a_bookmark_plays_alpha_and_presents(server, browser):
    if not (Path(os.environ.get("ACAI_DATA_DIR", "/nonexistent")) / "mnist.npz").exists():
        pytest.skip("the bookmark names MNIST models: set ACAI_DATA_DIR to a folder with mnist.npz")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(server + BOOKMARK)
    page.get_by_text("mnist32-acai at alpha 0.30").first.wait_for(timeout=90_000)
    _wait_idle(page)
    assert page.get_by_text("mnist32-baseline", exact=True).count() >= 1  # the comparison strip
    slider = page.locator("[data-testid='stSlider']", has_text="alpha (0 = A, 1 = B)")
    assert slider.get_by_test_id("stSliderThumbValue").inner_text() == "0.30"
    assert "a=test%3A3" in page.url and "b=test%3A7" in page.url and "alpha=0.30" in page.url

    # Play: the frames change in the browser, with no message to the server (how many per second is a figure
    # for bench/app_latency.py, not a test).
    sent = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda payload: sent.append(payload)))
    page.get_by_text("Play alpha").click()
    page.locator(".acai-player canvas").first.wait_for(timeout=30_000)
    _wait_idle(page)
    page.wait_for_timeout(500)
    messages, drawn, picture = len(sent), _drawn(page), page.locator(".acai-player canvas").first.evaluate(
        "canvas => canvas.toDataURL()")
    page.wait_for_timeout(2000)
    assert _drawn(page) - drawn >= 3
    assert page.locator(".acai-player canvas").first.evaluate("canvas => canvas.toDataURL()") != picture
    assert len(sent) == messages  # not one rerun while it played
    assert page.locator(".acai-player canvas").count() == 2  # the model and its comparison, in step
    page.screenshot(path=SHOTS / "8-playing.png")
    page.locator(".acai-player button").click()  # pause holds the frame
    held = page.locator(".acai-player").get_attribute("data-alpha")
    page.wait_for_timeout(500)
    assert page.locator(".acai-player").get_attribute("data-alpha") == held

    # Presentation mode at projector size: the same view, larger, without the gallery.
    page.goto(server + BOOKMARK + "&present=1")
    page.get_by_text("mnist32-acai at alpha 0.30").first.wait_for(timeout=90_000)
    _wait_idle(page)
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "20px"
    assert page.get_by_text("Choose endpoints from the test set").count() == 0
    page.screenshot(path=SHOTS / "9-presentation-1280x720.png")

    # A stale address: one notice, and the page works.
    page.goto(server + "/?model=gone&alpha=7")
    page.get_by_text("could not be used").wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"at alpha 0\.50")).first.wait_for(timeout=60_000)
    assert page.locator("[data-testid='stException']").count() == 0
    context.close()


def _strip_first_frame(page) -> str:
    """The src of the first frame of the first strip on Interpolate (the model's A end)."""
    return page.evaluate("""() => {
        const heading = [...document.querySelectorAll('h3')].find(h => h.innerText.startsWith('Strips'));
        const images = [...document.querySelectorAll('img')].filter(img =>
            heading.compareDocumentPosition(img) & Node.DOCUMENT_POSITION_FOLLOWING);
        return images.length ? images[0].src : '';
    }""")


def test_a_person_draws_an_endpoint_and_uses_it_as_a(server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(server)
    page.get_by_text(re.compile(r"at alpha 0\.50")).first.wait_for(timeout=90_000)
    _wait_idle(page)
    before = _strip_first_frame(page)
    drawer = page.locator("[data-testid='stExpander']", has_text="Draw an endpoint")
    drawer.locator("summary").click()
    surface = drawer.locator("canvas").last  # Fabric's upper canvas takes the mouse
    surface.wait_for(timeout=30_000)
    _wait_idle(page)  # the component's frame has loaded and sized itself
    drawn = page.get_by_text("as the model sees it")
    for attempt in range(3):  # as a person would: draw again when a stroke is not taken (a busy machine)
        surface.scroll_into_view_if_needed()
        box = surface.bounding_box()
        page.mouse.move(box["x"] + 150 + 20 * attempt, box["y"] + 50)  # a "1": one stroke down the middle
        page.mouse.down()
        for step in range(1, 19):
            page.mouse.move(box["x"] + 150 + 20 * attempt - step, box["y"] + 50 + 10 * step, steps=2)
        page.mouse.up()
        try:
            drawn.wait_for(timeout=30_000)
            break
        except sync_api.TimeoutError:
            page.screenshot(path=SHOTS / f"10-drawn-attempt-{attempt}.png", full_page=True)
    drawn.wait_for(timeout=1_000)
    _wait_idle(page)
    assert page.get_by_text("Nearest test images").count() == 1
    page.screenshot(path=SHOTS / "10-drawn.png", full_page=True)
    drawer.get_by_role("button", name="Use as A").click()
    _wait_idle(page)
    deadline = time.time() + 30
    while _strip_first_frame(page) == before and time.time() < deadline:
        page.wait_for_timeout(300)
    assert _strip_first_frame(page) != before  # the strip now starts from the drawing
    assert page.locator("[data-testid='stException']").count() == 0
    context.close()


def test_a_person_sets_a_vae_strip_beside_acai(server, browser):
    """Table 1's models are in the pickers: lines-acai with the VAE beside it, then the VQ-VAE as the model."""
    if not (ROOT / "pretrained" / "lines-vae" / "config.json").exists():
        pytest.skip("no lines-vae in pretrained/")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(server + "/?dataset=lines&model=lines-acai")
    page.get_by_text("lines-acai at alpha 0.50").first.wait_for(timeout=90_000)
    _wait_idle(page)
    page.locator("[data-testid='stSelectbox']", has_text="Compare with").click()
    page.get_by_role("option", name="lines-vae").click()
    _wait_idle(page)
    strip_label = page.locator("[data-testid='stMarkdownContainer'] strong", has_text=re.compile(r"^lines-vae$"))
    strip_label.wait_for(timeout=60_000)  # the VAE's strip, under ACAI's
    _wait_idle(page)
    assert "compare=lines-vae" in page.url
    strip_label.scroll_into_view_if_needed()  # the page scrolls inside Streamlit's main block
    page.screenshot(path=SHOTS / "11-acai-and-vae.png")
    model_picker = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text("Model", exact=True))
    model_picker.scroll_into_view_if_needed()
    model_picker.click()
    page.get_by_role("option", name="lines-vqvae").click()
    page.get_by_text(re.compile(r"^lines-vqvae at alpha 0\.50$")).first.wait_for(timeout=60_000)  # no critic
    _wait_idle(page)
    page.screenshot(path=SHOTS / "12-vqvae.png", full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    context.close()


def test_a_presenter_shows_all_models_at_once(server, browser):
    """compare=all: every kind of Table 1 on one pair, stacked in the paper's order, playing in step; and the same
    in presentation mode at projector size."""
    if not (ROOT / "pretrained" / "lines-vqvae" / "config.json").exists():
        pytest.skip("the Table 1 lines models are not in pretrained/")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    view = "/?page=interpolate&dataset=lines&model=lines-acai&compare=all&a=test:3&b=test:8"
    page.goto(server + view)
    page.get_by_text("lines-acai at alpha 0.50").first.wait_for(timeout=120_000)
    labels = page.locator(".st-key-strips [data-testid='stMarkdownContainer'] strong")
    labels.nth(7).wait_for(timeout=120_000)  # seven models and the pixel cross-fade
    _wait_idle(page)
    names = [label.inner_text() for label in labels.all()]
    assert names[:7] == ["lines-baseline", "lines-dropout", "lines-denoising", "lines-vae", "lines-aae",
                         "lines-vqvae", "lines-acai"], names
    assert page.get_by_text(re.compile(r"Mean Distance [\d.]+ × 10⁻³ · Smoothness")).count() == 7
    assert "compare=all" in page.url
    page.screenshot(path=SHOTS / "13-all-models.png", full_page=True)
    page.get_by_text("Play alpha").click()
    page.locator(".acai-player canvas").nth(6).wait_for(timeout=60_000)
    _wait_idle(page)
    assert page.locator(".acai-player canvas").count() == 7  # all in one player, in step
    drawn = _drawn(page)
    page.wait_for_timeout(1500)
    assert _drawn(page) > drawn
    page.screenshot(path=SHOTS / "14-all-models-playing.png")
    context.close()

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(server + view + "&present=1")
    page.get_by_text("lines-acai at alpha 0.50").first.wait_for(timeout=120_000)
    page.locator(".st-key-strips [data-testid='stMarkdownContainer'] strong").nth(7).wait_for(timeout=120_000)
    _wait_idle(page)
    page.screenshot(path=SHOTS / "15-all-models-presenting-1280x720.png")
    assert page.locator("[data-testid='stException']").count() == 0
    context.close()


def test_a_person_points_at_the_latent_scatter_and_sees_the_image(server, browser):
    """The Embedding Projector's hover: the test image under the pointer, drawn in the browser."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server + "/?page=latent")
    chart = page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first
    chart.wait_for(timeout=120_000)
    _wait_idle(page)
    page.wait_for_function("document.querySelector('.js-plotly-plot')._acaiHover !== undefined", timeout=30_000)
    box = chart.bounding_box()
    # Where Plotly drew the first point of the first trace, in page pixels, then a real mouse move onto it.
    x, y = page.evaluate("""() => {
        const chart = document.querySelector(".js-plotly-plot"), layout = chart._fullLayout, trace = chart._fullData[0];
        return [layout.xaxis._offset + layout.xaxis.d2p(trace.x[0]), layout.yaxis._offset + layout.yaxis.d2p(trace.y[0])];
    }""")
    page.mouse.move(box["x"] + x + 3, box["y"] + y + 3)
    page.mouse.move(box["x"] + x, box["y"] + y, steps=3)
    thumbnail = page.locator(".acai-hover")
    sync_api.expect(thumbnail).to_be_visible(timeout=10_000)
    assert int(thumbnail.get_attribute("data-shown")) >= 0
    assert thumbnail.locator(".caption").inner_text().startswith("#")
    page.screenshot(path=SHOTS / "17-latent-hover.png")
    page.mouse.move(5, 5)
    sync_api.expect(thumbnail).to_be_hidden(timeout=10_000)
    context.close()


def _saturation(png: bytes) -> int:
    """The largest difference between a pixel's colour channels (0 for a grey picture)."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)
    return int((pixels.max(axis=-1) - pixels.min(axis=-1)).max())


def test_a_person_uploads_colour_pictures_trains_and_sees_a_colour_strip(server, browser, tmp_path, colour_zip):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(server + "/?page=train")
    page.get_by_role("button", name="Start", exact=True).wait_for(timeout=90_000)
    _wait_idle(page)
    sidebar = page.locator("[data-testid='stSidebar']")
    sidebar.locator("[data-testid='stExpander']", has_text="Your images").locator("summary").click()
    (tmp_path / "pictures.zip").write_bytes(colour_zip(100, folder="pictures"))
    sidebar.locator("input[type=file]").set_input_files(str(tmp_path / "pictures.zip"))
    page.get_by_text(re.compile(r"100 images \(90 train, 10 test\), 32x32 RGB, 2 classes")).first.wait_for(
        timeout=60_000)
    _wait_idle(page)
    picker = page.locator("[data-testid='stSelectbox']", has_text="Dataset").locator("input").first
    sync_api.expect(picker).to_have_value("pictures.zip (yours)", timeout=30_000)  # the page switched to them
    batch = page.locator("[data-testid='stSlider']", has_text="Batch size").get_by_role("slider")
    batch.focus()
    batch.press("ArrowLeft")  # 64 -> 32: 90 training pictures hold two batches of 32
    _wait_idle(page)
    rate = page.locator("[data-testid='stSlider']", has_text="Learning rate").get_by_role("slider")
    rate.focus()
    for _ in range(2):
        rate.press("ArrowRight")  # 1e-4 -> 1e-3: 20 steps leave the grey start behind
    _wait_idle(page)
    page.get_by_role("button", name="Start", exact=True).click()
    page.locator("[data-testid='stMetric']", has_text="step").first.wait_for(timeout=90_000)
    deadline = time.time() + 180
    while _metric(page, "step") < 20 and time.time() < deadline:
        page.wait_for_timeout(500)
    assert _metric(page, "step") >= 20
    page.screenshot(path=SHOTS / "18-training-own-images.png", full_page=True)
    page.get_by_role("button", name="Pause").click()
    _wait_idle(page)
    page.locator("[data-testid='stExpander']", has_text="Save, download or load weights").locator("summary").click()
    save = page.get_by_role("button", name="Save to my models")
    sync_api.expect(save).to_be_enabled(timeout=30_000)
    save.click()
    page.get_by_text(re.compile(r"Saved my-model \(this session\) at step")).wait_for(timeout=60_000)
    page.get_by_role("link", name="Interpolate").click()
    page.get_by_text(re.compile(r"at alpha 0\.50")).first.wait_for(timeout=90_000)
    _wait_idle(page)

    def pixels(index: int) -> bytes:  # A, B, the mix, then the strip: the frames come inline, as data: URLs
        source = page.get_by_role("img").nth(index).get_attribute("src")
        if source.startswith("data:image/png;base64,"):
            return base64.b64decode(source.partition(",")[2])
        return page.request.get(source if source.startswith("http") else server + source).body()

    assert _saturation(pixels(0)) > 100  # the endpoint A, a picture of the upload, in colour
    assert _saturation(pixels(3)) > 30  # the decoded strip is in colour too
    page.screenshot(path=SHOTS / "19-own-images-interpolate.png", full_page=True)
    assert page.locator("[data-testid='stException']").count() == 0
    context.close()


def test_a_person_replays_a_recorded_race_and_scrubs_it_without_the_server(server, browser, tmp_path):
    import numpy as np

    from acai import lines, recording

    rng = np.random.default_rng(0)
    steps = recording.schedule(2_000, 12)
    angles = rng.uniform(0, 2 * np.pi, (len(steps), 2, 9))  # a different line in every frame of every step
    frames = ((lines.render_lines(angles.reshape(-1)) + 1) * 127.5).astype(np.uint8).reshape(len(steps), 2, 9, 32, 32, 1)
    recorded = recording.Recording(
        steps, {"acai": frames, "baseline": frames[:, ::-1].copy()},
        {"acai": rng.random((len(steps), 2, 9), dtype=np.float32),
         "baseline": rng.random((len(steps), 2, 9), dtype=np.float32)},
        frames[0, :, [0, -1]].transpose(1, 0, 2, 3, 4).copy(), np.linspace(0, 1, 9, dtype=np.float32),
        {side: {"mean_distance": np.stack([steps, np.geomspace(0.04, 0.001 if side == "acai" else 0.01, len(steps))], 1)}
         for side in recording.SIDES},
        {"machine": "a test machine", "wall_seconds": 4000.0, "total_steps": 2000, "dataset": "lines",
         "metric": "mean_distance"})
    recording.write(tmp_path / "race.npz", recorded)
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    sent = []
    page.on("websocket", lambda socket: socket.on("framesent", lambda payload: sent.append(payload)))
    page.goto(server + "/?page=race")
    page.get_by_role("button", name="Start", exact=True).wait_for(timeout=90_000)
    _wait_idle(page)
    section = page.locator("[data-testid='stExpander']", has_text="Replay a recorded race")
    section.locator("summary").click()
    section.locator("input[type=file]").set_input_files(str(tmp_path / "race.npz"))
    player = page.locator(".acai-replay")
    player.wait_for(timeout=60_000)
    page.get_by_text("Recorded, not live: 2,000 steps of lines in 1.1 h").wait_for(timeout=30_000)
    _wait_idle(page)
    sync_api.expect(player).not_to_have_attribute("data-drawn", "0", timeout=30_000)  # (it lives in a shadow root)
    canvas = player.locator("canvas").first
    before_pixels = canvas.evaluate("c => c.toDataURL()")
    messages = len(sent)
    scrubber = player.locator(".scrubber")
    scrubber.focus()
    for _ in range(5):
        scrubber.press("ArrowRight")
    sync_api.expect(player).to_have_attribute("data-index", "5", timeout=10_000)
    assert int(player.get_attribute("data-step")) == int(steps[5])
    assert canvas.evaluate("c => c.toDataURL()") != before_pixels  # the strip follows the scrubber
    player.locator(".toggle").click()  # play through the remaining steps
    sync_api.expect(player).to_have_attribute("data-index", str(len(steps) - 1), timeout=30_000)
    page.screenshot(path=SHOTS / "20-replay.png", full_page=True)
    assert len(sent) == messages  # scrubbing and playing sent nothing to the server
    context.close()
