import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _throughput_models as tm  # noqa: E402
import train_throughput  # noqa: E402


def test_dense_flops_are_two_per_multiply_add():
    # 4 samples x 3 inputs x 5 units = 60 multiply-adds.
    assert tm.dense_flops(4, 3, 5) == 120


def test_conv2d_flops_count_one_dot_product_per_output():
    # 2 samples, 6x6 outputs, 4 filters, each a 3*3*3 = 27-term dot product:
    # 2 * 36 * 4 * 27 = 7776 multiply-adds.
    assert tm.conv2d_flops(2, 6, 6, 3, 4, 3, 3) == 2 * 7776


def test_model_flops_walk_counts_conv_and_dense_layers():
    model = tm.glassnet_model("cnn_mnist")
    forward, train = tm.train_flops_per_sample(model)
    # Hand count: conv 28->26 (3x3x1 -> 32), pool 13, conv 13->11 (3x3x32 -> 64),
    # pool 5, dense 5*5*64 -> 10.
    expected = 2 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 9 * 32 + 1600 * 10)
    assert forward == expected
    assert train == 3 * expected


@pytest.mark.parametrize("name", list(tm.MODELS))
def test_glassnet_and_torch_models_have_equal_parameter_counts(name):
    pytest.importorskip("torch")
    glassnet_count = tm.glassnet_param_count(tm.glassnet_model(name))
    torch_count = tm.torch_param_count(tm.torch_model(name)[0])
    assert glassnet_count == torch_count


def test_mlp_small_has_the_keras_parameter_count():
    # Keras' summary for Flatten-Dense(128)-Dense(10) on 28x28: 101,770 parameters.
    assert tm.glassnet_param_count(tm.glassnet_model("mlp_small")) == 101770


class FakeClock:
    """``time.perf_counter`` and ``time.sleep`` on a clock that moves only when
    told: what a timing function measures, without measuring this machine."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_glassnet_timing_runs_the_steps_it_times(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(train_throughput.time, "perf_counter", clock.perf_counter)
    model = tm.glassnet_model("mlp_small")
    real = model.train_on_batch

    def step(x, y):
        clock.sleep(0.25)  # each step "takes" 0.25 s on the fake clock
        return real(x, y)

    model.train_on_batch = step
    batches = train_throughput._batches(tm.MODELS["mlp_small"], count=2)
    seconds = train_throughput.glassnet_steps(model, batches, 3)
    assert model.optimizer.iterations == 3
    assert seconds == pytest.approx(0.75)


def test_a_settled_run_times_only_the_run_after_its_warm_up(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(train_throughput.time, "perf_counter", clock.perf_counter)
    monkeypatch.setattr(train_throughput.time, "sleep", clock.sleep)
    calls = []
    seconds = train_throughput._settled(
        lambda: (calls.append("warm"), clock.sleep(0.3)),
        lambda: (calls.append("run"), clock.sleep(0.1)),
    )
    assert calls == ["warm", "run"]
    assert clock.now == pytest.approx(train_throughput.SETTLE_S + 0.3 + 0.1)
    assert seconds == pytest.approx(0.1)  # the run alone, not the pause or warm-up


def test_peak_rss_growth_sees_a_buffer_touched_inside_the_window():
    pytest.importorskip("resource")
    if not Path("/proc/self/statm").exists():
        pytest.skip("RSS is read from /proc/self/statm (Linux)")
    size = 64 * 2**20

    def touch():
        buffer = np.ones(size, dtype=np.uint8)
        assert buffer[-1] == 1

    # 64 MiB written page by page must show up, allowing for a little slack.
    assert train_throughput.peak_rss_growth(touch) >= 0.9 * size
