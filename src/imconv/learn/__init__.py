"""Learn kernels from examples instead of writing them by hand.

Two answers to the tutorials' closing question, both computed with imconv's own
correlations:

- `fit_kernel` recovers the kernel behind (image, filtered image) pairs, by
  least squares or by gradient descent.
- A small convolutional network (`Conv2D`, `ReLU`, `MaxPool2D`, `Flatten`,
  `Dense`, `softmax_cross_entropy`, `SGD`, `Adam`) learns its filters by
  backpropagation; `train_digits` trains it on scikit-learn's 8x8 digits.

This is for understanding and small problems, not a deep-learning framework:
`torch_state_dict` hands the weights to PyTorch in its layout.
"""

from ._digits import filters_picture, load_digits, train_digits
from ._fit import FitWarning, KernelFit, closest_bank_kernel, fit_kernel
from ._layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU, softmax_cross_entropy
from ._network import SGD, Adam, Sequential, to_torch, torch_state_dict

__all__ = [
    "Adam",
    "Conv2D",
    "Dense",
    "FitWarning",
    "Flatten",
    "KernelFit",
    "MaxPool2D",
    "ReLU",
    "SGD",
    "Sequential",
    "closest_bank_kernel",
    "filters_picture",
    "fit_kernel",
    "load_digits",
    "softmax_cross_entropy",
    "to_torch",
    "torch_state_dict",
    "train_digits",
]
