import math

import numpy as np
import pytest

from glassnet import optim, optimizers


def run(opt, w, grads):
    params = {"w": w.copy()}
    for g in grads:
        opt.apply(params, {"w": g})
    return params["w"]


@pytest.mark.parametrize(
    ("opt", "rule", "config"),
    [
        (optimizers.SGD(0.1), optim.sgd, {"learning_rate": 0.1}),
        (
            optimizers.SGD(0.1, momentum=0.9),
            optim.sgd_momentum,
            {"learning_rate": 0.1, "momentum": 0.9},
        ),
        (
            optimizers.SGD(0.1, momentum=0.9, nesterov=True),
            optim.nesterov,
            {"learning_rate": 0.1, "momentum": 0.9},
        ),
        (
            optimizers.RMSprop(),
            optim.rmsprop,
            {
                "learning_rate": 1e-3,
                "decay_rate": 0.9,
                "epsilon": 1e-7,
                "epsilon_in_sqrt": True,
            },
        ),
        (optimizers.Adam(), optim.adam, {"learning_rate": 1e-3, "epsilon": 1e-7}),
        (
            optimizers.AdamW(),
            optim.adamw,
            {"learning_rate": 1e-3, "epsilon": 1e-7, "weight_decay": 0.004},
        ),
        (
            optimizers.Adagrad(),
            optim.adagrad,
            {
                "learning_rate": 1e-3,
                "epsilon": 1e-7,
                "initial_accumulator_value": 0.1,
                "epsilon_in_sqrt": True,
            },
        ),
    ],
)
def test_each_optimizer_calls_its_update_rule_with_keras_defaults(
    rng, opt, rule, config
):
    w = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) for _ in range(3)]
    expected = w.copy()
    for g in grads:
        expected, config = rule(expected, g, config)
    np.testing.assert_allclose(run(opt, w, grads), expected, rtol=1e-12)
    assert opt.iterations == 3


def test_learning_rate_is_writable_and_used_from_the_next_step(rng):
    opt = optimizers.SGD(0.1)
    params = {"w": np.ones(2)}
    opt.apply(params, {"w": np.ones(2)})
    opt.learning_rate = 0.5
    opt.apply(params, {"w": np.ones(2)})
    np.testing.assert_allclose(params["w"], 1 - 0.1 - 0.5)
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1


def test_schedules_follow_their_closed_forms():
    s = optimizers.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert s(5) == pytest.approx(0.1 * 0.5**0.5)
    s = optimizers.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert s(15) == pytest.approx(0.05)
    s = optimizers.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [s(0), s(10), s(11), s(20), s(21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    s = optimizers.CosineDecay(1.0, decay_steps=10, alpha=0.1)
    assert s(5) == pytest.approx(0.9 * 0.5 * (1 + math.cos(math.pi / 2)) + 0.1)
    assert s(100) == pytest.approx(0.1)
    opt = optimizers.SGD(optimizers.PiecewiseConstantDecay([0], [1.0, 0.1]))
    params = {"w": np.zeros(1)}
    opt.apply(params, {"w": np.ones(1)})
    opt.apply(params, {"w": np.ones(1)})
    np.testing.assert_allclose(params["w"], [-1.1])


def test_clipping_limits_the_gradient_before_the_rule():
    params = {"w": np.zeros(2)}
    optimizers.SGD(1.0, clipnorm=1.0).apply(params, {"w": np.array([3.0, 4.0])})
    np.testing.assert_allclose(params["w"], [-0.6, -0.8])
    params = {"w": np.zeros(2)}
    optimizers.SGD(1.0, clipvalue=0.5).apply(params, {"w": np.array([3.0, -0.1])})
    np.testing.assert_allclose(params["w"], [-0.5, 0.1])


def test_state_round_trip_resumes_exactly(rng):
    w = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(4)]
    full = run(optimizers.Adam(0.01), w, grads)
    first = optimizers.Adam(0.01)
    half = run(first, w, grads[:2])
    arrays, scalars = first.get_state()
    second = optimizers.Adam.from_config(first.get_config())
    second.set_state(arrays, scalars)
    np.testing.assert_array_equal(run(second, half, grads[2:]), full)


def test_get_resolves_names_and_configs_and_refuses_unknowns():
    assert isinstance(optimizers.get("Adam"), optimizers.Adam)
    opt = optimizers.get(optimizers.serialize(optimizers.RMSprop(0.01, rho=0.8)))
    assert opt.learning_rate == 0.01 and opt.rho == 0.8
    with pytest.raises(ValueError, match="adam"):
        optimizers.get("adamax")


def test_rmsprop_and_adagrad_put_epsilon_under_the_root_as_keras_does():
    # Keras 3: w -= lr * g / sqrt(v + eps); with a tiny gradient the placement matters.
    g = np.full(1, 1e-4)
    params = {"w": np.zeros(1)}
    optimizers.RMSprop(0.001).apply(params, {"w": g})
    v = 0.1 * g**2
    np.testing.assert_allclose(params["w"], -0.001 * g / np.sqrt(v + 1e-7), rtol=1e-12)
    params = {"w": np.zeros(1)}
    optimizers.Adagrad(0.001).apply(params, {"w": g})
    acc = 0.1 + g**2
    np.testing.assert_allclose(
        params["w"], -0.001 * g / np.sqrt(acc + 1e-7), rtol=1e-12
    )


def test_ema_follows_keras_closed_form_and_overwrites_on_schedule():
    # Keras: the first step starts the average at the weight; then
    # average = m * average + (1 - m) * weight after every step.
    grads = [np.array([1.0]), np.array([2.0]), np.array([-4.0]), np.array([0.5])]
    opt = optimizers.SGD(0.5, use_ema=True, ema_momentum=0.75)
    params = {"w": np.array([1.0])}
    weight, average = 1.0, None
    for g in grads:
        opt.apply(params, {"w": g})
        weight -= 0.5 * g[0]
        average = weight if average is None else 0.75 * average + 0.25 * weight
        np.testing.assert_allclose(params["w"], [weight])  # never overwritten
        np.testing.assert_allclose(opt.slots["w"]["average"], [average])
    opt.finalize_variable_values(params)
    np.testing.assert_allclose(params["w"], [average])

    # Every second step the weight becomes its average, and goes on from there.
    opt = optimizers.SGD(
        0.5, use_ema=True, ema_momentum=0.75, ema_overwrite_frequency=2
    )
    params = {"w": np.array([1.0])}
    weight, average = 1.0, None
    for step, g in enumerate(grads, start=1):
        opt.apply(params, {"w": g})
        weight -= 0.5 * g[0]
        average = weight if average is None else 0.75 * average + 0.25 * weight
        if step % 2 == 0:
            weight = average
        np.testing.assert_allclose(params["w"], [weight])


def test_without_ema_finalize_leaves_the_weights_and_no_average_is_kept():
    opt = optimizers.Adam(0.1)
    params = {"w": np.array([1.0, 2.0])}
    opt.apply(params, {"w": np.array([1.0, -1.0])})
    before = params["w"].copy()
    opt.finalize_variable_values(params)
    np.testing.assert_array_equal(params["w"], before)
    assert "average" not in opt.slots["w"]


def test_ema_settings_are_checked_and_kept_in_the_config():
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=0)
    opt = optimizers.Adam(use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=5)
    again = optimizers.get(optimizers.serialize(opt))
    assert (again.use_ema, again.ema_momentum, again.ema_overwrite_frequency) == (
        True,
        0.9,
        5,
    )


def test_ema_state_round_trip_resumes_exactly(rng):
    w = rng.normal(size=(2, 3))
    grads = [rng.normal(size=(2, 3)) for _ in range(5)]
    make = lambda: optimizers.Adam(0.01, use_ema=True, ema_momentum=0.8)  # noqa: E731
    whole = make()
    full = run(whole, w, grads)
    first = make()
    half = run(first, w, grads[:2])
    second = optimizers.Adam.from_config(first.get_config())
    second.set_state(*first.get_state())
    np.testing.assert_array_equal(run(second, half, grads[2:]), full)
    np.testing.assert_array_equal(
        second.slots["w"]["average"], whole.slots["w"]["average"]
    )


def test_moving_average_is_one_step_of_the_closed_form():
    average, value = np.array([1.0, -2.0]), np.array([3.0, 4.0])
    np.testing.assert_allclose(optim.moving_average(average, value, 0.25), [2.5, 2.5])
    with pytest.raises(ValueError, match="momentum"):
        optim.moving_average(average, value, -0.1)


# -- one optimizer, one model --


def _mlp(name, seed=0):
    from glassnet import layers, models

    model = models.Sequential(
        [layers.Input((4,)), layers.Dense(3, name="dense")], name=name, seed=seed
    )
    return model


def _data(seed=0):
    gen = np.random.default_rng(seed)
    return gen.standard_normal((8, 4)), gen.standard_normal((8, 3))


def test_a_second_model_stepping_with_a_used_optimizer_is_refused():
    opt = optimizers.Adam()
    a, b = _mlp("a"), _mlp("b")
    a.compile(optimizer=opt, loss="mse")
    b.compile(optimizer=opt, loss="mse")
    x, y = _data()
    a.fit(x, y, epochs=1, verbose=0)
    kernel = b.layers[0].params["kernel"].copy()
    with pytest.raises(ValueError) as info:
        b.fit(x, y, epochs=1, verbose=0)
    message = str(info.value)
    assert message.startswith("optimizer: expected ")
    assert "create one optimizer per model" in message
    assert "holds the state of model 'a'" in message and "'b'" in message
    np.testing.assert_array_equal(b.layers[0].params["kernel"], kernel)


def test_two_models_of_the_same_name_sharing_an_optimizer_are_refused():
    opt = optimizers.SGD(0.1, momentum=0.9)
    a, b = _mlp("model"), _mlp("model")
    for m in (a, b):
        m.compile(optimizer=opt, loss="mse")
    x, y = _data()
    a.train_on_batch(x, y)
    with pytest.raises(ValueError, match="state of another model 'model'"):
        b.train_on_batch(x, y)


def test_recompiling_the_same_model_with_its_optimizer_keeps_working():
    opt = optimizers.Adam()
    a = _mlp("a")
    x, y = _data()
    a.compile(optimizer=opt, loss="mse")
    a.fit(x, y, epochs=1, verbose=0)
    a.compile(optimizer=opt, loss="mae")
    a.fit(x, y, epochs=1, verbose=0)
    assert opt.iterations == 2


def test_an_unused_optimizer_may_go_to_any_one_model():
    opt = optimizers.Adam()
    a, b = _mlp("a"), _mlp("b")
    a.compile(optimizer=opt, loss="mse")
    b.compile(optimizer=opt, loss="mse")  # a never trained: b owns the state
    x, y = _data()
    b.fit(x, y, epochs=1, verbose=0)
    assert opt.iterations == 1


def test_a_model_loaded_with_its_optimizer_keeps_training(tmp_path):
    from glassnet import saving

    a = _mlp("a")
    a.compile(optimizer=optimizers.Adam(), loss="mse")
    x, y = _data()
    a.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "a.h5"
    a.save(path)
    restored = saving.load_model(path)
    assert restored.optimizer.iterations == 1
    restored.fit(x, y, epochs=1, verbose=0)
    a.fit(x, y, epochs=1, verbose=0)  # the original keeps its own optimizer too
    np.testing.assert_allclose(
        restored.layers[0].params["kernel"], a.layers[0].params["kernel"]
    )


def test_set_state_hands_the_restored_state_to_the_next_model_to_step():
    opt = optimizers.Adam()
    a, b = _mlp("a"), _mlp("b")
    x, y = _data()
    a.compile(optimizer=opt, loss="mse")
    a.fit(x, y, epochs=1, verbose=0)
    opt.set_state(*opt.get_state())  # as load_weights / BackupAndRestore do
    b.compile(optimizer=opt, loss="mse")
    b.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="holds the state of model 'b'"):
        a.fit(x, y, epochs=1, verbose=0)
