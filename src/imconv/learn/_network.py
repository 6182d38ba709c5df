"""A network as a sequence of layers; SGD and Adam; saving and PyTorch's weight layout."""

from __future__ import annotations

import io
import json

import numpy as np

from .._image_files import atomic_write
from ._layers import Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU

LAYERS = {cls.__name__: cls for cls in (Conv2D, ReLU, MaxPool2D, Flatten, Dense)}
_TORCH_NAMES = {"Conv2D": "Conv2d", "ReLU": "ReLU", "MaxPool2D": "MaxPool2d", "Flatten": "Flatten",
                "Dense": "Linear"}


class Sequential:
    """Layers applied in order; parameters named as in ``torch.nn.Sequential`` ("0.weight").

    >>> net = Sequential([Conv2D(1, 2, 3, rng=0), ReLU(), MaxPool2D(), Flatten(), Dense(8, 3, rng=0)])
    >>> net.forward(np.zeros((5, 1, 4, 4), np.float32)).shape
    (5, 3)
    >>> sorted(net.parameters())
    ['0.bias', '0.weight', '4.bias', '4.weight']
    """

    def __init__(self, layers):
        self.layers = list(layers)
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"Sequential takes imconv.learn layers; got {type(layer).__name__}")
        if self.layers and isinstance(self.layers[0], Conv2D):
            self.layers[0].input_gradient = False  # nothing below the first layer learns

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad: np.ndarray) -> None:
        for layer in reversed(self.layers):
            grad = layer.backward(grad)

    def predict(self, x: np.ndarray, batch: int = 256) -> np.ndarray:
        """The class with the largest score, for each image."""
        return np.concatenate([self.forward(x[i:i + batch]).argmax(axis=1) for i in range(0, len(x), batch)])

    def parameters(self) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": array for i, layer in enumerate(self.layers)
                for name, array in layer.parameters().items()}

    def gradients(self) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": array for i, layer in enumerate(self.layers)
                for name, array in layer.gradients().items()}

    def load_state_dict(self, state) -> None:
        """Copy weights in from a dict of arrays or torch tensors named as `parameters` names them."""
        for name, array in self.parameters().items():
            if name not in state:
                raise ValueError(f"state has no {name!r}; it has {sorted(state)}")
            value = np.asarray(state[name].detach().cpu() if hasattr(state[name], "detach") else state[name])
            if value.shape != array.shape:
                raise ValueError(f"{name!r} has shape {value.shape}; this network needs {array.shape}")
            array[...] = value

    def save(self, path) -> None:
        """Write the architecture and the weights to one .npz file, atomically."""
        architecture = json.dumps([[type(layer).__name__, layer.config()] for layer in self.layers])
        buffer = io.BytesIO()
        np.savez(buffer, architecture=np.array(architecture), **self.parameters())
        atomic_write(path, lambda file: file.write(buffer.getvalue()))

    @classmethod
    def load(cls, path) -> "Sequential":
        """A network saved by `save`."""
        with np.load(path, allow_pickle=False) as saved:
            if "architecture" not in saved:
                raise ValueError(f"{path} is not an imconv.learn network (no architecture record)")
            network = cls([LAYERS[name](**config) for name, config in json.loads(str(saved["architecture"]))])
            network.load_state_dict({name: saved[name] for name in saved.files if name != "architecture"})
        return network


def torch_state_dict(network: Sequential) -> dict[str, np.ndarray]:
    """The weights in PyTorch's layout and names, for an ``nn.Sequential`` of the same layers.

    Our layout is PyTorch's already (Conv2d weights (C_out, C_in, kh, kw), Linear
    (out, in)); this returns copies, ready for
    ``torch_net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})``.
    """
    return {name: array.copy() for name, array in network.parameters().items()}


def to_torch(network: Sequential):
    """An equivalent ``torch.nn.Sequential`` carrying the same weights (needs PyTorch)."""
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch needs PyTorch: pip install torch") from None
    modules = []
    for layer in network.layers:
        name, config = type(layer).__name__, layer.config()
        if name == "Conv2D":
            modules.append(torch.nn.Conv2d(config["in_channels"], config["out_channels"], config["size"],
                                           padding=config["padding"], bias=config["bias"]))
        elif name == "Dense":
            modules.append(torch.nn.Linear(config["in_features"], config["out_features"]))
        else:
            modules.append(getattr(torch.nn, _TORCH_NAMES[name])(*((2,) if name == "MaxPool2D" else ())))
    model = torch.nn.Sequential(*modules)
    dtype = next(iter(network.parameters().values())).dtype
    model.to(torch.float64 if dtype == np.float64 else torch.float32)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in torch_state_dict(network).items()})
    return model


class SGD:
    """Stochastic gradient descent with momentum, as ``torch.optim.SGD``: v = m v + g; p -= lr v."""

    def __init__(self, parameters: dict, *, lr: float = 0.01, momentum: float = 0.0):
        self.parameters, self.lr, self.momentum = parameters, lr, momentum
        self._velocity = {}

    def step(self, gradients: dict) -> None:
        for name, p in self.parameters.items():
            g = gradients[name]
            if self.momentum:
                v = self._velocity.get(name)
                g = self._velocity[name] = g.copy() if v is None else self.momentum * v + g
            p -= (self.lr * g).astype(p.dtype, copy=False)


class Adam:
    """Adam (Kingma and Ba, 2015), as ``torch.optim.Adam`` with its defaults."""

    def __init__(self, parameters: dict, *, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        self.parameters, self.lr, self.betas, self.eps = parameters, lr, betas, eps
        self._moments = {name: (np.zeros_like(p), np.zeros_like(p)) for name, p in parameters.items()}
        self._t = 0

    def step(self, gradients: dict) -> None:
        self._t += 1
        (b1, b2), t = self.betas, self._t
        for name, p in self.parameters.items():
            m, v = self._moments[name]
            g = gradients[name]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            denominator = np.sqrt(v) / np.sqrt(1 - b2 ** t) + self.eps
            p -= (self.lr / (1 - b1 ** t) * m / denominator).astype(p.dtype, copy=False)
