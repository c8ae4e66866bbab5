"""The engine's model fitted to its training rows: the GP, MAP or averaged over hyperparameter
samples, with what is chosen around the fit (the input warp, the early epochs' extra noise). No Ray.

Shapes: ``X: (n, p)`` training rows (``p = d``, or ``d + 1`` with the fidelity last), ``y: (n,)``
values to maximise, ``cat: (p,)`` the categorical coordinates.

``fit_model`` fits the GP (``gp.fit``; warm-started from the last hyperparameters), then, when the
options ask for them and the hyperparameters were refitted, chooses the input warp
(``input_warping.fit_input_warp``) and the extra noise level (``fidelity.fit_fidelity_noise``)
under those hyperparameters, fitting again when either moved; finally, with ``hyper_samples``, it
replaces the fit by the mixture over posterior samples of the hyperparameters
(``averaging.sample_params``), a chain that starts from the fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import gp, kernel
from .averaging import Mixture, log_posterior, sample_params
from .fidelity import extra_noise, fit_fidelity_noise
from .input_warping import InputWarp, WarpedInputs, fit_input_warp
from .kernel import sq_dists
from .options import EngineOptions

Model = gp.Posterior | Mixture | WarpedInputs


@dataclass(frozen=True)
class ModelState:
    """What a fit starts from and what it settled on: hyperparameters (the chain's last sample when
    averaging), the input warp (None without input warping) and the extra noise level at t = 0."""

    params: kernel.GPParams | None = None
    warp: InputWarp | None = None
    noise_level: float = 0.0


def fit_model(X: np.ndarray, y: np.ndarray, cat: np.ndarray, *, joint: bool, start: ModelState,
              options: EngineOptions, rng: np.random.Generator, n_starts: int, refit: bool) -> tuple[Model, ModelState]:
    """The model on ``(X, y)`` and its state; ``joint``: the last coordinate is the fidelity. Without
    ``refit`` the hyperparameters, warp and level are ``start``'s (averaging still samples)."""
    warm = start.params if start.params is not None and len(start.params.lengthscales) == X.shape[1] else None
    averaging = options.hyper_samples > 0 and len(y) <= options.average_until
    warp = _warp_start(start.warp, cat, joint) if options.input_warping else None
    level = start.noise_level if joint and options.fidelity_noise else 0.0

    def extra() -> np.ndarray | None:
        return extra_noise(X[:, -1], level) if level else None

    def fit(warm_start: kernel.GPParams | None, n_starts: int, refit: bool, warped: bool = options.warp_outputs
            ) -> gp.Posterior:
        return gp.fit(X if warp is None else warp.apply(X), y, cat, rng=rng, warm_start=warm_start, n_starts=n_starts,
                      fit_subset=options.fit_subset, refit=refit, warp=warped,
                      warp_powers=options.warp_powers, extra=extra())

    if options.warp_outputs and options.choose_warp and refit:
        post = choose_warp(fit(warm, n_starts, True), fit(warm, n_starts, True, warped=False), y, cat, extra())
    else:
        post = fit(warm, n_starts, warm is None or (refit and not averaging))
    if warp is not None and refit:
        # The warp that the hyperparameters just fitted like best; the fit again under it when it moved.
        theta, prior, known = post.params.to_theta(), gp.Prior.default(X.shape[1]), extra()
        moved = fit_input_warp(X, lambda W: log_posterior(theta, sq_dists(W, W, cat), post.y, prior, known), warp)
        if moved is not warp:  # fit_input_warp returns its start when nothing beats it
            warp = moved
            post = fit(post.params, 1, not averaging)
    if joint and refit and options.fidelity_noise:
        chosen, theta = fit_fidelity_noise(post.params.to_theta(), post.X, post.y, cat)
        if chosen != level:
            level = chosen
            post = fit(kernel.GPParams.from_theta(theta), 1, not averaging)
    model: gp.Posterior | Mixture = post
    if averaging:
        known = extra()
        samples = sample_params(post.X, post.y, cat, post.params, n_samples=options.hyper_samples, rng=rng, extra=known)
        model = Mixture.build(post.X, post.y, cat, samples, scaling=post.scaling, extra=known)
    state = ModelState(model.components[-1].params, warp, level)  # the chain carries on from its last sample
    return (model if warp is None else WarpedInputs(model, warp)), state


def choose_warp(warped: gp.Posterior, plain: gp.Posterior, y: np.ndarray, cat: np.ndarray,
                extra: np.ndarray | None) -> gp.Posterior:
    """The fit whose maximum-a-posteriori density of ``y`` is higher: each GP's log posterior of its
    targets plus ``log |dw/dy|`` summed (the change of variables from its targets back to ``y``)."""

    def log_density(post: gp.Posterior) -> float:
        theta, prior = post.params.to_theta(), gp.Prior.default(post.X.shape[1])
        return (log_posterior(theta, sq_dists(post.X, post.X, cat), post.y, prior, extra)
                + float(post.scaling.log_slope(y).sum()))

    return warped if log_density(warped) >= log_density(plain) else plain


def _warp_start(last: InputWarp | None, cat: np.ndarray, joint: bool) -> InputWarp:
    """The last warp, or the identity on the ordered coordinates of configs (not the fidelity's)."""
    if last is not None and len(last.mask) == len(cat):
        return last
    mask = ~cat
    if joint:
        mask[-1] = False
    return InputWarp.identity(mask)
