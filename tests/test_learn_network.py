"""imconv.learn's network: every gradient checked against PyTorch autograd, optimisers, weights, digits."""

import numpy as np
import pytest

from imconv.learn import (SGD, Adam, Conv2D, Dense, Flatten, MaxPool2D, ReLU, Sequential,
                          softmax_cross_entropy, to_torch, torch_state_dict, train_digits)

torch = pytest.importorskip("torch")
F = torch.nn.functional
RTOL = 1e-4  # the bound; float64 gives ~1e-13
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning")


def assert_matches(ours, theirs):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape
    scale = np.abs(theirs).max() + 1e-30
    assert np.abs(ours - theirs).max() <= RTOL * scale


def check_layer(layer, x, torch_forward, parameters=()):
    """Forward and backward of `layer` against `torch_forward(x, *parameters)` under autograd."""
    rng = np.random.default_rng(1)
    out = layer.forward(x)
    grad = rng.standard_normal(out.shape)
    grad_x = layer.backward(grad)
    tx = torch.tensor(x, requires_grad=True)
    tparams = [torch.tensor(p, requires_grad=True) for p in parameters]
    tout = torch_forward(tx, *tparams)
    tout.backward(torch.tensor(grad))
    assert_matches(out, tout)
    if grad_x is not None:
        assert_matches(grad_x, tx.grad)
    return [t.grad for t in tparams]


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, (2, 5), (3, 2)])
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_gradients_match_pytorch(size, padding, bias):
    layer = Conv2D(3, 4, size, padding=padding, bias=bias, rng=2, dtype=np.float64)
    x = np.random.default_rng(3).standard_normal((5, 3, 9, 8))
    parameters = (layer.weight, layer.bias) if bias else (layer.weight,)
    with np.errstate(all="raise"):
        grads = check_layer(layer, x, lambda t, w, b=None: F.conv2d(t, w, b, padding=padding), parameters)
    assert_matches(layer.grad_weight, grads[0])
    if bias:
        assert_matches(layer.grad_bias, grads[1])


def test_conv2d_on_a_single_pixel_and_a_single_sample():
    layer = Conv2D(2, 1, 3, rng=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((1, 2, 1, 1))
    grads = check_layer(layer, x, lambda t, w, b: F.conv2d(t, w, b, padding="same"), (layer.weight, layer.bias))
    assert_matches(layer.grad_weight, grads[0])


@pytest.mark.parametrize("shape", [(3, 2, 6, 8), (2, 3, 7, 5), (1, 1, 2, 2)])
def test_max_pool_gradients_match_pytorch(shape):
    x = np.random.default_rng(4).standard_normal(shape)
    check_layer(MaxPool2D(), x, lambda t: F.max_pool2d(t, 2))


def test_relu_flatten_dense_and_loss_match_pytorch():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 2, 3, 3))
    x[0, 0, 0, 0] = 0.0  # PyTorch's ReLU passes no gradient at 0
    check_layer(ReLU(), x, F.relu)
    check_layer(Flatten(), x, lambda t: t.flatten(1))
    dense = Dense(18, 4, rng=6, dtype=np.float64)
    grads = check_layer(dense, x.reshape(6, 18), F.linear, (dense.weight, dense.bias))
    assert_matches(dense.grad_weight, grads[0])
    assert_matches(dense.grad_bias, grads[1])
    logits, labels = rng.standard_normal((6, 4)) * 5, np.array([0, 3, 1, 1, 2, 3])
    loss, grad = softmax_cross_entropy(logits, labels)
    tlogits = torch.tensor(logits, requires_grad=True)
    tloss = F.cross_entropy(tlogits, torch.tensor(labels))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    assert_matches(grad, tlogits.grad)


def small_network(dtype=np.float64, size=3, padding="same"):
    rng = np.random.default_rng(7)
    conv2 = Conv2D(3, 4, size, padding=padding, rng=rng, dtype=dtype)
    side = 4 if padding == "same" else (8 - 2 * (size - 1)) // 2
    return Sequential([Conv2D(1, 3, size, padding=padding, rng=rng, dtype=dtype), ReLU(), conv2, ReLU(),
                       MaxPool2D(), Flatten(), Dense(4 * side * side, 10, rng=rng, dtype=dtype)])


@pytest.mark.parametrize("size, padding", [(3, "same"), (4, "same"), (2, "valid"), (3, "valid")])
def test_a_whole_network_backpropagates_like_pytorch(size, padding):
    network = small_network(size=size, padding=padding)
    model = to_torch(network)
    rng = np.random.default_rng(8)
    x, labels = rng.random((7, 1, 8, 8)), rng.integers(0, 10, 7)
    loss, grad = softmax_cross_entropy(network.forward(x), labels)
    network.backward(grad)
    tloss = F.cross_entropy(model(torch.tensor(x)), torch.tensor(labels))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    ours, theirs = network.gradients(), dict(model.named_parameters())
    assert sorted(ours) == sorted(theirs)
    for name in ours:
        assert_matches(ours[name], theirs[name].grad)


@pytest.mark.parametrize("make, make_torch", [
    (lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda p: SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    (lambda p: Adam(p, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
])
def test_optimisers_step_like_pytorchs(make, make_torch):
    network = small_network()
    model = to_torch(network)
    optimizer, torch_optimizer = make(network.parameters()), make_torch(model.parameters())
    rng = np.random.default_rng(9)
    for _ in range(4):
        x, labels = rng.random((5, 1, 8, 8)), rng.integers(0, 10, 5)
        _, grad = softmax_cross_entropy(network.forward(x), labels)
        network.backward(grad)
        optimizer.step(network.gradients())
        torch_optimizer.zero_grad()
        F.cross_entropy(model(torch.tensor(x)), torch.tensor(labels)).backward()
        torch_optimizer.step()
    for name, value in model.state_dict().items():
        assert np.abs(network.parameters()[name] - value.numpy()).max() < 1e-10


def test_weights_round_trip_through_pytorch_and_npz(tmp_path):
    network = small_network(dtype=np.float32)
    x = np.random.default_rng(10).random((6, 1, 8, 8)).astype(np.float32)
    model = to_torch(network)
    assert np.abs(network.forward(x) - model(torch.tensor(x)).detach().numpy()).max() < 1e-5
    state = torch_state_dict(network)
    fresh = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3, padding="same"), torch.nn.ReLU(),
                                torch.nn.Conv2d(3, 4, 3, padding="same"), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(64, 10))
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    assert np.abs(network.forward(x) - fresh(torch.tensor(x)).detach().numpy()).max() < 1e-5
    torch.manual_seed(0)
    trained_elsewhere = torch.nn.Sequential(*[type(m)(*_torch_args(m)) for m in fresh])
    copy = small_network(dtype=np.float32)
    copy.load_state_dict(trained_elsewhere.state_dict())
    assert np.abs(copy.forward(x) - trained_elsewhere(torch.tensor(x)).detach().numpy()).max() < 1e-5
    copy.save(tmp_path / "model.npz")
    loaded = Sequential.load(tmp_path / "model.npz")
    assert np.array_equal(loaded.forward(x), copy.forward(x))
    assert loaded.forward(x).dtype == np.float32
    exact = small_network(dtype=np.float64)
    exact.save(tmp_path / "model.npz")
    assert Sequential.load(tmp_path / "model.npz").layers[0].weight.dtype == np.float64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary left behind


def _torch_args(module):
    if isinstance(module, torch.nn.Conv2d):
        return module.in_channels, module.out_channels, module.kernel_size, 1, "same"
    if isinstance(module, torch.nn.Linear):
        return module.in_features, module.out_features
    return (2,) if isinstance(module, torch.nn.MaxPool2d) else ()


def test_a_short_digits_run_beats_90_percent_and_repeats_with_its_seed():
    pytest.importorskip("sklearn")
    first = train_digits(epochs=3, seed=3)
    assert first.test_accuracy > 0.90
    assert first.seconds < 10
    again = train_digits(epochs=3, seed=3)
    for name, value in first.network.parameters().items():
        assert np.array_equal(value, again.network.parameters()[name])
    other = train_digits(epochs=1, seed=4)
    assert not np.array_equal(other.network.layers[0].weight, first.network.layers[0].weight)


@pytest.mark.parametrize("call, error, message", [
    (lambda: Conv2D(0, 2, 3), ValueError, "in_channels=0 must be a positive integer"),
    (lambda: Conv2D(1, 2, 0), ValueError, "size=0 must be a positive integer"),
    (lambda: Conv2D(1, 2, 3, padding="full"), ValueError, "padding='full' is not known; use one of 'same', 'valid'"),
    (lambda: Conv2D(2, 2, 3).forward(np.zeros((1, 3, 4, 4))), ValueError, r"needs images of shape \(N, 2, H, W\)"),
    (lambda: Dense(4, 2).forward(np.zeros((1, 5))), ValueError, r"needs inputs of shape \(N, 4\)"),
    (lambda: MaxPool2D().forward(np.zeros((1, 1, 1, 4))), ValueError, "at least 2 x 2"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3])), ValueError, r"2 integers in \[0, 3\)"),
    (lambda: softmax_cross_entropy(np.zeros((2, 3)), np.array([0.0, 1.0])), ValueError, "integers"),
    (lambda: Sequential([ReLU(), "relu"]), TypeError, "Sequential takes imconv.learn layers; got str"),
    (lambda: small_network().load_state_dict({}), ValueError, "state has no '0.weight'"),
])
def test_bad_arguments_say_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_loading_a_file_that_is_not_a_network_says_so(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="not an imconv.learn network"):
        Sequential.load(tmp_path / "other.npz")
