"""ACAI: Adversarially Constrained Autoencoder Interpolation (Berthelot et al., 2018), in TensorFlow 2 / Keras 3.

Importing the package sets TensorFlow's thread pools for this machine unless the environment already does
(acai.machine.thread_defaults): it must happen before TensorFlow starts its runtime, and every entry point
(CLI, app, benches, tests) imports `acai` first.
"""

from acai.machine import apply_thread_defaults

apply_thread_defaults()
