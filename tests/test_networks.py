import numpy as np
import pytest

from acai import models
from acai.config import PRESETS, Config
from acai.networks import ACAINetworks


@pytest.mark.parametrize("config, encoder, decoder", [
    (PRESETS["lines32"], 627_472, 313_985),  # docs/METHOD.md: the reference counts
    (Config(latent_width=4, latent_size=256), 166_288, 83_329),
])
def test_parameter_counts_match_the_paper(config, encoder, decoder):
    networks = ACAINetworks(config)
    assert networks.encoder.count_params() == encoder
    assert networks.decoder.count_params() == decoder
    assert networks.critic.count_params() == encoder  # the encoder's architecture, own weights


@pytest.mark.parametrize("name", ["lines32", "mnist32", "mnist_mlp"])
def test_shapes(name):
    config = PRESETS[name]
    networks = ACAINetworks(config)
    images = np.zeros((3, 32, 32, 1), np.float32)
    assert networks.encoder(images).shape == (3, *config.latent_shape)
    assert networks(images).shape == (3, 32, 32, 1)
    assert networks.critic(images).shape == (3,)  # one scalar per image


def test_patch_folds_pixel_blocks_into_channels_and_back():
    from acai.networks import DepthToSpace, SpaceToDepth

    images = np.arange(2 * 4 * 4 * 1, dtype=np.float32).reshape(2, 4, 4, 1)
    folded = np.asarray(SpaceToDepth(2)(images))
    assert folded.shape == (2, 2, 2, 4)
    np.testing.assert_array_equal(folded[0, 0, 1], [2, 3, 6, 7])  # the top-right 2x2 block, row by row
    np.testing.assert_array_equal(np.asarray(DepthToSpace(2)(folded)), images)
    config = Config(dataset="lines", depth=4, latent_width=2, latent_size=8, patch=4)
    networks = ACAINetworks(config)

    def conv_maps(model):
        return [layer.output.shape[1] for layer in model.layers if "conv" in layer.name]

    assert max(conv_maps(networks.encoder)) == max(conv_maps(networks.critic)) == 8  # neither sees the 32x32 map
    assert max(conv_maps(networks.decoder)) == 32  # the decoder draws at full resolution
    assert networks.encoder(images.repeat(8, 1).repeat(8, 2)).shape == (2, 2, 2, 2)
    assert networks.critic(np.zeros((2, 32, 32, 1), np.float32)).shape == (2,)
    folded_decoder = ACAINetworks(config.replace(decoder_patch=2)).decoder
    assert max(conv_maps(folded_decoder)) == 16
    assert folded_decoder(np.zeros((2, 2, 2, 2), np.float32)).shape == (2, 32, 32, 1)


def test_official_initialisation_and_slope():
    networks = ACAINetworks(PRESETS["mnist256"])
    kernels = [layer for layer in networks.encoder.layers if hasattr(layer, "kernel")]
    widest = max(kernels, key=lambda layer: np.prod(layer.kernel.shape[:-1]))
    fan_in = int(np.prod(widest.kernel.shape[:-1]))
    std = float(np.std(widest.kernel.numpy()))
    assert std == pytest.approx(1 / np.sqrt(1.04 * fan_in), rel=0.05)
    assert np.abs(widest.kernel.numpy()).max() > 2.5 * std  # normal, not truncated at 2 std
    assert all(float(np.abs(layer.bias.numpy()).max()) == 0 for layer in kernels)
    slopes = {layer.negative_slope for layer in networks.encoder.layers if "leaky" in layer.name}
    assert slopes == {0.2}


def test_mlp_decoder_output_range():
    networks = ACAINetworks(PRESETS["mnist_mlp"])
    out = networks.decoder(np.random.default_rng(0).normal(size=(4, 32)).astype(np.float32) * 100).numpy()
    assert out.min() >= -1 and out.max() <= 1  # 2 * sigmoid - 1: the blog-post notebook's sigmoid, on [-1, 1] data


def test_a_seed_fixes_the_initial_weights_and_none_leaves_them_random(tiny_config):
    first, second, third = (ACAINetworks(tiny_config, seed=seed) for seed in (3, 3, 4))
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert any(not np.array_equal(a.numpy(), c.numpy()) for a, c in zip(first.weights, third.weights) if a.shape.rank > 1)
    unseeded = [ACAINetworks(tiny_config) for _ in range(2)]
    assert any(not np.array_equal(a.numpy(), b.numpy())
               for a, b in zip(unseeded[0].weights, unseeded[1].weights) if a.shape.rank > 1)


@pytest.mark.parametrize("config", [
    Config(dataset="lines", depth=8, latent_width=4, latent_size=32, model=model,
           settings={"codebook_bits": 6, "code_vectors": 2} if model == "vqvae" else {})
    for model in models.names()] + [
    Config(dataset="mnist", depth=8, latent_width=2, latent_size=64, patch=4, decoder_patch=2),
    Config(dataset="mnist", architecture="mlp", latent_size=16, mlp_width=40),
    Config(dataset="mnist", depth=4, latent_width=1, latent_size=8, lam=0.0),
], ids=lambda config: f"{config.model}-{config.architecture}-p{config.patch}")
def test_parameter_counts_from_the_config_match_the_built_networks(config):
    assert config.parameter_count(7) == ACAINetworks(config, 7).count_params()


def test_a_config_asking_for_a_huge_network_is_refused_before_anything_is_built():
    with pytest.raises(ValueError, match="acai builds at most 50,000,000"):
        Config(depth=1024)
    with pytest.raises(ValueError, match="parameters"):
        Config(architecture="mlp", latent_size=10**9)
