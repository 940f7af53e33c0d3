"""BG/NBD and Gamma-Gamma: likelihoods, weighted maximum-likelihood fits and predictions.

Time is in weeks, as in Fader, Hardie and Lee (2005) "Counting your customers the easy way", so the
fitted α reads like the paper's. Every function takes numpy arrays of grouped summaries and a
`weights` array (how many customers share each row): the log-likelihood of a group is its row's
times its count, which makes a fit over a million customers cost what a fit over the distinct
summaries costs.

Parameters are optimised on their logarithms (all are positive) with L-BFGS-B from a neutral
start, with the analytic gradients (digamma terms; the BG/NBD's two-term sum through its softmax
weights), so a fit takes tens of likelihood evaluations rather than hundreds; sums use
gammaln/betaln and logaddexp so that customers with dozens of purchases or long histories do not
overflow.
"""

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

DAYS_PER_WEEK = 7.0
DAYS_PER_MONTH = 365.25 / 12
# Log-parameters stay within e^±12: beyond that a model is degenerate and the data too thin.
LOG_BOUND = 12.0
# Of the mean log-likelihood per customer, with respect to the log-parameters.
GRADIENT_TOLERANCE = 1e-6


class ClvFitError(ValueError):
    """The models could not be fitted: too little data, or the optimiser did not converge.

    `code` names the reason for pages that explain it in the reader's language (ERROR_CODES).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


ERROR_CODES = (
    "too_few_customers",  # fewer customers with a completed order than CLV_MIN_CUSTOMERS
    "too_few_repeat_customers",  # fewer customers who came back than CLV_MIN_REPEAT_CUSTOMERS
    "no_convergence",  # the optimiser stopped without an optimum
    "degenerate",  # an optimum at a bound or with an infinite expected spend
)


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Each row's log-likelihood (paper, eq. 6) for params (r, α, a, b)."""
    r, alpha, a, b = params
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    # For x = 0 the second term is absent; b + x − 1 is only evaluated where x ≥ 1.
    a4 = np.full_like(a3, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * np.log(alpha + t_x[repeat])
    return a1 + a2 + np.logaddexp(a3, a4)


def _bgnbd_value_and_gradient(params, x, t_x, T, weights) -> tuple[float, np.ndarray]:
    """Σ weights × log-likelihood and its gradient with respect to log(r, α, a, b)."""
    r, alpha, a, b = params
    repeat = x > 0
    log_alpha_T = np.log(alpha + T)
    log_alpha_tx = np.log(alpha + t_x)
    a3 = -(r + x) * log_alpha_T
    a4 = np.full_like(a3, -np.inf)
    xr = x[repeat]
    a4[repeat] = np.log(a) - np.log(b + xr - 1) - (r + xr) * log_alpha_tx[repeat]
    mix = np.logaddexp(a3, a4)
    w3, w4 = np.exp(a3 - mix), np.exp(a4 - mix)  # the two terms' shares; w4 = 0 for x = 0
    ll = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b) + mix
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - w3 * log_alpha_T - w4 * log_alpha_tx
    d_alpha = r / alpha - (r + x) * (w3 / (alpha + T) + w4 / (alpha + t_x))
    d_a = digamma(a + b) - digamma(a + b + x) + w4 / a
    d_b = digamma(b + x) - digamma(a + b + x) - digamma(b) + digamma(a + b)
    d_b[repeat] -= w4[repeat] / (b + xr - 1)
    gradient = np.array([(weights * d).sum() for d in (d_r, d_alpha, d_a, d_b)])
    return float((weights * ll).sum()), gradient * np.asarray(params)


def _gamma_gamma_value_and_gradient(params, x, m, weights) -> tuple[float, np.ndarray]:
    """Σ weights × log-likelihood and its gradient with respect to log(p, q, γ)."""
    p, q, gamma = params
    px = p * x
    log_spent = np.log(gamma + m * x)
    ll = gamma_gamma_log_likelihood(params, x, m)
    d_p = x * (digamma(px + q) - digamma(px) + np.log(m) + np.log(x) - log_spent)
    d_q = digamma(px + q) - digamma(q) + np.log(gamma) - log_spent
    d_gamma = q / gamma - (px + q) / (gamma + m * x)
    gradient = np.array([(weights * d).sum() for d in (d_p, d_q, d_gamma)])
    return float((weights * ll).sum()), gradient * np.asarray(params)


def _minimise(value_and_gradient, start: np.ndarray, what: str) -> np.ndarray:
    """Maximise a log-likelihood given as log-params → (value, gradient), both per customer."""

    def negative(log_params):
        value, gradient = value_and_gradient(np.exp(log_params))
        return -value, -gradient

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    result = minimize(
        negative,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 2000},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ClvFitError("no_convergence", f"{what}: the likelihood is not finite at the optimum")
    # L-BFGS-B may stop in its line search at the optimum (the likelihood is flat to machine
    # precision there); a small gradient says it is there.
    if not result.success and np.max(np.abs(result.jac)) > GRADIENT_TOLERANCE:
        # A second pass from the first one's end settles the rare stop on a flat stretch.
        result = minimize(
            lambda log_params: negative(log_params)[0],
            result.x,
            method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 20000},
        )
        if not result.success:
            raise ClvFitError(
                "no_convergence", f"{what}: the optimiser did not converge ({result.message})"
            )
    if np.any(np.abs(result.x) >= LOG_BOUND - 1e-6):
        raise ClvFitError(
            "degenerate", f"{what}: a parameter ran off to its bound; the data do not fit the model"
        )
    return np.exp(result.x)


def bgnbd_fit(x, t_x, T, weights) -> BgNbdParams:
    """Maximum-likelihood (r, α, a, b) over grouped summaries (x, t_x and T in weeks)."""
    x, t_x, T, weights = (np.asarray(v, dtype=float) for v in (x, t_x, T, weights))
    total = weights.sum()

    def value_and_gradient(params):
        value, gradient = _bgnbd_value_and_gradient(params, x, t_x, T, weights)
        return value / total, gradient / total

    # r = a = b = 1 and α at the mean age: a neutral start the paper's fits converge from.
    mean_age = max(float((weights * T).sum() / total), 1e-3)
    start = np.log([1.0, mean_age, 1.0, 1.0])
    r, alpha, a, b = (float(v) for v in _minimise(value_and_gradient, start, "BG/NBD"))
    ll = float((weights * bgnbd_log_likelihood((r, alpha, a, b), x, t_x, T)).sum())
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=ll)


def gamma_gamma_log_likelihood(params, x, m) -> np.ndarray:
    """Each repeat customer's log-likelihood of their mean spend m over x repeat purchases
    (Fader, Hardie and Lee 2005b, "RFM and CLV", eq. 3 integrated over ν)."""
    p, q, gamma = params
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(gamma)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(gamma + m * x)
    )


def gamma_gamma_fit(x, m, weights) -> GammaGammaParams:
    """Maximum-likelihood (p, q, γ) over (x ≥ 1, mean repeat spend m > 0) groups."""
    x, m, weights = (np.asarray(v, dtype=float) for v in (x, m, weights))
    total = weights.sum()

    def value_and_gradient(params):
        value, gradient = _gamma_gamma_value_and_gradient(params, x, m, weights)
        return value / total, gradient / total

    mean_spend = max(float((weights * m).sum() / total), 1e-3)
    start = np.log([1.0, 1.0, mean_spend])
    p, q, gamma = (float(v) for v in _minimise(value_and_gradient, start, "Gamma-Gamma"))
    if q <= 1:
        raise ClvFitError("degenerate", "Gamma-Gamma: q ≤ 1, so the expected spend is infinite")
    ll = float((weights * gamma_gamma_log_likelihood((p, q, gamma), x, m)).sum())
    return GammaGammaParams(p=p, q=q, gamma=gamma, log_likelihood=ll)


def _alive_odds(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """a/(b+x−1) · ((α+T)/(α+t_x))^(r+x) for x ≥ 1, 0 for x = 0: the odds of having dropped out."""
    x = np.asarray(x, dtype=float)
    odds = np.zeros_like(x)
    repeat = x > 0
    xr = x[repeat]
    log_odds = (
        np.log(params.a)
        - np.log(params.b + xr - 1)
        + (params.r + xr)
        * (
            np.log(params.alpha + np.asarray(T, float)[repeat])
            - np.log(params.alpha + np.asarray(t_x, float)[repeat])
        )
    )
    odds[repeat] = np.exp(np.minimum(log_odds, 700.0))
    return odds


def bgnbd_p_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still active | x, t_x, T) (Fader, Hardie and Lee 2008, "Computing P(alive)")."""
    return 1.0 / (1.0 + _alive_odds(params, x, t_x, T))


def _expected_if_alive(params: BgNbdParams, x, T, t) -> np.ndarray:
    """Eq. 10's numerator: E[purchases in the next t weeks] for a customer still alive, times
    P(alive)'s denominator. It depends on (x, T) only, not on t_x."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    power = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))
    hyper = hyp2f1(r + x, b + x, a + b + x - 1, z)
    return (a + b + x - 1) / (a - 1) * (1 - power * hyper)


def _by_x_and_T(params: BgNbdParams, x, T, t) -> np.ndarray:
    """_expected_if_alive over the distinct (x, T) pairs only, spread back to every row: a
    million customers share a few tens of thousands of such pairs, and hyp2f1 is the slow part."""
    pairs, back = np.unique(np.stack([x, T]), axis=1, return_inverse=True)
    return _expected_if_alive(params, pairs[0], pairs[1], t)[back.ravel()]


def bgnbd_expected_purchases(params: BgNbdParams, x, t_x, T, t) -> np.ndarray:
    """E[purchases in the next t weeks | x, t_x, T] (paper, eq. 10)."""
    x, t_x, T = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, t_x, T))
    x, t_x, T = np.broadcast_arrays(x, t_x, T)
    if float(t) == 0:
        return np.zeros(x.shape)
    return _by_x_and_T(params, x, T, float(t)) / (1 + _alive_odds(params, x, t_x, T))


def gamma_gamma_expected_spend(params: GammaGammaParams, x, m) -> np.ndarray:
    """E[spend per purchase | x, m]: a weighted mean of the population mean and the customer's
    own (Fader, Hardie and Lee 2005b, eq. 5); for x = 0 the population mean γp/(q−1)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return params.p * (params.gamma + m * x) / (params.p * x + params.q - 1)


def discounted_purchases(
    params: BgNbdParams, x, t_x, T, *, months: int, discount_monthly: float
) -> np.ndarray:
    """Σ over months k = 1..months of the purchases expected in month k, divided by (1+d)^k.

    Month k's purchases are E[Y(k months)] − E[Y(k−1 months)], so the sum without discounting is
    the expectation over the whole horizon. Multiplied by the expected spend, this is the CLV.
    """
    x, t_x, T = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (x, t_x, T))
    x, t_x, T = np.broadcast_arrays(x, t_x, T)
    weeks_per_month = DAYS_PER_MONTH / DAYS_PER_WEEK
    pairs, back = np.unique(np.stack([x, T]), axis=1, return_inverse=True)
    total = np.zeros(pairs.shape[1])
    previous = np.zeros_like(total)
    for k in range(1, months + 1):
        cumulative = _expected_if_alive(params, pairs[0], pairs[1], k * weeks_per_month)
        total += (cumulative - previous) / (1 + discount_monthly) ** k
        previous = cumulative
    return total[back.ravel()] / (1 + _alive_odds(params, x, t_x, T))
