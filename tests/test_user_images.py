"""The user's own images as a dataset: folders, zips and .npz files the tests generate, the named colour datasets
(CIFAR-10's binary version, SVHN's .mat files) on tiny files in their official formats, and hostile input."""

import io
import json
import shutil
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from acai import images, user_images
from acai.config import Config
from acai.data import BatchSampler, DatasetError, load_dataset
from acai.user_images import ImagesError, Limits, load_images

FORMATS = ("png", "jpg", "webp", "bmp")


def _write_folder(root, labelled=True, per_class=15, colour=True, seed=0):
    """Pictures of many sizes in PNG, JPEG, WebP and BMP (every fourth grey), a text file and a corrupt PNG."""
    rng = np.random.default_rng(seed)
    for label in ("apples", "pears") if labelled else ("",):
        folder = root / label
        folder.mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            width, height = int(rng.integers(16, 120)), int(rng.integers(16, 120))
            pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
            picture = Image.fromarray(pixels) if colour and k % 4 else Image.fromarray(pixels[..., 0])
            picture.save(folder / f"{label or 'img'}{k:03d}.{FORMATS[k % 4]}")
    (root / "README.txt").write_text("not a picture")
    (root / ("apples" if labelled else "") / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (root / ".DS_Store").write_bytes(b"\0\1")
    return root


def _zip_folder(folder, path):
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, f"{folder.name}/{file.relative_to(folder).as_posix()}")
    return path


def test_a_labelled_folder_of_mixed_pictures_becomes_a_colour_dataset(tmp_path):
    folder = _write_folder(tmp_path / "fruit")
    loaded = load_images(folder)
    assert loaded.x_train.shape[1:] == (32, 32, 3) and loaded.x_train.dtype == np.uint8
    assert len(loaded.x_train) + len(loaded.x_test) == 30 and len(loaded.x_test) == 3  # 10% held out
    assert loaded.class_names == ("apples", "pears")
    assert sorted(np.concatenate([loaded.y_train, loaded.y_test]).tolist()) == [0] * 15 + [1] * 15
    assert loaded.source["skipped"] == 2  # README.txt and broken.png; .DS_Store is ignored without a word
    assert [name.split(" ")[0] for name in loaded.source["skipped_names"]] == ["README.txt", "apples/broken.png"]
    line = user_images.summary(loaded.source)
    assert "30 images (27 train, 3 test), 32x32 RGB, 2 classes" in line and "2 skipped" in line
    assert "centre-cropped to a square and resized to 32x32" in line
    assert "grey images converted to colour" in line  # said once


def test_the_same_folder_as_a_zip_gives_the_same_images(tmp_path):
    folder = _write_folder(tmp_path / "fruit")
    from_folder = load_images(folder)
    from_zip = load_images(_zip_folder(folder, tmp_path / "fruit.zip"))
    np.testing.assert_array_equal(from_folder.x_train, from_zip.x_train)
    np.testing.assert_array_equal(from_folder.y_test, from_zip.y_test)
    assert from_zip.source["kind"] == "zip" and from_zip.source["sha256"] == from_folder.source["sha256"]
    assert from_zip.class_names == ("apples", "pears")  # the zip's one top folder is looked through
    (folder / "pears" / "pears001.jpg").rename(folder / "stray.jpg")  # an image outside the sub-folders: no labels
    assert load_images(folder).class_names is None


def test_a_flat_grey_folder_has_no_labels_and_one_channel(tmp_path):
    folder = _write_folder(tmp_path / "flat", labelled=False, colour=False, per_class=40)
    dataset = load_dataset(str(folder))
    assert dataset.channels == 1 and not dataset.labelled and dataset.title == "flat"
    assert dataset.x_train.min() >= -1 and dataset.x_train.max() <= 1 and dataset.x_train.dtype == np.float32
    assert len(dataset.x_test) == 4 and set(dataset.y_train.tolist()) == {0}


def test_centre_crop_keeps_the_middle_of_a_wide_picture():
    wide = np.zeros((40, 120, 3), np.uint8)
    wide[:, 40:80] = (255, 0, 0)  # a red middle square, blue-black sides
    buffer = io.BytesIO()
    Image.fromarray(wide).save(buffer, format="PNG")
    pixels, colour = user_images.decode(buffer.getvalue())
    assert colour and pixels.shape == (32, 32, 3)
    assert pixels[..., 0].min() > 200 and pixels[..., 1:].max() < 30  # all of it is the red middle


def test_an_npz_in_the_keras_layout_with_and_without_a_test_split(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "both.npz", x_train=rng.integers(0, 256, (40, 48, 48, 3), dtype=np.uint8),
             y_train=np.arange(40) % 4, x_test=rng.integers(0, 256, (8, 48, 48, 3), dtype=np.uint8),
             y_test=np.arange(8) % 4)
    loaded = load_images(tmp_path / "both.npz")
    assert loaded.x_train.shape == (40, 32, 32, 3) and loaded.x_test.shape == (8, 32, 32, 3)
    assert loaded.class_names == ("0", "1", "2", "3")
    np.savez(tmp_path / "train_only.npz", x_train=rng.integers(0, 256, (50, 32, 32), dtype=np.uint8))
    alone = load_images(tmp_path / "train_only.npz", seed=3)
    assert alone.x_train.shape == (45, 32, 32, 1) and alone.x_test.shape == (5, 32, 32, 1)
    assert alone.class_names is None


@pytest.mark.parametrize("arrays, message", [
    ({"x_train": np.zeros((10, 32, 32), np.float32)}, "uint8"),
    ({"x_train": np.zeros((10, 32), np.uint8)}, "shape"),
    ({"x_train": np.zeros((10, 32, 32, 2), np.uint8)}, "shape"),
    ({"images": np.zeros((10, 32, 32), np.uint8)}, "no x_train"),
    ({"x_train": np.zeros((10, 32, 32), np.uint8), "y_train": np.zeros(9, np.int64)}, "one per image"),
    ({"x_train": np.zeros((10, 32, 32), np.uint8), "y_train": np.zeros(10)}, "integers"),
])
def test_an_npz_of_the_wrong_shape_or_dtype_is_refused_with_a_message(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ImagesError, match=message):
        load_images(tmp_path / "bad.npz")


def test_an_npz_claiming_a_huge_array_is_refused_from_its_header(tmp_path):
    """The header says 10^9 images; nothing is read beyond it."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "|u1", "fortran_order": False,
                                                  "shape": (1_000_000_000, 32, 32)})
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        archive.writestr("x_train.npy", b"\x93NUMPY\x01\x00"[:0] + header.getvalue() + b"\0" * 1024)
    with pytest.raises(ImagesError, match="limit"):
        load_images(tmp_path / "huge.npz")


def test_names_pointing_outside_the_archive_refuse_it(tmp_path):
    with zipfile.ZipFile(tmp_path / "escape.zip", "w") as archive:
        archive.writestr("ok.png", b"x")
        archive.writestr("../../etc/evil.png", b"x")
    with pytest.raises(ImagesError, match="outside the archive"):
        load_images(tmp_path / "escape.zip")
    assert not (tmp_path.parent / "etc").exists()


def test_a_zip_bomb_stops_at_the_limit(tmp_path):
    """Each member inflates to 64 MiB of zeros from a few hundred kB; a member is read only up to the per-file
    limit (skipped, named) and the whole archive only up to the unpacked limit."""
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for k in range(6):
            archive.writestr(f"bomb{k}.png", b"\0" * (64 << 20))
    small = Limits(file_bytes=1 << 20, unpacked_bytes=3 << 20)
    with pytest.raises(ImagesError, match="unpack to over 3 MiB"):
        load_images(tmp_path / "bomb.zip", limits=small)
    with pytest.raises(ImagesError, match="over 1 MiB"):
        load_images(tmp_path / "bomb.zip", limits=Limits(file_bytes=1 << 20))


def test_limits_on_archive_size_pixels_and_count(tmp_path):
    folder = _write_folder(tmp_path / "fruit", per_class=10)
    archive = _zip_folder(folder, tmp_path / "fruit.zip")
    with pytest.raises(ImagesError, match="MiB; the limit"):
        load_images(archive, limits=Limits(archive_bytes=1000))
    with pytest.raises(ImagesError, match="more than 5 images"):
        load_images(folder, limits=Limits(images=5))
    few_pixels = load_images(folder, limits=Limits(image_pixels=60 * 60))  # the larger pictures are skipped
    assert few_pixels.source["skipped"] > 1 and "megapixels" in " ".join(few_pixels.source["skipped_names"])


def test_too_few_images_and_fewer_than_two_batches_have_clear_messages(tmp_path):
    (tmp_path / "one").mkdir()
    Image.new("RGB", (40, 40), "red").save(tmp_path / "one" / "only.png")
    with pytest.raises(DatasetError, match="at least two"):
        load_dataset(str(tmp_path / "one"))
    dataset = load_dataset(str(_write_folder(tmp_path / "fruit", per_class=10)))
    with pytest.raises(DatasetError, match="fewer than two batches of 64.*at most 8"):
        BatchSampler(dataset, 64, seed=0)
    BatchSampler(dataset, 8, seed=0)


def test_a_typo_is_not_taken_for_a_path_and_the_message_says_what_is_accepted():
    with pytest.raises(ValueError, match="a folder, a .zip of one, or a .npz"):
        Config(dataset="mnst")
    assert Config(dataset="./photos").dataset == "./photos"
    assert Config(dataset="cifar10", channels=3).channels == 3
    with pytest.raises(ValueError, match="channels"):
        Config(channels=2)


def _cifar_records(count, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, count, dtype=np.uint8)
    planes = rng.integers(0, 256, (count, 3, 32, 32), dtype=np.uint8)
    return labels, planes, np.concatenate([labels[:, None], planes.reshape(count, -1)], axis=1).tobytes()


def test_cifar10_from_its_official_binary_version(tmp_path):
    """cifar-10-binary.tar.gz: records of a label byte then the R, G and B planes of 32x32."""
    expected = {}
    with tarfile.open(tmp_path / "cifar-10-binary.tar.gz", "w:gz") as archive:
        for k, name in enumerate([f"data_batch_{b}.bin" for b in range(1, 6)] + ["test_batch.bin"]):
            labels, planes, raw = _cifar_records(3, k)
            expected[name] = (labels, planes)
            member = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            member.size = len(raw)
            archive.addfile(member, io.BytesIO(raw))
    dataset = load_dataset("cifar10", data_dir=tmp_path)
    assert dataset.x_train.shape == (15, 32, 32, 3) and dataset.x_test.shape == (3, 32, 32, 3)
    labels, planes = expected["test_batch.bin"]
    np.testing.assert_array_equal(dataset.y_test, labels)
    red = np.clip(np.round(127.5 + 127.5 * dataset.x_test[..., 0]), 0, 255)
    np.testing.assert_array_equal(red, planes[:, 0])  # the first plane is red, row by row
    assert dataset.class_names[0] == "airplane"


def test_cifar10_says_what_to_do_when_its_files_are_missing_or_damaged(tmp_path):
    with pytest.raises(DatasetError, match="cifar-10-binary.tar.gz"):
        load_dataset("cifar10", data_dir=tmp_path)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in [f"data_batch_{b}.bin" for b in range(1, 6)] + ["test_batch.bin"]:
        (folder / name).write_bytes(b"\0" * 100)
    with pytest.raises(DatasetError, match="not a whole number of CIFAR-10 records"):
        load_dataset("cifar10", data_dir=tmp_path)


def test_svhn_from_its_official_mat_files(tmp_path):
    from scipy.io import savemat

    rng = np.random.default_rng(2)
    for name, count in (("train_32x32.mat", 12), ("test_32x32.mat", 4)):
        savemat(tmp_path / name, {"X": rng.integers(0, 256, (32, 32, 3, count), dtype=np.uint8),
                                  "y": np.array([[10], [1], [2], [3]] * (count // 4), dtype=np.uint8)})
    dataset = load_dataset("svhn", data_dir=tmp_path)
    assert dataset.x_train.shape == (12, 32, 32, 3) and dataset.channels == 3
    assert dataset.y_test.tolist() == [0, 1, 2, 3]  # SVHN writes the digit 0 as 10
    (tmp_path / "test_32x32.mat").unlink()
    with pytest.raises(DatasetError, match="does not download"):
        load_dataset("svhn", data_dir=tmp_path)


def test_colour_frames_tile_and_enlarge_in_colour():
    frames = np.stack([np.full((32, 32, 3), value, np.float32) for value in (-1.0, 0.0, 1.0)])
    frames[..., 0] = 1.0  # red everywhere
    mosaic = images.tile(frames)
    assert mosaic.shape == (32, 3 * 34 - 2, 3) and mosaic[0, 0].tolist() == [255, 0, 0]
    assert images.enlarge(frames[1], scale=2).size == (64, 64)
    assert images.gif_bytes(frames, scale=1)[:6] == b"GIF89a"
    buffer = io.BytesIO()
    Image.new("RGB", (50, 80), (0, 200, 0)).save(buffer, format="JPEG")
    upload = images.fit_upload(buffer.getvalue(), "/tmp/fruit.zip", channels=3)
    assert upload.shape == (32, 32, 3) and upload[..., 1].mean() > 0.5 > upload[..., 0].mean()


@pytest.mark.slow
def test_train_on_an_rgb_zip_from_the_cli_then_load_and_interpolate_in_colour(tmp_path):
    from acai import checkpoints, interpolation
    from acai.cli import main

    folder = _write_folder(tmp_path / "fruit", per_class=30)
    shutil.rmtree(folder / "pears")  # one class left: no labels
    archive = _zip_folder(folder, tmp_path / "fruit.zip")
    out = tmp_path / "run"
    assert main(["train", "--dataset", str(archive), "--depth", "4", "--latent-size", "16", "--batch", "8",
                 "--steps", "4", "--checkpoint-every", "4", "--eval-every", "4", "--out", str(out)]) == 0
    manifest = json.loads((out / "config.json").read_text())
    assert manifest["config"]["channels"] == 3 and manifest["config"]["dataset"] == str(archive.resolve())
    assert manifest["card"]["data"]["shape"] == [32, 32, 3] and manifest["card"]["data"]["kind"] == "zip"
    checkpoint = checkpoints.load_checkpoint(out)
    data = load_dataset(checkpoint.config.dataset)
    strip = interpolation.interpolate_pairs(checkpoint.networks, data.x_test[:1], data.x_test[1:2], 5)
    assert strip.shape == (1, 5, 32, 32, 3) and np.isfinite(strip).all()
    assert main(["eval", str(out), "--quick"]) == 0  # no labels: the mid-path measure instead of the probe
    assert "midpoint_grey" in json.loads((out / "metrics.json").read_text())
