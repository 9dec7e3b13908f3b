import numpy as np
import pytest

from acai.data import DatasetError, load_dataset, pad_to_32, to_display, to_model_range, to_padded_model_range


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="unknown dataset 'cifar'.*lines, mnist"):
        load_dataset("cifar")


def test_missing_local_file_says_what_to_do(tmp_path):
    with pytest.raises(DatasetError, match="does not exist.*ACAI_DATA_DIR"):
        load_dataset("mnist", data_dir=tmp_path)


def test_corrupt_archive(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"this is not a zip file")
    with pytest.raises(DatasetError, match="could not be read"):
        load_dataset("mnist", data_dir=tmp_path)


def test_wrong_shape_and_keys(tmp_path):
    np.savez(tmp_path / "mnist.npz", x_train=np.zeros((4, 30, 30), np.uint8), y_train=np.zeros(4),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2))
    with pytest.raises(DatasetError, match=r"x_train has shape \(4, 30, 30\)"):
        load_dataset("mnist", data_dir=tmp_path)
    np.savez(tmp_path / "fashion_mnist.npz", images=np.zeros(3))
    with pytest.raises(DatasetError, match="lacks x_train"):
        load_dataset("fashion_mnist", data_dir=tmp_path)


def test_pickled_archive_is_refused(tmp_path):
    objects = np.empty(2, dtype=object)
    np.savez(tmp_path / "mnist.npz", x_train=objects, y_train=objects, x_test=objects, y_test=objects)
    with pytest.raises(DatasetError, match="could not be read"):
        load_dataset("mnist", data_dir=tmp_path)


def test_offline_download_failure_is_explained(monkeypatch):
    import keras

    def offline():
        raise OSError("name resolution failed")

    monkeypatch.delenv("ACAI_DATA_DIR", raising=False)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DatasetError, match="could not download mnist.*ACAI_DATA_DIR.*digits"):
        load_dataset("mnist")


def test_mnist_is_padded_to_32(mnist_available):
    dataset = load_dataset("mnist")
    assert dataset.x_train.shape == (60_000, 32, 32, 1) and dataset.x_test.shape == (10_000, 32, 32, 1)
    assert dataset.x_train.dtype == np.float32 and dataset.x_train.min() == -1 and dataset.x_train.max() == 1
    assert np.all(dataset.x_train[:, :2] == -1) and np.all(dataset.x_train[:, :, -2:] == -1)
    assert dataset.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_digits_always_available():
    dataset = load_dataset("digits")
    assert dataset.x_train.shape[1:] == (32, 32, 1) and len(dataset.x_train) + len(dataset.x_test) == 1797
    assert set(np.unique(dataset.y_test)) == set(range(10))


def test_lines_dataset_and_stream_are_seeded(lines_dataset):
    assert lines_dataset.x_test.shape == (5000, 32, 32, 1) and lines_dataset.is_stream
    sampler = lines_dataset.batch_sampler(8, seed=3)
    np.testing.assert_array_equal(sampler.batch(7)[0], lines_dataset.batch_sampler(8, seed=3).batch(7)[0])
    assert not np.array_equal(sampler.batch(7)[0], sampler.batch(8)[0])


def test_an_epoch_visits_every_index_at_most_once_and_drops_only_the_remainder():
    from acai.data import Dataset

    count, batch = 1000, 64  # 15 batches of 64 = 960 images, 40 dropped
    images = np.zeros((count, 32, 32, 1), np.float32)
    images[:, 0, 0, 0] = np.arange(count)  # each image carries its own index
    dataset = Dataset("mnist", images, np.arange(count) % 10, images[:10], np.arange(10))
    sampler = dataset.batch_sampler(batch, seed=0)

    def epoch(number):
        return np.concatenate([sampler.batch(number * 15 + step)[0][:, 0, 0, 0] for step in range(15)]).astype(int)

    first, second = epoch(0), epoch(1)
    assert len(first) == 960 and len(np.unique(first)) == 960  # no index twice
    assert set(first) <= set(range(count))
    assert len(np.unique(second)) == 960 and not np.array_equal(first, second)  # reshuffled each epoch
    assert set(first) | set(second) != set(first)  # the dropped remainder differs between epochs
    np.testing.assert_array_equal(epoch(0), first)  # addressed by step: the same again
    with pytest.raises(DatasetError, match="exceeds"):
        load_dataset("digits").batch_sampler(2000, seed=0)


def test_display_conversion():
    np.testing.assert_array_equal(to_display(np.array([-1.0, 0.0, 1.0, 3.0])), [0, 128, 255, 255])
    np.testing.assert_allclose(to_model_range(np.array([0, 255], np.uint8)), [-1, 1])


def test_the_one_pass_conversion_gives_the_same_numbers_as_the_two_steps():
    images = np.random.default_rng(0).integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    expected = pad_to_32(to_model_range(images))
    converted = to_padded_model_range(images)
    assert converted.dtype == np.float32 and converted.shape == (5, 32, 32, 1)
    np.testing.assert_array_equal(converted, expected)  # bit for bit
