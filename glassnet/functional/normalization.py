"""Normalisation kernels: batch, layer, spatial batch and group normalisation.

Every variant standardises slices of a 2-D view of its input with one shared core,
``_center`` (two-pass mean and variance) and the one closed-form gradient
``_center_backward`` (affine in dout and x - mean, with per-slice coefficients),
then scales and shifts:

- batchnorm: each of the D columns of an (N, D) array (statistics over the batch);
- layernorm: each of the N rows (statistics over the features of one sample);
- spatial batchnorm: reshapes (N, C, H, W) or (N, H, W, C) to (N*H*W, C) and calls
  batchnorm;
- groupnorm: reshapes (N, C, H, W) to (N*G, C//G*H*W) and normalises its rows.

``batchnorm_backward`` also keeps the course's step-by-step derivation through the
computation graph; ``batchnorm_backward_alt`` uses the closed form of the core, and
the tests check that the two agree.
"""

from __future__ import annotations

from typing import Any

from glassnet._internal.checks import (
    check_array,
    check_choice,
    check_int,
    check_number,
    check_param_dict,
    fail,
)
from glassnet._internal.threads import split_batch
from glassnet.backend import Array, Cache, get_array_module
from glassnet.functional._sums import sum_rows
from glassnet.optim import moving_average

__all__ = [
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "batchnorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_backward_nhwc",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_forward_nhwc",
    "spatial_groupnorm_backward",
    "spatial_groupnorm_forward",
]

_DEFAULT_EPS = 1e-5
_DEFAULT_MOMENTUM = 0.9


# Rows of the widened view of a tall (R, D) array: see _by_columns.
_WIDE_ROW = 512
# Below this many elements, splitting costs more than it saves.
_SMALL = 1 << 18


def _widening(*arrays: Array) -> int:
    """How many consecutive rows of these (R, D) arrays to view as one row.

    The largest power of two k with k * D <= _WIDE_ROW that divides R, or 1 when
    an array is not C-contiguous (its widened view would be a copy).
    """
    R, D = arrays[0].shape
    if not all(a.flags.c_contiguous for a in arrays):
        return 1
    k = 1
    while 2 * k * D <= _WIDE_ROW and R % (2 * k) == 0:
        k *= 2
    return k


def _by_columns(kernel: Any, out: Array, arrays: tuple, columns: tuple) -> Array:
    """``kernel(out, *arrays, *columns)`` on (R, D) arrays and (1, D) column values.

    The result is that of one call on the whole arrays; the work is split into
    blocks of rows, across threads (:func:`glassnet._internal.threads.split_batch`), and
    made on widened views: the (N*H*W, C) view of a channels-last map has rows of
    a few dozen values, which NumPy broadcasts against a (1, C) vector one short
    row at a time, while k rows viewed as one (R/k, k*C) row, with the vector
    tiled k times, give the same element-wise results in longer inner loops.
    ``kernel`` must be element-wise, writing ``out`` only.
    """
    if out.size < _SMALL:  # a dense layer's batch: the whole arrays at once
        kernel(out, *arrays, *columns)
        return out
    xp = get_array_module(out)
    D = out.shape[1]
    k = _widening(out, *arrays)
    wide = [a.reshape(-1, k * D) for a in (out, *arrays)]
    tiled = [xp.tile(xp.broadcast_to(c, (1, D)), (1, k)) for c in columns]
    split_batch(lambda s: kernel(*(a[s] for a in wide), *tiled), wide[0])
    return out


def _sum(a: Array, axis: int) -> Array:
    """Sum of a 2-D array over ``axis``, keeping it (size 1), in ``a``'s dtype."""
    if axis == 0:
        return sum_rows(a)[None]
    return a.sum(axis=axis, keepdims=True)


def _sum_of_products(a: Array, b: Array, axis: int) -> Array:
    """``_sum(a * b, axis)`` in one pass, without the (N, D) temporary."""
    xp = get_array_module(a)
    if axis == 1:
        return xp.einsum("ij,ij->i", a, b).reshape(-1, 1)
    # Column sums on the widened views (see _by_columns), then the k partial
    # sums of each column.
    D, k = a.shape[1], _widening(a, b)
    wide = xp.einsum("ij,ij->j", a.reshape(-1, k * D), b.reshape(-1, k * D))
    return wide.reshape(k, D).sum(axis=0, keepdims=True)


def _subtract(out: Array, x: Array, mu: Array) -> None:
    get_array_module(out).subtract(x, mu, out=out)


def _scale_shift(out: Array, x: Array, scale: Array, shift: Array) -> None:
    xp = get_array_module(out)
    xp.multiply(x, scale, out=out)
    xp.add(out, shift, out=out)


def _center(x: Array, axis: int) -> tuple[Array, Array, Array]:
    """Centre a 2-D array along ``axis``: ``(xc, mean, var)``, xc = x - mean.

    Two passes (mean first, then the squares of the centred values), so the
    variance does not cancel when the mean dwarfs the spread, as E[x^2] - mean^2
    would in float32. The statistics keep their reduced axis (size 1) so they
    broadcast against ``x``; ``var`` is the biased variance.
    """
    m = x.shape[axis]
    mu = _sum(x, axis) * (1.0 / m)
    if axis == 0:
        xc = _by_columns(_subtract, get_array_module(x).empty_like(x), (x,), (mu,))
    else:
        xc = x - mu
    var = _sum_of_products(xc, xc, axis) * (1.0 / m)
    return xc, mu, var


def _inv_std(var: Array, eps: float) -> Array:
    return 1.0 / get_array_module(var).sqrt(var + eps)


def _center_backward(
    dy: Array,
    xc: Array,
    inv_std: Array,
    axis: int,
    scale: Any = 1.0,
    sums: tuple[Array, Array] | None = None,
) -> Array:
    """Gradient w.r.t. x of ``xhat = (x - mean) * inv_std``, given
    ``dL/dxhat = scale * dy`` (``scale`` constant along each slice of M entries).

    Differentiating through the mean and the variance,
    ``dx = inv_std * (g - mean(g) - xhat * mean(g * xhat))`` with ``g = dL/dxhat``:
    g loses its component along the constant vector (the mean) and along xhat
    (the variance), then is rescaled like x was. With xhat = xc * inv_std this is
    affine in dy and xc with per-slice coefficients,
    ``dx = k1 * dy + k2 * xc + k3``:
    ``k1 = scale * inv_std``, ``k2 = -scale * inv_std**3 * sum(dy * xc) / M``,
    ``k3 = -scale * inv_std * sum(dy) / M``, so dx takes three elementwise passes.

    ``sums = (sum(dy), sum(dy * xc))`` over each slice, when the caller has them.
    """
    m = dy.shape[axis]
    if sums is None:
        sums = (_sum(dy, axis), _sum_of_products(dy, xc, axis))
    k1 = scale * inv_std
    k2 = k1 * inv_std * inv_std * sums[1] * (-1.0 / m)
    k3 = k1 * sums[0] * (-1.0 / m)
    if axis == 0:
        dx = get_array_module(dy).empty_like(dy)
        return _by_columns(_affine_backward, dx, (dy, xc), (k1, k2, k3))
    dx = dy * k1
    dx += xc * k2
    dx += k3
    return dx


def _affine_backward(
    dx: Array, dy: Array, xc: Array, k1: Array, k2: Array, k3: Array
) -> None:
    """``dx = k1 * dy + k2 * xc + k3`` in place (see _center_backward)."""
    get_array_module(dx).multiply(dy, k1, out=dx)
    dx += xc * k2
    dx += k3


def _scale_shift_backward(
    dout: Array, xhat: Array, gamma: Array, axis: int | tuple[int, ...]
) -> tuple[Array, Array, Array]:
    """Gradients of ``out = gamma * xhat + beta``: ``(dxhat, dgamma, dbeta)``."""
    if axis == 0:
        dgamma = _sum_of_products(dout, xhat, 0).reshape(gamma.shape)
        dbeta = _sum(dout, 0).reshape(gamma.shape)
    else:
        dgamma = (dout * xhat).sum(axis=axis).reshape(gamma.shape)
        dbeta = dout.sum(axis=axis).reshape(gamma.shape)
    return dout * gamma, dgamma, dbeta


def _check_eps(name: str, params: Any) -> float:
    check_param_dict(name, params, ())
    eps = params.get("eps", _DEFAULT_EPS)
    return check_number(f"{name}['eps']", eps, low=0, low_open=True)


def _check_scale_shift(gamma: Array, beta: Array, shape: tuple[int, ...]) -> None:
    check_array("gamma", gamma, shape=shape, floating=True)
    check_array("beta", beta, shape=shape, floating=True)


def _check_bn_param(bn_param: Any, x: Array) -> tuple[str, float, float]:
    """Validate ``bn_param``, create missing running statistics, return its scalars."""
    check_param_dict("bn_param", bn_param, ("mode",))
    mode = check_choice("bn_param['mode']", bn_param["mode"], ("train", "test"))
    eps = _check_eps("bn_param", bn_param)
    momentum = bn_param.get("momentum", _DEFAULT_MOMENTUM)
    momentum = check_number("bn_param['momentum']", momentum, low=0, high=1)
    xp = get_array_module(x)
    for key in ("running_mean", "running_var"):
        if key not in bn_param:
            bn_param[key] = xp.zeros(x.shape[1], dtype=x.dtype)
        check_array(
            f"bn_param['{key}']", bn_param[key], shape=(x.shape[1],), floating=True
        )
    return mode, eps, momentum


def batchnorm_forward(
    x: Array, gamma: Array, beta: Array, bn_param: dict[str, Any]
) -> tuple[Array, Cache]:
    """Batch normalisation: normalise each feature over the batch, then scale and shift.

    In ``'train'`` mode the batch mean and biased variance normalise ``x`` and
    update the running statistics,
    ``running = momentum * running + (1 - momentum) * batch_statistic``; in
    ``'test'`` mode the running statistics normalise ``x``.

    Shapes:
        x: (N, D);  gamma: (D,);  beta: (D,);  out: (N, D)
        bn_param['running_mean'], bn_param['running_var']: (D,)

    Args:
        x: the input batch, floating point.
        gamma: the per-feature scale.
        beta: the per-feature shift.
        bn_param: a dict with keys ``'mode'`` (``'train'`` or ``'test'``,
            required), ``'eps'`` (added to the variance for numerical stability,
            defaults to `1e-5`), ``'momentum'`` (defaults to `0.9`),
            ``'running_mean'`` and ``'running_var'`` (defaults to zeros of x's
            dtype).

    Returns:
        out, and a cache that both ``batchnorm_backward`` and
        ``batchnorm_backward_alt`` accept.

    Mutates:
        ``bn_param``: stores ``'running_mean'`` and ``'running_var'`` (created as
        zeros when missing), replaced by their updated values in ``'train'`` mode.

    Raises:
        ValueError: for a wrong rank or shape of ``x``, ``gamma``, ``beta`` or the
            running statistics, a missing or unknown mode, ``eps <= 0`` or a
            momentum outside [0, 1].
    """
    check_array("x", x, ndim=2, floating=True)
    _check_scale_shift(gamma, beta, (x.shape[1],))
    mode, eps, momentum = _check_bn_param(bn_param, x)
    xp = get_array_module(x)
    # gamma * (x - mu) * inv_std + beta is one per-column affine map: the output
    # takes two passes (scale, shift) and xhat itself is never materialised.
    if mode == "train":
        xc, mu, var = _center(x, axis=0)
        inv_std = _inv_std(var, eps)
        for key, statistic in (("running_mean", mu[0]), ("running_var", var[0])):
            bn_param[key] = moving_average(bn_param[key], statistic, momentum)
        out = _by_columns(
            _scale_shift, xp.empty_like(x), (xc,), (gamma * inv_std, beta)
        )
        cache = {"mode": mode, "x": x, "mu": mu, "inv_std": inv_std, "xc": xc}
    else:
        mu = bn_param["running_mean"].astype(x.dtype, copy=False)
        var = bn_param["running_var"].astype(x.dtype, copy=False)
        inv_std = _inv_std(var, eps)
        scale = gamma * inv_std
        shift = beta - mu * scale
        out = _by_columns(_scale_shift, xp.empty_like(x), (x,), (scale, shift))
        cache = {"mode": mode, "x": x, "mu": mu, "inv_std": inv_std}
    cache["gamma"] = gamma
    return out, cache


def _frozen_statistics_backward(dout: Array, cache: Cache) -> tuple[Array, ...]:
    # In test mode mean and variance are constants, so x -> xhat is affine.
    inv_std, gamma = cache["inv_std"], cache["gamma"]
    xhat = cache["x"] - cache["mu"]
    xhat *= inv_std
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, xhat, gamma, 0)
    return dxhat * inv_std, dgamma, dbeta


def batchnorm_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of batch normalisation, derived node by node through the graph.

    The forward graph is ``mu = mean(x)``, ``xc = x - mu``, ``var = mean(xc**2)``,
    ``inv_std = (var + eps)**-0.5``, ``xhat = xc * inv_std``,
    ``out = gamma * xhat + beta``; the gradient is pushed back through each node in
    reverse order. ``batchnorm_backward_alt`` gives the same result in closed form.

    Shapes:
        dout: (N, D);  dx: (N, D);  dgamma: (D,);  dbeta: (D,)

    Args:
        dout: the upstream gradient.
        cache: the cache from ``batchnorm_forward``.

    Returns:
        ``(dx, dgamma, dbeta)``.

    Raises:
        ValueError: when ``dout``'s shape differs from the forward output's.
    """
    check_array("dout", dout, shape=cache["x"].shape)
    if cache["mode"] == "test":
        return _frozen_statistics_backward(dout, cache)
    N = dout.shape[0]
    xc, inv_std = cache["xc"], cache["inv_std"]
    xhat = xc * inv_std
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, xhat, cache["gamma"], 0)
    # xhat = xc * inv_std: xc reaches the output here and again through var below.
    dxc = dxhat * inv_std
    dinv_std = (dxhat * xc).sum(axis=0, keepdims=True)
    # inv_std = (var + eps)**-0.5, so d inv_std / d var = -0.5 * inv_std**3.
    dvar = -0.5 * inv_std**3 * dinv_std
    # var = mean(xc**2) over N rows.
    dxc = dxc + (2.0 / N) * xc * dvar
    # xc = x - mu: x passes straight through, mu collects minus the column sum.
    dmu = -dxc.sum(axis=0, keepdims=True)
    # mu = mean(x) spreads its gradient evenly over the N rows.
    dx = dxc + dmu / N
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of batch normalisation in simplified closed form.

    ``dx = (1/N) * inv_std * gamma * (N*dout - sum(dout) - xhat*sum(dout*xhat))``,
    sums over the batch axis; equal to ``batchnorm_backward`` and cheaper.

    Shapes:
        dout: (N, D);  dx: (N, D);  dgamma: (D,);  dbeta: (D,)

    Args:
        dout: the upstream gradient.
        cache: the cache from ``batchnorm_forward``.

    Returns:
        ``(dx, dgamma, dbeta)``.

    Raises:
        ValueError: when ``dout``'s shape differs from the forward output's.
    """
    check_array("dout", dout, shape=cache["x"].shape)
    if cache["mode"] == "test":
        return _frozen_statistics_backward(dout, cache)
    xc, inv_std, gamma = cache["xc"], cache["inv_std"], cache["gamma"]
    # dbeta = sum(dout) and dgamma = sum(dout * xhat) = inv_std * sum(dout * xc)
    # are the very sums that dx needs (dL/dxhat = gamma * dout, gamma per column).
    dbeta = _sum(dout, 0)
    dout_xc = _sum_of_products(dout, xc, 0)
    dx = _center_backward(dout, xc, inv_std, 0, scale=gamma, sums=(dbeta, dout_xc))
    dgamma = (dout_xc * inv_std).reshape(gamma.shape)
    return dx, dgamma, dbeta.reshape(gamma.shape)


def layernorm_forward(
    x: Array, gamma: Array, beta: Array, ln_param: dict[str, Any]
) -> tuple[Array, Cache]:
    """Layer normalisation: normalise each sample over its features, scale and shift.

    The statistics belong to one sample, so train and test behave identically and
    nothing is stored in ``ln_param``.

    Shapes:
        x: (N, D);  gamma: (D,);  beta: (D,);  out: (N, D)

    Args:
        x: the input batch, floating point.
        gamma: the per-feature scale.
        beta: the per-feature shift.
        ln_param: a dict with optional key ``'eps'`` (added to the variance for
            numerical stability). Defaults to `1e-5` for ``'eps'``; other keys
            (such as ``'mode'``) are ignored.

    Returns:
        out, and a cache for ``layernorm_backward``.

    Raises:
        ValueError: for a wrong rank or shape of ``x``, ``gamma`` or ``beta``, or
            ``eps <= 0``.
    """
    check_array("x", x, ndim=2, floating=True)
    _check_scale_shift(gamma, beta, (x.shape[1],))
    eps = _check_eps("ln_param", ln_param)
    xc, _, var = _center(x, axis=1)
    inv_std = _inv_std(var, eps)
    out = xc * inv_std
    out *= gamma
    out += beta
    return out, (xc, inv_std, gamma)


def layernorm_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of layer normalisation.

    Shapes:
        dout: (N, D);  dx: (N, D);  dgamma: (D,);  dbeta: (D,)

    Args:
        dout: the upstream gradient.
        cache: the cache from ``layernorm_forward``.

    Returns:
        ``(dx, dgamma, dbeta)``.

    Raises:
        ValueError: when ``dout``'s shape differs from the forward output's.
    """
    xc, inv_std, gamma = cache
    check_array("dout", dout, shape=xc.shape)
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, xc * inv_std, gamma, 0)
    return _center_backward(dxhat, xc, inv_std, axis=1), dgamma, dbeta


def spatial_batchnorm_forward(
    x: Array, gamma: Array, beta: Array, bn_param: dict[str, Any]
) -> tuple[Array, Cache]:
    """Batch normalisation of (N, C, H, W) maps, one set of statistics per channel.

    Every pixel of every sample is one observation of its channel's C features:
    ``x`` is viewed as (N*H*W, C) and handed to ``batchnorm_forward``.

    Shapes:
        x: (N, C, H, W);  gamma: (C,);  beta: (C,);  out: (N, C, H, W)

    Args:
        x: the input maps, channels first.
        gamma: the per-channel scale.
        beta: the per-channel shift.
        bn_param: as for ``batchnorm_forward``.

    Returns:
        out, and a cache for ``spatial_batchnorm_backward``.

    Mutates:
        ``bn_param``: the running statistics, as in ``batchnorm_forward``.

    Raises:
        ValueError: when ``x`` is not of rank 4, or as ``batchnorm_forward``.
    """
    check_array("x", x, ndim=4)
    N, C, H, W = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of ``spatial_batchnorm_forward`` (reshapes, then batchnorm's).

    Shapes:
        dout: (N, C, H, W);  dx: (N, C, H, W);  dgamma: (C,);  dbeta: (C,)

    Args:
        dout: the upstream gradient.
        cache: the cache from ``spatial_batchnorm_forward``.

    Returns:
        ``(dx, dgamma, dbeta)``.

    Raises:
        ValueError: when ``dout`` does not match the forward output's shape.
    """
    check_array("dout", dout, ndim=4)
    N, C, H, W = dout.shape
    flat = dout.transpose(0, 2, 3, 1).reshape(N * H * W, C)
    dx, dgamma, dbeta = batchnorm_backward_alt(flat, cache)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta


def spatial_batchnorm_forward_nhwc(
    x: Array, gamma: Array, beta: Array, bn_param: dict[str, Any]
) -> tuple[Array, Cache]:
    """Channels-last twin of ``spatial_batchnorm_forward``.

    The channel is already the last axis, so viewing ``x`` as (N*H*W, C) needs no
    transpose.

    Shapes:
        x: (N, H, W, C);  gamma: (C,);  beta: (C,);  out: (N, H, W, C)

    Args:
        x: the input maps, channels last.
        gamma: the per-channel scale.
        beta: the per-channel shift.
        bn_param: as for ``batchnorm_forward``.

    Returns:
        out, and a cache for ``spatial_batchnorm_backward_nhwc``.

    Mutates:
        ``bn_param``: the running statistics, as in ``batchnorm_forward``.

    Raises:
        ValueError: when ``x`` is not of rank 4, or as ``batchnorm_forward``.
    """
    check_array("x", x, ndim=4)
    out, cache = batchnorm_forward(x.reshape(-1, x.shape[3]), gamma, beta, bn_param)
    return out.reshape(x.shape), cache


def spatial_batchnorm_backward_nhwc(
    dout: Array, cache: Cache
) -> tuple[Array, Array, Array]:
    """Backward pass of ``spatial_batchnorm_forward_nhwc``.

    Shapes:
        dout: (N, H, W, C);  dx: (N, H, W, C);  dgamma: (C,);  dbeta: (C,)

    Args:
        dout: the upstream gradient.
        cache: the cache from ``spatial_batchnorm_forward_nhwc``.

    Returns:
        ``(dx, dgamma, dbeta)``.

    Raises:
        ValueError: when ``dout`` does not match the forward output's shape.
    """
    check_array("dout", dout, ndim=4)
    dx, dgamma, dbeta = batchnorm_backward_alt(dout.reshape(-1, dout.shape[3]), cache)
    return dx.reshape(dout.shape), dgamma, dbeta


def spatial_groupnorm_forward(
    x: Array, gamma: Array, beta: Array, G: int, gn_param: dict[str, Any]
) -> tuple[Array, Cache]:
    """Group normalisation: normalise each sample over groups of C//G channels.

    Each sample's channels are split into G consecutive groups; each group is
    normalised over its (C//G, H, W) entries, then every channel is scaled and
    shifted. G = 1 is layer normalisation over (C, H, W); G = C is instance
    normalisation.

    Shapes:
        x: (N, C, H, W);  gamma: (1, C, 1, 1);  beta: (1, C, 1, 1);
        out: (N, C, H, W)

    Args:
        x: the input maps, channels first.
        gamma: the per-channel scale.
        beta: the per-channel shift.
        G: the number of groups; must divide C.
        gn_param: a dict with optional key ``'eps'`` (added to the variance for
            numerical stability). Defaults to `1e-5` for ``'eps'``.

    Returns:
        out, and a cache for ``spatial_groupnorm_backward``.

    Raises:
        ValueError: for a wrong rank or shape of ``x``, ``gamma`` or ``beta``, a
            ``G`` that does not divide C, or ``eps <= 0``.
    """
    check_array("x", x, ndim=4, floating=True)
    N, C, H, W = x.shape
    _check_scale_shift(gamma, beta, (1, C, 1, 1))
    G = check_int("G", G, min_value=1)
    if C % G:
        raise fail("G", f"a divisor of the {C} channels", G)
    eps = _check_eps("gn_param", gn_param)
    xc, _, var = _center(x.reshape(N * G, -1), axis=1)
    inv_std = _inv_std(var, eps)
    xhat = (xc * inv_std).reshape(x.shape)
    return gamma * xhat + beta, (xc, inv_std, gamma, x.shape)


def spatial_groupnorm_backward(dout: Array, cache: Cache) -> tuple[Array, Array, Array]:
    """Backward pass of group normalisation.

    Shapes:
        dout: (N, C, H, W);  dx: (N, C, H, W);  dgamma: (1, C, 1, 1);
        dbeta: (1, C, 1, 1)

    Args:
        dout: the upstream gradient.
        cache: the cache from ``spatial_groupnorm_forward``.

    Returns:
        ``(dx, dgamma, dbeta)``.

    Raises:
        ValueError: when ``dout``'s shape differs from the forward output's.
    """
    xc, inv_std, gamma, shape = cache
    check_array("dout", dout, shape=shape)
    xhat = (xc * inv_std).reshape(shape)
    dxhat, dgamma, dbeta = _scale_shift_backward(dout, xhat, gamma, (0, 2, 3))
    dx = _center_backward(dxhat.reshape(xc.shape), xc, inv_std, axis=1)
    return dx.reshape(shape), dgamma, dbeta
