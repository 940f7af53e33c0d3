"""Reference CLV fits for the benchmark, in a process of their own (no Django, no Kaskad code).

    python -m benchmarks.analytics.clv_reference SUMMARY.npz [--scipy]

SUMMARY.npz holds one row per customer: frequency (repeat purchase days), recency and T (weeks)
and monetary (mean repeat-day spend). Prints JSON: which reference ran, its BG/NBD and Gamma-Gamma
parameters and its seconds.

The reference is lifetimes (BetaGeoFitter, GammaGammaFitter) when it imports; lifetimes 0.11.3
runs with numpy 2.4, scipy 1.17 and pandas 3.1 (requirements-bench.txt). Without it, or with
`--scipy`, an independent fit written here: the published likelihoods summed per customer (no
grouping), minimised with Nelder-Mead from a start on the data's scale.
"""

import argparse
import json
import sys
from time import perf_counter

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln


def lifetimes_fit(frequency, recency, T, monetary) -> dict:
    import lifetimes
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter

    bgf = BetaGeoFitter()
    bgf.fit(pd.Series(frequency), pd.Series(recency), pd.Series(T))
    repeat = frequency > 0
    ggf = GammaGammaFitter()
    ggf.fit(pd.Series(frequency[repeat]), pd.Series(monetary[repeat]))
    return {
        "reference": f"lifetimes {lifetimes.__version__}",
        "bgnbd": {k: float(bgf.params_[k]) for k in ("r", "alpha", "a", "b")},
        "gamma_gamma": {
            "p": float(ggf.params_["p"]),
            "q": float(ggf.params_["q"]),
            "gamma": float(ggf.params_["v"]),
        },
    }


def _bgnbd_nll(log_params, x, t_x, T) -> float:
    r, alpha, a, b = np.exp(log_params)
    first = (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + gammaln(a + b)
        + gammaln(b + x)
        - gammaln(b)
        - gammaln(a + b + x)
    )
    not_dropped = -(r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore"):
        dropped = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return -float(np.sum(first + np.logaddexp(not_dropped, dropped)))


def _gamma_gamma_nll(log_params, x, m) -> float:
    p, q, v = np.exp(log_params)
    ll = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )
    return -float(np.sum(ll))


def scipy_fit(frequency, recency, T, monetary) -> dict:
    options = {"xatol": 1e-8, "fatol": 1e-8, "maxiter": 40_000, "maxfev": 40_000}
    # Starts on the data's scale (α at the mean age, γ at the mean spend): Nelder-Mead from 1 on
    # spends in the hundreds wanders off along the Gamma-Gamma ridge.
    bg = minimize(
        _bgnbd_nll,
        np.log([1.0, T.mean(), 1.0, 1.0]),
        args=(frequency, recency, T),
        method="Nelder-Mead",
        options=options,
    )
    repeat = (frequency > 0) & (monetary > 0)
    gg = minimize(
        _gamma_gamma_nll,
        np.log([1.0, 1.0, monetary[repeat].mean()]),
        args=(frequency[repeat], monetary[repeat]),
        method="Nelder-Mead",
        options=options,
    )
    r, alpha, a, b = np.exp(bg.x)
    p, q, gamma = np.exp(gg.x)
    return {
        "reference": "independent per-customer scipy fit (Nelder-Mead)",
        "bgnbd": {"r": r, "alpha": alpha, "a": a, "b": b},
        "gamma_gamma": {"p": p, "q": q, "gamma": gamma},
        "converged": bool(bg.success and gg.success),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("summary")
    parser.add_argument("--scipy", action="store_true", help="skip lifetimes")
    args = parser.parse_args()
    data = np.load(args.summary)
    columns = [data[name].astype(float) for name in ("frequency", "recency", "T", "monetary")]
    started = perf_counter()
    result = None
    if not args.scipy:
        try:
            result = lifetimes_fit(*columns)
        except ImportError as exc:
            print(f"lifetimes unavailable ({exc}); using the scipy reference", file=sys.stderr)
    if result is None:
        result = scipy_fit(*columns)
    result["seconds"] = round(perf_counter() - started, 2)
    result["customers"] = len(columns[0])
    print(json.dumps(result, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
