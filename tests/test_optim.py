import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet.gradcheck import rel_error
from glassnet.optim import (
    CONFIG_KEYS,
    RULES,
    adagrad,
    adam,
    adamw,
    centralize_gradient,
    check_config,
    clip_by_norm,
    clip_by_value,
    get_rule,
    nesterov,
    rmsprop,
    sgd,
    sgd_momentum,
)

STEPS = 6


def _course_inputs():
    # The fixed inputs of cs231n assignment 2's FullyConnectedNets notebook.
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return N, D, w, dw


def _run(rule, w, grads, config):
    """Apply ``rule`` once per gradient in ``grads``; return the final weights."""
    for dw in grads:
        w, config = rule(w, dw, config)
    return w, config


@pytest.fixture
def problem(rng):
    w = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(STEPS)]
    return w, grads


# --- the cs231n notebook checks -------------------------------------------------


def test_sgd_momentum_reproduces_the_cs231n_notebook_check():
    N, D, w, dw = _course_inputs()
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    # Expected values copied from cs231n assignment 2, FullyConnectedNets.ipynb.
    expected_next_w = np.asarray(
        [
            [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
            [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
            [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
            [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096],
        ]
    )
    expected_velocity = np.asarray(
        [
            [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
            [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
            [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
            [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096],
        ]
    )
    assert rel_error(next_w, expected_next_w) < 1e-8
    assert rel_error(config["velocity"], expected_velocity) < 1e-8


def test_rmsprop_reproduces_the_cs231n_notebook_check():
    N, D, w, dw = _course_inputs()
    cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = rmsprop(w, dw, {"learning_rate": 1e-2, "cache": cache})
    # Expected values copied from cs231n assignment 2, FullyConnectedNets.ipynb.
    expected_next_w = np.asarray(
        [
            [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
            [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
            [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
            [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619],
        ]
    )
    expected_cache = np.asarray(
        [
            [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
            [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
            [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
            [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926],
        ]
    )
    assert rel_error(next_w, expected_next_w) < 1e-7
    assert rel_error(config["cache"], expected_cache) < 1e-7


def test_adam_reproduces_the_cs231n_notebook_check():
    N, D, w, dw = _course_inputs()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    config = {"learning_rate": 1e-2, "m": m, "v": v, "t": 5}
    next_w, config = adam(w, dw, config)
    # Expected values copied from cs231n assignment 2, FullyConnectedNets.ipynb.
    expected_next_w = np.asarray(
        [
            [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
            [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
            [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
            [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459],
        ]
    )
    expected_v = np.asarray(
        [
            [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
            [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
            [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
            [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966],
        ]
    )
    expected_m = np.asarray(
        [
            [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
            [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
            [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
            [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85],
        ]
    )
    # Printed to 8 decimals: rounding alone costs ~1e-7 on the entry near 0.02.
    assert rel_error(next_w, expected_next_w) < 5e-7
    assert rel_error(config["v"], expected_v) < 1e-8
    assert rel_error(config["m"], expected_m) < 1e-8
    assert config["t"] == 6


# --- each rule against a hand-written loop ---------------------------------------


def test_sgd_matches_a_hand_written_loop(problem):
    w0, grads = problem
    w = w0.copy()
    for dw in grads:
        w = w - 0.05 * dw
    got, _ = _run(sgd, w0, grads, {"learning_rate": 0.05})
    np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-14)


def test_sgd_momentum_matches_a_hand_written_loop(problem):
    w0, grads = problem
    w, v = w0.copy(), np.zeros_like(w0)
    for dw in grads:
        v = 0.8 * v - 0.05 * dw
        w = w + v
    config = {"learning_rate": 0.05, "momentum": 0.8}
    got, config = _run(sgd_momentum, w0, grads, config)
    np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(config["velocity"], v, rtol=1e-12, atol=1e-14)


def test_nesterov_matches_the_cs231n_form_written_by_hand(problem):
    w0, grads = problem
    w, v = w0.copy(), np.zeros_like(w0)
    for dw in grads:
        v_prev = v
        v = 0.8 * v - 0.05 * dw
        w = w - 0.8 * v_prev + (1 + 0.8) * v
    got, config = _run(nesterov, w0, grads, {"learning_rate": 0.05, "momentum": 0.8})
    np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(config["velocity"], v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("momentum", [0.0, 0.7])
@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_matches_a_hand_written_loop(problem, momentum, centered):
    w0, grads = problem
    lr, rho, eps = 0.01, 0.9, 1e-8
    w = w0.copy()
    cache, mg, m = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for dw in grads:
        cache = rho * cache + (1 - rho) * dw**2
        mg = rho * mg + (1 - rho) * dw
        denom = np.sqrt(cache - mg**2 if centered else cache) + eps
        m = momentum * m + lr * dw / denom
        w = w - m
    config = {
        "learning_rate": lr,
        "decay_rate": rho,
        "momentum": momentum,
        "centered": centered,
    }
    got, config = _run(rmsprop, w0, grads, config)
    np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(config["cache"], cache, rtol=1e-12)
    assert ("mg" in config) == centered
    assert ("m" in config) == (momentum > 0)


def test_adagrad_matches_a_hand_written_loop(problem):
    w0, grads = problem
    w, cache = w0.copy(), np.full_like(w0, 0.1)
    for dw in grads:
        cache = cache + dw**2
        w = w - 0.5 * dw / (np.sqrt(cache) + 1e-8)
    config = {"learning_rate": 0.5, "initial_accumulator_value": 0.1}
    got, config = _run(adagrad, w0, grads, config)
    np.testing.assert_allclose(got, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(config["cache"], cache, rtol=1e-12)


def _adam_by_hand(w, grads, lr, b1=0.9, b2=0.999, eps=1e-8, amsgrad=False, wd=0.0):
    m, v, vhat = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, dw in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * dw
        v = b2 * v + (1 - b2) * dw**2
        vhat = np.maximum(vhat, v)
        mt = m / (1 - b1**t)
        vt = (vhat if amsgrad else v) / (1 - b2**t)
        w = w - lr * wd * w - lr * mt / (np.sqrt(vt) + eps)
    return w


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_matches_a_reference_computed_step_by_step(problem, amsgrad):
    w0, grads = problem
    expected = _adam_by_hand(w0, grads, lr=0.01, b2=0.99, amsgrad=amsgrad)
    config = {"learning_rate": 0.01, "beta2": 0.99, "amsgrad": amsgrad}
    got, config = _run(adam, w0, grads, config)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
    assert config["t"] == STEPS


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_on_a_large_weight_goes_in_blocks_with_the_same_result(
    rng, monkeypatch, amsgrad
):
    # Weights above _BLOCKED_ADAM_SIZE are updated block by block on threads:
    # the same values as the reference, and the same bits for any thread count.
    from glassnet import optim as optim_mod
    from glassnet._internal import threads as _threads
    from glassnet.utils import num_threads, set_num_threads

    monkeypatch.setattr(optim_mod, "_BLOCKED_ADAM_SIZE", 1000)
    # Small enough blocks and thread shares that 2100 elements are cut up.
    monkeypatch.setattr(_threads, "MIN_ELEMENTS_PER_THREAD", 100)
    monkeypatch.setattr(_threads, "BLOCK_ELEMENTS", 256)
    w0 = rng.standard_normal((300, 7))  # 2100 elements: blocked
    grads = [rng.standard_normal((300, 7)) for _ in range(STEPS)]
    config = {"learning_rate": 0.01, "beta2": 0.99, "amsgrad": amsgrad}
    expected = _adam_by_hand(w0, grads, lr=0.01, b2=0.99, amsgrad=amsgrad)
    results, before = [], num_threads()
    try:
        for threads in (1, 2, 3):
            set_num_threads(threads)
            results.append(_run(adam, w0, grads, dict(config)))
    finally:
        set_num_threads(before)
    np.testing.assert_allclose(results[0][0], expected, rtol=1e-12, atol=1e-14)
    for got, state in results[1:]:
        np.testing.assert_array_equal(got, results[0][0])
        for key in ("m", "v", "vhat") if amsgrad else ("m", "v"):
            np.testing.assert_array_equal(state[key], results[0][1][key])


def test_adam_on_a_large_transposed_weight_matches_the_reference(rng, monkeypatch):
    # A non-contiguous weight, gradient and state take the blocked path too.
    from glassnet import optim as optim_mod

    monkeypatch.setattr(optim_mod, "_BLOCKED_ADAM_SIZE", 100)
    w0 = rng.standard_normal((7, 30)).T
    grads = [rng.standard_normal((7, 30)).T for _ in range(STEPS)]
    expected = _adam_by_hand(w0, grads, lr=0.01)
    got, config = _run(adam, w0, grads, {"learning_rate": 0.01})
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_adamw_decays_the_pre_step_weights_then_takes_the_adam_step(problem):
    w0, grads = problem
    expected = _adam_by_hand(w0, grads, lr=0.01, wd=0.1)
    config = {"learning_rate": 0.01, "weight_decay": 0.1}
    got, _ = _run(adamw, w0, grads, config)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_adamw_with_zero_weight_decay_equals_adam(problem):
    w0, grads = problem
    got, _ = _run(adamw, w0, grads, {"weight_decay": 0.0})
    expected, _ = _run(adam, w0, grads, None)
    np.testing.assert_array_equal(got, expected)


def test_amsgrad_keeps_vhat_monotone_while_v_shrinks(rng):
    w = rng.standard_normal(8)
    config = {"amsgrad": True}
    previous = np.zeros_like(w)
    shrank = False
    for k in range(30):
        # Large gradients first, then small ones, so v itself decays.
        dw = rng.standard_normal(8) * (10.0 if k < 5 else 0.1)
        w, config = adam(w, dw, config)
        assert np.all(config["vhat"] >= previous)
        assert np.all(config["vhat"] >= config["v"])
        shrank |= bool(np.any(config["vhat"] > config["v"]))
        previous = config["vhat"]
    assert shrank


# --- config semantics -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(RULES))
def test_each_rule_returns_the_same_config_dict_and_leaves_inputs_alone(rng, name):
    w, dw = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    w_copy, dw_copy = w.copy(), dw.copy()
    config = {"learning_rate": 0.02}
    next_w, out = RULES[name](w, dw, config)
    assert out is config and config["learning_rate"] == 0.02
    np.testing.assert_array_equal(w, w_copy)
    np.testing.assert_array_equal(dw, dw_copy)
    assert next_w is not w and next_w.shape == w.shape
    state = {k: v for k, v in config.items() if isinstance(v, np.ndarray)}
    copies = {k: v.copy() for k, v in state.items()}
    RULES[name](next_w, dw, config)
    for key, array in state.items():
        np.testing.assert_array_equal(array, copies[key])


def test_rules_fill_in_their_defaults_when_config_is_none(rng):
    w, dw = rng.standard_normal(3), rng.standard_normal(3)
    _, config = adam(w, dw)
    assert config["learning_rate"] == 1e-3 and config["beta1"] == 0.9
    assert config["beta2"] == 0.999 and config["epsilon"] == 1e-8
    assert config["amsgrad"] is False and config["gradient_centralization"] is False
    assert config["gc_axis"] == -1
    _, config = rmsprop(w, dw)
    assert config["decay_rate"] == 0.99 and config["momentum"] == 0.0
    assert config["centered"] is False and config["learning_rate"] == 1e-2
    _, config = sgd_momentum(w, dw)
    assert config["momentum"] == 0.9
    _, config = adamw(w, dw)
    assert config["weight_decay"] == 1e-2
    _, config = adagrad(w, dw)
    assert config["initial_accumulator_value"] == 0.0


def test_rules_do_not_modify_a_state_array_passed_in_config():
    N, D, w, dw = _course_inputs()
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v_copy = v.copy()
    sgd_momentum(w, dw, {"velocity": v})
    np.testing.assert_array_equal(v, v_copy)


# --- gradient centralisation ------------------------------------------------------


@pytest.mark.parametrize(
    "shape, axis",
    [((5, 3), -1), ((4, 3, 2, 2), 0), ((2, 2, 3, 4), -1), ((3, 2, 4), 1)],
)
def test_centralised_gradient_has_zero_mean_over_the_non_output_axes(rng, shape, axis):
    dw = rng.standard_normal(shape) + 3.0
    g = centralize_gradient(dw, axis)
    others = tuple(a for a in range(len(shape)) if a != axis % len(shape))
    np.testing.assert_allclose(g.mean(axis=others), 0.0, atol=1e-12)
    # What was removed is one constant per output unit.
    removed = np.moveaxis(dw - g, axis, 0).reshape(shape[axis], -1)
    np.testing.assert_allclose(removed, removed[:, :1].repeat(removed.shape[1], 1))


@pytest.mark.parametrize("name", sorted(RULES))
def test_gradient_centralisation_feeds_each_rule_the_centred_gradient(rng, name):
    rule = RULES[name]
    w = rng.standard_normal((2, 3, 2, 2))
    grads = [rng.standard_normal(w.shape) + 1.0 for _ in range(3)]
    centred = []
    for dw in grads:
        mean = dw.mean(axis=(1, 2, 3), keepdims=True)
        assert np.abs(mean).max() > 1e-3
        centred.append(dw - mean)
    got, _ = _run(rule, w, grads, {"gradient_centralization": True, "gc_axis": 0})
    expected, _ = _run(rule, w, centred, None)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_sgd_step_with_centralisation_has_zero_mean_per_output_unit(rng):
    w, dw = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)) + 2.0
    config = {"learning_rate": 0.1, "gradient_centralization": True}
    next_w, _ = sgd(w, dw, config)
    np.testing.assert_allclose(((w - next_w) / 0.1).mean(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize("name", sorted(RULES))
def test_gradient_centralisation_leaves_rank_1_parameters_untouched(rng, name):
    rule = RULES[name]
    w = rng.standard_normal(5)
    grads = [rng.standard_normal(5) + 1.0 for _ in range(3)]
    got, _ = _run(rule, w, grads, {"gradient_centralization": True})
    expected, _ = _run(rule, w, grads, None)
    np.testing.assert_array_equal(got, expected)


# --- convergence and dtype --------------------------------------------------------

CONVEX_CONFIGS = {
    "sgd": {"learning_rate": 0.05},
    "sgd_momentum": {"learning_rate": 0.01},
    "nesterov": {"learning_rate": 0.01},
    "rmsprop": {"learning_rate": 0.02},
    "adagrad": {"learning_rate": 0.5},
    "adam": {"learning_rate": 0.05},
    "adamw": {"learning_rate": 0.05, "weight_decay": 1e-4},
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_each_rule_minimises_a_convex_quadratic(rng, name):
    # f(w) = 0.5 * ||A w - B||^2, gradient A.T (A w - B); minimum f* found by lstsq.
    A = rng.standard_normal((8, 4)) + 2.0 * np.eye(8, 4)
    B = rng.standard_normal((8, 3))
    w_star = np.linalg.lstsq(A, B, rcond=None)[0]

    def gap(w):
        return 0.5 * np.sum((A @ w - B) ** 2) - 0.5 * np.sum((A @ w_star - B) ** 2)

    w = rng.standard_normal((4, 3)) * 3.0
    start, config = gap(w), dict(CONVEX_CONFIGS[name])
    for _ in range(400):
        w, config = RULES[name](w, A.T @ (A @ w - B), config)
    assert gap(w) < 1e-3 * start


@pytest.mark.parametrize("name", sorted(RULES))
def test_float32_weights_and_state_stay_float32(rng, name):
    w = rng.standard_normal((3, 4)).astype(np.float32)
    # np.float64 hyperparameters must not promote the float32 arithmetic.
    config = {"learning_rate": np.float64(1e-2), "gradient_centralization": True}
    if name == "rmsprop":
        config.update(centered=True, momentum=0.5)
    if name.startswith("adam"):
        config["amsgrad"] = True
    for _ in range(3):
        dw = rng.standard_normal((3, 4)).astype(np.float32)
        w, config = RULES[name](w, dw, config)
        assert w.dtype == np.float32
    arrays = [v for v in config.values() if isinstance(v, np.ndarray)]
    assert arrays or name == "sgd"
    assert all(a.dtype == np.float32 for a in arrays)


# --- registry and errors ----------------------------------------------------------


def test_registry_maps_every_name_to_its_rule():
    assert RULES == {
        "sgd": sgd,
        "sgd_momentum": sgd_momentum,
        "nesterov": nesterov,
        "rmsprop": rmsprop,
        "adagrad": adagrad,
        "adam": adam,
        "adamw": adamw,
    }
    assert get_rule("adamw") is adamw
    assert get_rule(sgd) is sgd


# Every option on, so that each rule reads (and fills in) every key it knows.
ALL_OPTIONS = {
    "rmsprop": {"momentum": 0.5, "centered": True},
    "adam": {"amsgrad": True},
    "adamw": {"amsgrad": True},
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_config_keys_are_exactly_the_keys_each_rule_reads_and_writes(rng, name):
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    config = {"gradient_centralization": True, **ALL_OPTIONS.get(name, {})}
    _, config = _run(RULES[name], w, [dw, dw], config)
    hyperparameters, state = CONFIG_KEYS[name]
    assert sorted(config) == sorted(hyperparameters + state)
    assert set(CONFIG_KEYS) == set(RULES)
    check_config("config", name, config)  # a filled-in config passes


def test_check_config_names_the_unknown_key_and_lists_the_rules_keys():
    with pytest.raises(ValueError) as info:
        check_config("optim_config", "sgd_momentum", {"learning_rat": 1e-2})
    assert str(info.value) == (
        "optim_config: expected only the keys of update rule 'sgd_momentum': "
        "learning_rate, momentum, gradient_centralization, gc_axis (and its state "
        "velocity); received unknown key 'learning_rat' (did you mean "
        "'learning_rate' for 'learning_rat'?)"
    )
    with pytest.raises(ValueError, match=r"'sgd': .*unknown key 'momentum'$"):
        check_config("optim_config", "sgd", {"learning_rate": 1.0, "momentum": 0.9})
    with pytest.raises(ValueError, match="rule"):
        check_config("optim_config", "adamax", {})


@pytest.mark.parametrize("bad", ["adamm", "", 3, None])
def test_get_rule_rejects_unknown_names_and_lists_the_valid_ones(bad):
    with pytest.raises(ValueError, match=r"name_or_callable.*'sgd_momentum'") as err:
        get_rule(bad)
    assert repr(bad) in str(err.value)


@pytest.mark.parametrize(
    "name, key, value",
    [
        ("sgd", "learning_rate", 0.0),
        ("sgd", "learning_rate", -1e-3),
        ("sgd", "learning_rate", "fast"),
        ("sgd_momentum", "momentum", 1.0),
        ("nesterov", "momentum", -0.1),
        ("rmsprop", "decay_rate", 1.0),
        ("rmsprop", "epsilon", 0.0),
        ("rmsprop", "momentum", 1.5),
        ("rmsprop", "centered", 1),
        ("adagrad", "initial_accumulator_value", -0.1),
        ("adam", "beta1", 1.0),
        ("adam", "beta2", -0.5),
        ("adam", "t", -1),
        ("adam", "t", 1.5),
        ("adam", "amsgrad", "yes"),
        ("adamw", "weight_decay", -1e-2),
        ("adamw", "epsilon", float("nan")),
        ("sgd", "gradient_centralization", "True"),
        ("sgd", "gc_axis", 2.0),
    ],
)
def test_bad_config_values_raise_naming_the_key(rng, name, key, value):
    w, dw = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match=key):
        RULES[name](w, dw, {key: value})


def test_gc_axis_out_of_range_raises_when_centralising(rng):
    w, dw = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match="gc_axis"):
        sgd(w, dw, {"gradient_centralization": True, "gc_axis": 2})


@pytest.mark.parametrize("name", sorted(RULES))
def test_mismatched_weights_and_gradient_raise(rng, name):
    w = rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match="dw"):
        RULES[name](w, rng.standard_normal((3, 2)))
    with pytest.raises(ValueError, match="dw"):
        RULES[name](w, w.astype(np.float32))
    with pytest.raises(ValueError, match="w"):
        RULES[name]([[1.0]], np.ones((1, 1)))
    with pytest.raises(ValueError, match="config"):
        RULES[name](w, w, [("learning_rate", 0.1)])


@pytest.mark.parametrize(
    "rule, key", [(sgd_momentum, "velocity"), (rmsprop, "cache"), (adam, "m")]
)
def test_state_arrays_of_the_wrong_shape_or_dtype_raise_naming_the_key(rng, rule, key):
    w = rng.standard_normal((2, 3))
    with pytest.raises(ValueError, match=key):
        rule(w, w, {key: np.zeros((3, 2))})
    with pytest.raises(ValueError, match=key):
        rule(w, w, {key: np.zeros((2, 3), dtype=np.float32)})


# --- gradient clipping -----------------------------------------------------------


def test_clip_by_value_clips_each_entry_to_the_interval():
    dw = np.array([-3.0, -0.5, 0.0, 0.5, 3.0])
    np.testing.assert_array_equal(clip_by_value(dw, 1.0), [-1.0, -0.5, 0.0, 0.5, 1.0])
    assert clip_by_value(dw.astype(np.float32), 1.0).dtype == np.float32


def test_clip_by_norm_rescales_a_long_gradient_to_the_norm():
    # ||(3, 4)|| = 5, so clipping to 1 gives the unit vector (0.6, 0.8).
    np.testing.assert_allclose(clip_by_norm(np.array([3.0, 4.0]), 1.0), [0.6, 0.8])
    np.testing.assert_allclose(clip_by_norm(np.array([3.0, 4.0]), 10.0), [3.0, 4.0])


def test_clip_by_norm_uses_the_norm_of_the_whole_variable():
    # Frobenius norm of [[3, 0], [0, 4]] is 5: both entries scale by 2/5.
    got = clip_by_norm(np.array([[3.0, 0.0], [0.0, 4.0]], dtype=np.float32), 2.0)
    np.testing.assert_allclose(got, [[1.2, 0.0], [0.0, 1.6]], rtol=1e-6)
    assert got.dtype == np.float32


def test_clip_by_norm_leaves_a_zero_gradient_zero():
    np.testing.assert_array_equal(clip_by_norm(np.zeros(3), 1.0), np.zeros(3))


@given(
    values=st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=8),
    clipnorm=st.floats(1e-2, 1e2),
)
def test_clip_by_norm_never_exceeds_the_norm_and_keeps_direction(values, clipnorm):
    dw = np.array(values)
    got = clip_by_norm(dw, clipnorm)
    norm = np.linalg.norm(dw)
    assert np.linalg.norm(got) <= clipnorm * (1 + 1e-12)
    np.testing.assert_allclose(got * max(norm, clipnorm), dw * clipnorm, atol=1e-9)


@pytest.mark.parametrize(
    "fn, arg", [(clip_by_value, "clipvalue"), (clip_by_norm, "clipnorm")]
)
@pytest.mark.parametrize("bad", [0.0, -1.0, "1"])
def test_clipping_rejects_non_positive_thresholds(fn, arg, bad):
    with pytest.raises(ValueError, match=arg):
        fn(np.ones(3), bad)
    with pytest.raises(ValueError, match="dw"):
        fn(np.ones(3, dtype=np.int64), 1.0)
