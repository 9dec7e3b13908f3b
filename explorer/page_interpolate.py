"""Interpolate: pick two images, slide alpha, compare ACAI with the plain autoencoder and a cross-fade."""

from __future__ import annotations

import numpy as np
import streamlit as st

from acai import drawing, images, interpolation, models
from explorer import address, compute, player, presentation, session, widgets
from explorer.state import Notices

GALLERY_SIZE = 12
FIRST_CORNERS_SEED = 2018  # the 2-D grid's C and D until a visitor asks for new ones
DRAWING_SIZE = 280  # CSS pixels: ten canvas pixels to a pixel of the 28x28 field
BIG_SCALE = 8  # the big mix: 32 pixels -> 256


def _pick_models(entries):
    left, right, method_column, steps_column = st.columns([3, 3, 2, 2])
    data_name = entries[0].config.dataset
    with left:
        main = widgets.model_picker(entries, "Model", key=f"interp_model/{data_name}", kind="acai")
    with right:
        others = [entry for entry in entries if entry.key != main.key]
        other = widgets.model_picker(others, "Compare with", key=f"interp_compare/{data_name}",
                                     kind="baseline", allow_none=True, allow_all=bool(others))
    with method_column:
        method = st.segmented_control("Path", address.PATHS, default="lerp", key="interp_method") or "lerp"
    with steps_column:
        steps = st.slider("Frames", *address.FRAMES_RANGE, 8, key="interp_steps")
    return main, other, method, steps


def _restore_view(request: dict[str, str], data, entries, notices: Notices) -> None:
    """Set the controls and endpoints from the opening address (see explorer.address)."""
    address.restore_model(request, "model", entries, f"interp_model/{data.name}", notices)
    address.restore_model(request, "compare", entries, f"interp_compare/{data.name}", notices, allow_none=True)
    for name, key, parse in (("alpha", "alpha", address.parse_alpha), ("frames", "interp_steps", address.parse_frames),
                             ("path", "interp_method", lambda text: address.parse_choice(text, address.PATHS))):
        if name in request:
            try:
                address.preset_widget(key, parse(request[name]))
            except address.BadValue as error:
                notices.add(name, request[name], str(error))
    for which, name in enumerate(("a", "b")):
        if name in request:
            try:
                session.set_endpoint(data, which, ("test", address.parse_test_image(request[name], len(data.x_test))))
            except address.BadValue as error:
                notices.add(name, request[name], str(error))


def _gallery(data) -> None:
    pages = session.current().gallery_page
    page = pages.setdefault(data.name, 0)
    start = (page * GALLERY_SIZE) % len(data.x_test)
    shown = min(GALLERY_SIZE, len(data.x_test))  # a small test split (the visitor's images) shows each once
    indices = [(start + offset) % len(data.x_test) for offset in range(shown)]
    columns = st.columns(GALLERY_SIZE // 2)
    for position, index in enumerate(indices):
        with columns[position % len(columns)]:
            widgets.frame(data.x_test[index], f"#{index} · {data.class_names[data.y_test[index]]}", scale=2)
            a, b = st.columns(2)
            if a.button("A", key=f"pick_a_{index}", width="stretch", help="use as the first endpoint"):
                session.choose_endpoints(data, (0, ("test", index)))
            if b.button("B", key=f"pick_b_{index}", width="stretch", help="use as the second endpoint"):
                session.choose_endpoints(data, (1, ("test", index)))
    if st.button("More images", key="gallery_next"):
        pages[data.name] = page + 1
        st.rerun()


def _upload(data) -> None:
    framing = ("centre-cropped to a square and resized to 32x32, " + ("colour" if data.channels == 3 else "grey")
               if data.name not in images.INK_DATASETS else "framed as the dataset's images were, 32x32 grayscale")
    upload = st.file_uploader(f"Your own image (PNG, JPEG, WebP or BMP, {images.LIMITS}; {framing})",
                              type=["png", "jpg", "jpeg", "webp", "bmp"], key="upload")
    if upload is None:
        return
    try:
        image = images.fit_upload(upload.getvalue(), data.name, data.channels)
    except images.ImageError as error:
        st.error(f"Could not use {upload.name}: {error}")
        return
    preview, a, b = st.columns([1, 1, 1])
    with preview:
        widgets.frame(image, "as the model sees it", scale=2)
    if a.button("Use as A", key="upload_a"):
        session.choose_endpoints(data, (0, ("upload", image)))
    if b.button("Use as B", key="upload_b"):
        session.choose_endpoints(data, (1, ("upload", image)))


def _draw(data, main, networks) -> None:
    """A canvas for drawing an endpoint: the drawing as the model sees it, its reconstruction, its nearest
    test images, and Use as A / Use as B. Undo, redo and clear are the canvas's own toolbar."""
    # Imported here: the component registers its files from its package's manifest, which Streamlit reads
    # only once its runtime runs (importing it anywhere else raises).
    from streamlit_drawable_canvas import st_canvas

    canvas_column, result_column = st.columns([1, 2])
    with canvas_column:
        canvas = st_canvas(stroke_width=12 if data.name == "lines" else 20, stroke_color="#ffffff",
                           background_color="#000000", height=DRAWING_SIZE, width=DRAWING_SIZE,
                           key=f"draw/{data.name}", return_image_data=True)
    with result_column:
        strokes = (canvas.json_data or {}).get("objects", [])
        if canvas.image_data is None or not strokes:
            st.caption("Draw with the mouse or a finger: white on black, as the datasets are. "
                       + ("A stroke becomes the dataset's line in its direction." if data.name == "lines" else
                          "It is cropped, scaled into a 20-pixel box and centred as MNIST's digits were."))
            return
        try:
            image = drawing.to_model_input(canvas.image_data, data.name)
        except drawing.DrawingError as error:
            st.info(str(error)[0].upper() + str(error)[1:] + ".")
            return
        reconstruction, nearest = compute.drawn(main.key, networks, data.name, data.x_test, image)
        widgets.frames_row(np.stack([image, reconstruction]),
                           ["as the model sees it", f"{main.label}'s reconstruction"], scale=3)
        st.markdown("Nearest test images")
        widgets.frames_row(data.x_test[nearest], [f"#{index}" for index in nearest], scale=2)
        a, b = st.columns(2)
        if a.button("Use as A", key="drawn_a", width="stretch"):
            session.choose_endpoints(data, (0, ("upload", image)))
        if b.button("Use as B", key="drawn_b", width="stretch"):
            session.choose_endpoints(data, (1, ("upload", image)))


def lineup(entries, main) -> list:
    """The All-models view's rows: one model per kind in the paper's Table 1 order (the chosen model for its
    own kind, the first listed otherwise), then models of kinds outside the table."""
    chosen = {main.kind: main}
    for entry in entries:
        chosen.setdefault(entry.kind, entry)
    return sorted(chosen.values(), key=lambda entry: (models.table_position(entry.kind), entry.label))


def card_figures(entry) -> str:
    """The model card's lines benchmark, e.g. "Mean Distance 1.16 × 10⁻³ · Smoothness 0.09"."""
    measured = dict(entry.metrics)
    if "mean_distance" not in measured:
        return "lines benchmark not measured" if entry.config.dataset == "lines" else ""
    smoothness = measured.get("smoothness", float("nan"))
    return (f"Mean Distance {measured['mean_distance'] * 1e3:.2f} × 10⁻³ · Smoothness "
            + (f"{smoothness:.2f}" if np.isfinite(smoothness) else "undefined (every frame alike)"))


def _critic_captions(critic: np.ndarray, alphas: np.ndarray) -> list[str]:
    """t and the critic's d under each frame (t alone for a model without a critic)."""
    return [f"t={t:.2f}" + ("" if np.isnan(value) else f" · d={value:.2f}") for t, value in zip(alphas, critic)]


def _controls(data, first_endpoint, second_endpoint) -> None:
    if st.button("Random pair", key="random_pair", width="stretch"):
        rng = np.random.default_rng()
        a, b = rng.choice(len(data.x_test), size=2, replace=False)
        session.choose_endpoints(data, (0, ("test", int(a))), (1, ("test", int(b))))
    if st.button("Swap A and B", key="swap", width="stretch"):
        session.choose_endpoints(data, (0, second_endpoint), (1, first_endpoint))


def lineup_rest(main, other) -> list:
    """Who plays beside `main`: `other`, or with All models every other model of the lineup."""
    if other != widgets.ALL_MODELS:
        return [other]
    return [entry for entry in lineup(session.entries_for(main.config.dataset), main) if entry != main]


def _mix_caption(entry, alpha: float, critic: float) -> str:
    return f"{entry.label} at alpha {alpha:.2f}" + ("" if np.isnan(critic) else f" · critic {critic:.3f}")


def _play(shown, first, second, method: str, seconds: float, size: int) -> None:
    """Play alpha for every model of `shown`, in step, in the browser."""
    rows = [(entry.label, *compute.strip(entry.key, session.networks_for(entry), first, second, player.FRAMES,
                                         method)) for entry in shown]
    player.alpha_player(rows, np.linspace(0, 1, player.FRAMES), seconds, size, key="alpha_player")


@st.fragment
def _mix(main, other, first, second, method: str, present: bool, view: dict) -> None:
    """The alpha slider and the big mix (or the player): moving alpha reruns only this, not the page.

    The slider comes first, then the model: on a visitor's first visit the controls are on screen while
    TensorFlow and the model load behind the spinner."""
    mix_column, controls = st.columns([3, 1.4] if present else [3, 2])
    with controls:
        alpha = st.slider("alpha (0 = A, 1 = B)", 0.0, 1.0, 0.5, 0.01, key="alpha")
        playing = st.toggle("Play alpha", key="play",
                            help="Sweep A → B → A in the browser, smoothly, with no round trip to the server")
        if playing:
            seconds = st.slider("Seconds from A to B", 1.0, 8.0, 2.5, 0.5, key="play_seconds")
    everyone = other == widgets.ALL_MODELS
    shown = [main] + ([] if other is None else lineup_rest(main, other))
    with mix_column:
        networks = session.networks_for(main)  # on a cache miss, behind a spinner
        if playing and not everyone:
            _play(shown, first, second, method, seconds, 640 if present else 420)
        elif everyone and not playing:  # every model at this alpha: the paper's Figure 3, one column of it
            mixes = [compute.mix(entry.key, session.networks_for(entry), first, second, alpha, method)
                     for entry in shown]
            widgets.frames_row(np.stack([frame for frame, _ in mixes]),
                               [_mix_caption(entry, alpha, critic) for entry, (_, critic) in zip(shown, mixes)],
                               scale=5 if present else 4)
        elif everyone:
            st.caption("Every model plays below, in step.")
        else:
            picture, critic = compute.mix_picture(main.key, networks, first, second, alpha, method, BIG_SCALE)
            widgets.frame(picture, _mix_caption(main, alpha, critic))
    if playing and everyone:  # the whole width: seven models in two rows
        _play(shown, first, second, method, seconds, 260 if present else 200)
    address.publish({**view, "alpha": f"{alpha:.2f}"})


def render() -> None:
    present = presentation.is_on()
    request, notices = address.take_request("interpolate"), address.notices()
    st.title("Interpolate")
    if not present:
        st.caption("Decode a path between two images in latent space. The critic's estimate d of the mixing "
                   "coefficient is printed under each frame: 0 means it looks like a real image. Only ACAI models "
                   "(and their lambda-0 baselines) train a critic; the other autoencoders show none. A VAE's path "
                   "runs between the means of its posterior, not random samples.")
    settings = st.expander("Settings: dataset, models, path, frames") if present else st.container()
    with settings:
        address.restore_dataset(request, "interp_dataset", notices)
        data = widgets.dataset_picker(key="interp_dataset")
        entries = session.require_entries(data)
        if request:
            _restore_view(request, data, entries, notices)
        main, other, method, steps = _pick_models(entries)
    address.show_notices(notices)

    first_endpoint, second_endpoint = session.endpoints(data)
    first, second = session.endpoint_image(data, first_endpoint), session.endpoint_image(data, second_endpoint)
    ends, mix_area = st.columns([1.4, 5] if present else [2, 5])
    with ends:
        first_column, second_column = st.columns(2)
        with first_column:
            widgets.frame(first, "A", scale=3)
        with second_column:
            widgets.frame(second, "B", scale=3)
        _controls(data, first_endpoint, second_endpoint)
    compare = {None: address.NO_MODEL, widgets.ALL_MODELS: address.ALL_MODELS}.get(other)
    view = {"page": "interpolate", "dataset": data.name, "model": main.label,
            "compare": compare or other.label,
            "a": address.format_endpoint(first_endpoint), "b": address.format_endpoint(second_endpoint),
            "path": method, "frames": steps}
    with mix_area:
        _mix(main, other, first, second, method, present, view)
    networks = session.networks_for(main)

    alphas = np.linspace(0, 1, steps)
    scale = widgets.fitting_scale(steps, 1060 if present else 800)
    if other == widgets.ALL_MODELS:
        st.subheader("All models")
        st.caption("One model per kind, in the order of the paper's Table 1, on the same endpoints (the paper's "
                   "Figure 3). Beside each name: its lines benchmark from its model card (lower is better).")
        shown = lineup(entries, main)
    else:
        st.subheader("Strips")
        shown = [main] + ([] if other is None else [other])
    rows, labels = [], []
    with st.container(key="strips"):
        for entry in shown:
            entry_frames, entry_critic = compute.strip(entry.key, session.networks_for(entry), first, second, steps,
                                                       method)
            st.markdown(f"**{entry.label}**" + (f" · {card_figures(entry)}" if other == widgets.ALL_MODELS
                                               and card_figures(entry) else ""))
            widgets.frames_row(entry_frames, _critic_captions(entry_critic, alphas), scale)
            rows.append(entry_frames), labels.append(entry.label)
        frames = rows[shown.index(main)]  # the chosen model's strip: the GIF's
        fade = interpolation.pixel_crossfade(first, second, alphas)
        st.markdown("**Pixel cross-fade** (for contrast: what interpolation in pixel space looks like)")
        fade_critic = interpolation.critic_alpha(networks, fade)
        widgets.frames_row(fade, _critic_captions(fade_critic, alphas), scale)
        rows.append(fade), labels.append("pixel cross-fade")
    drawable = data.name in images.INK_DATASETS  # light strokes on dark: not photographs
    if present:  # no gallery, upload, grid or downloads; but someone from the room may draw
        if drawable:
            with st.expander("Draw an endpoint", expanded=False):
                _draw(data, main, networks)
        return

    png, gif = compute.downloads(np.stack(rows), frames)
    png_column, gif_column, _ = st.columns([1, 1, 2])
    png_column.download_button("Download strips (PNG)", png, "acai_strips.png", mime="image/png", key="download_png")
    gif_column.download_button("Download animation (GIF)", gif, "acai_interpolation.gif", mime="image/gif",
                               key="download_gif")
    st.caption("PNG rows, top to bottom: " + ", ".join(labels))

    with st.expander("2-D grid between four images", expanded=False):
        corners = session.current().grid_corners
        if st.button("New corners C and D", key="grid_reroll"):
            corners[data.name] = np.random.default_rng().choice(len(data.x_test), 2, replace=False).tolist()
        elif data.name not in corners:  # the same first corners for everyone: one decode and PNG for a room
            corners[data.name] = np.random.default_rng(FIRST_CORNERS_SEED).choice(len(data.x_test), 2,
                                                                                   replace=False).tolist()
        c, d = corners[data.name]
        size = st.slider("Frames per side", 3, 9, 6, key="grid_size")
        corners = np.stack([first, second, data.x_test[c], data.x_test[d]])
        mosaic = images.tile(compute.grid(main.key, networks, corners, size))
        st.image(compute.mosaic_png(mosaic, 3), caption="corners: A top-left, B top-right, "
                 f"#{c} bottom-left, #{d} bottom-right", width=min(640, 110 * size))

    with st.expander("Choose endpoints from the test set", expanded=True):
        _gallery(data)
    if drawable:
        with st.expander("Draw an endpoint", expanded=False):
            _draw(data, main, networks)
    with st.expander("Upload an image", expanded=False):
        _upload(data)
