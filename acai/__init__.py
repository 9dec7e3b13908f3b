"""ACAI: Adversarially Constrained Autoencoder Interpolation (Berthelot et al., 2018), in TensorFlow 2 / Keras 3.

Importing acai changes nothing in the process. Entry points call acai.machine.configure_tensorflow() first,
which sizes TensorFlow's thread pools for this machine and quiets its C++ log.
"""
