"""Interpolate: pick two images, slide alpha, compare ACAI with the plain autoencoder and a cross-fade."""

from __future__ import annotations

import numpy as np
import streamlit as st

from acai import images, interpolation
from explorer import compute, state, widgets

GALLERY_SIZE = 12


def _pick_models(data):
    entries = state.require_entries(data)
    left, right, method_column, steps_column = st.columns([3, 3, 2, 2])
    with left:
        main = widgets.model_picker(entries, "Model", key=f"interp_model/{data.name}", kind="acai")
    with right:
        others = [entry for entry in entries if entry.key != main.key]
        other = widgets.model_picker(others, "Compare with", key=f"interp_compare/{data.name}",
                                     kind="baseline", allow_none=True)
    with method_column:
        method = st.segmented_control("Path", ["lerp", "slerp"], default="lerp", key="interp_method") or "lerp"
    with steps_column:
        steps = st.slider("Frames", 5, 12, 8, key="interp_steps")
    return main, other, method, steps


def _gallery(data) -> None:
    pages = state.session().gallery_page
    page = pages.setdefault(data.name, 0)
    start = (page * GALLERY_SIZE) % len(data.x_test)
    indices = [(start + offset) % len(data.x_test) for offset in range(GALLERY_SIZE)]
    columns = st.columns(GALLERY_SIZE // 2)
    for position, index in enumerate(indices):
        with columns[position % len(columns)]:
            widgets.frame(data.x_test[index], f"#{index} · {data.class_names[data.y_test[index]]}", scale=2)
            a, b = st.columns(2)
            if a.button("A", key=f"pick_a_{index}", width="stretch", help="use as the first endpoint"):
                state.set_endpoint(data, 0, ("test", index))
                st.rerun()
            if b.button("B", key=f"pick_b_{index}", width="stretch", help="use as the second endpoint"):
                state.set_endpoint(data, 1, ("test", index))
                st.rerun()
    if st.button("More images", key="gallery_next"):
        pages[data.name] = page + 1
        st.rerun()


def _upload(data) -> None:
    upload = st.file_uploader("Your own image (PNG or JPEG, any size; fitted to 32x32 grayscale)",
                              type=["png", "jpg", "jpeg"], key="upload")
    if upload is None:
        return
    try:
        image = images.fit_upload(upload.getvalue())
    except images.ImageError as error:
        st.error(f"Could not use {upload.name}: {error}")
        return
    preview, a, b = st.columns([1, 1, 1])
    with preview:
        widgets.frame(image, "as the model sees it", scale=2)
    if a.button("Use as A", key="upload_a"):
        state.set_endpoint(data, 0, ("upload", image))
        st.rerun()
    if b.button("Use as B", key="upload_b"):
        state.set_endpoint(data, 1, ("upload", image))
        st.rerun()


def _critic_captions(critic: np.ndarray, alphas: np.ndarray) -> list[str]:
    return [f"t={t:.2f} · d={value:.2f}" for t, value in zip(alphas, critic)]


def render() -> None:
    st.title("Interpolate")
    st.caption("Decode a path between two images in latent space. The critic's estimate d of the mixing "
               "coefficient is printed under each frame: 0 means it looks like a real image.")
    data = widgets.dataset_picker(key="interp_dataset")
    main, other, method, steps = _pick_models(data)
    networks = state.networks_for(main)

    first_endpoint, second_endpoint = state.endpoints(data)
    first, second = state.endpoint_image(data, first_endpoint), state.endpoint_image(data, second_endpoint)

    first_column, second_column, mix_column, controls = st.columns([1, 1, 3, 2])
    with first_column:
        widgets.frame(first, "A", scale=3)
    with second_column:
        widgets.frame(second, "B", scale=3)
    with controls:
        alpha = st.slider("alpha (0 = A, 1 = B)", 0.0, 1.0, 0.5, 0.01, key="alpha")
        if st.button("Random pair", key="random_pair", width="stretch"):
            rng = np.random.default_rng()
            a, b = rng.choice(len(data.x_test), size=2, replace=False)
            state.set_endpoint(data, 0, ("test", int(a)))
            state.set_endpoint(data, 1, ("test", int(b)))
            st.rerun()
        if st.button("Swap A and B", key="swap", width="stretch"):
            state.set_endpoint(data, 0, second_endpoint)
            state.set_endpoint(data, 1, first_endpoint)
            st.rerun()
    with mix_column:
        frame, critic = compute.mix(main.key, networks, first, second, alpha, method)
        widgets.frame(frame, f"{main.label} at alpha {alpha:.2f} · critic {critic:.3f}", scale=8)

    st.subheader("Strips")
    rows, labels = [], []
    frames, critic = compute.strip(main.key, networks, first, second, steps, method)
    alphas = np.linspace(0, 1, steps)
    st.markdown(f"**{main.label}**")
    widgets.frames_row(frames, _critic_captions(critic, alphas))
    rows.append(frames), labels.append(main.label)
    if other is not None:
        other_frames, other_critic = compute.strip(other.key, state.networks_for(other), first, second, steps, method)
        st.markdown(f"**{other.label}**")
        widgets.frames_row(other_frames, _critic_captions(other_critic, alphas))
        rows.append(other_frames), labels.append(other.label)
    fade = interpolation.pixel_crossfade(first, second, alphas)
    st.markdown("**Pixel cross-fade** (for contrast: what interpolation in pixel space looks like)")
    fade_critic = interpolation.critic_alpha(networks, fade)
    widgets.frames_row(fade, _critic_captions(fade_critic, alphas))
    rows.append(fade), labels.append("pixel cross-fade")

    png, gif = compute.downloads(np.stack(rows), frames)
    png_column, gif_column, _ = st.columns([1, 1, 2])
    png_column.download_button("Download strips (PNG)", png, "acai_strips.png", mime="image/png", key="download_png")
    gif_column.download_button("Download animation (GIF)", gif, "acai_interpolation.gif", mime="image/gif",
                               key="download_gif")
    st.caption("PNG rows, top to bottom: " + ", ".join(labels))

    with st.expander("2-D grid between four images", expanded=False):
        corners = state.session().grid_corners
        if data.name not in corners or st.button("New corners C and D", key="grid_reroll"):
            corners[data.name] = np.random.default_rng().choice(len(data.x_test), 2, replace=False).tolist()
        c, d = corners[data.name]
        size = st.slider("Frames per side", 3, 9, 6, key="grid_size")
        corners = np.stack([first, second, data.x_test[c], data.x_test[d]])
        mosaic = images.tile(compute.grid(main.key, networks, corners, size))
        st.image(images.png_bytes(mosaic, scale=3), caption="corners: A top-left, B top-right, "
                 f"#{c} bottom-left, #{d} bottom-right", width=min(640, 110 * size))

    with st.expander("Choose endpoints from the test set", expanded=True):
        _gallery(data)
    with st.expander("Upload an image", expanded=False):
        _upload(data)
