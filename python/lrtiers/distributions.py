"""Student's t and Fisher's F tails, and the t quantile, in the standard library's math.

Inference (p-values, intervals) needs these few functions and nothing else of SciPy, so the
core keeps to its requirements (torch, numpy, pandas, threadpoolctl) and every user, R's
included, gets p-values. Both tails are the regularised incomplete beta function
I_x(a, b), evaluated by its continued fraction (modified Lentz, as Numerical Recipes 6.4)
on the side where it converges, with the logarithms of x and 1 - x and of B(a, b) formed
without cancellation: log1p of the ratios the statistics give, and a Stirling series for
the log-gamma differences of large degrees of freedom. The tests compare them with
scipy.special: 1e-11 relative up to 1e5 degrees of freedom, into tails of 1e-200.
"""

from __future__ import annotations

import math
from statistics import NormalDist

#: Continued-fraction terms at most (on the side where it is evaluated it converges in tens
#: of terms: 23 for the t tail at 1e8 degrees of freedom)
MAX_TERMS = 1_000_000
_EPS = 2.220446049250313e-16
_TINY = 1e-300


def t_two_sided(t: float, df: float) -> float:
    """P(|T| >= |t|) for Student's t with df degrees of freedom (R's 2 * pt(-|t|, df));
    NaN for NaN or df <= 0."""
    if math.isnan(t) or not df > 0:
        return math.nan
    if math.isinf(t):
        return 0.0
    if t == 0:
        return 1.0
    return _beta_tail(df / 2, 0.5, t * t / df)


def t_upper(t: float, df: float) -> float:
    """P(T >= t) (R's pt(t, df, lower.tail = FALSE))."""
    if math.isnan(t) or not df > 0:
        return math.nan
    tail = 0.5 * t_two_sided(t, df)
    return tail if t >= 0 else 1.0 - tail


def f_upper(f: float, df1: float, df2: float) -> float:
    """P(F >= f) for Fisher's F with (df1, df2) degrees of freedom (R's pf(f, df1, df2,
    lower.tail = FALSE)); NaN for NaN or degrees of freedom <= 0."""
    if math.isnan(f) or not (df1 > 0 and df2 > 0):
        return math.nan
    if f <= 0:
        return 1.0
    if math.isinf(f):
        return 0.0
    return _beta_tail(df2 / 2, df1 / 2, df1 * f / df2)


def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p (R's qt(p, df)), to a few units in the last place: Newton's
    method on the tail from the normal quantile, kept inside a bracket by bisection."""
    if not 0 < p < 1:
        raise ValueError(f"p must be between 0 and 1; got {p!r}")
    if not df > 0:
        raise ValueError(f"df must be positive; got {df!r}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    tail = 1 - p  # exact for the p = 1 - alpha / 2 of intervals (a power-of-two sum)
    lo, hi = 0.0, max(1.0, NormalDist().inv_cdf(p))
    while t_upper(hi, df) > tail:
        lo, hi = hi, 2 * hi
    t = NormalDist().inv_cdf(p)
    t = t if lo < t < hi else 0.5 * (lo + hi)
    for _ in range(200):
        excess = t_upper(t, df) - tail
        if excess > 0:
            lo = t
        else:
            hi = t
        step = excess / t_density(t, df)
        guess = t + step
        t_next = guess if lo < guess < hi else 0.5 * (lo + hi)
        if abs(t_next - t) <= 2 * _EPS * abs(t_next) or hi - lo <= 2 * _EPS * hi:
            return t_next
        t = t_next
    return t


def t_density(t: float, df: float) -> float:
    """Student's t density at t."""
    a = df / 2
    return math.exp(-(a + 0.5) * math.log1p(t * t / df) - 0.5 * math.log(df) - _log_beta(a, 0.5))


def _beta_tail(a: float, b: float, z: float) -> float:
    """I_x(a, b) at x = 1 / (1 + z) (the form both statistics give, z > 0): x, 1 - x and
    their logarithms are then formed without cancellation."""
    x, y = 1 / (1 + z), z / (1 + z)
    log_x, log_y = -math.log1p(z), math.log(z) - math.log1p(z)
    front = math.exp(a * log_x + b * log_y - _log_beta(a, b))
    if front == 0.0:
        return 0.0 if x < (a + 1) / (a + b + 2) else 1.0
    if x < (a + 1) / (a + b + 2):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, y) / b


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of I_x(a, b) (modified Lentz). Its terms differ from 1 by
    about 1 / a near x = 1: at 1e6 degrees of freedom it keeps 10 to 11 digits, at 1e8
    about 8 (p-values are read to 2 or 3)."""
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, MAX_TERMS + 1):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            delta = d * c
            h *= delta
        if abs(delta - 1.0) <= _EPS:
            return h
    raise ArithmeticError(f"the incomplete beta function did not converge (a={a}, b={b}, x={x})")


# Stirling's series for ln Gamma(x) - ((x - 1/2) ln x - x + ln(2 pi) / 2): for x >= 10 its
# terms up to x^-9 leave less than 1e-16 (Abramowitz & Stegun 6.1.41)
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188)
_STIRLING_FROM = 10.0


def _stirling_rest(x: float) -> float:
    inv, inv2 = 1 / x, 1 / (x * x)
    total, power = 0.0, inv
    for coefficient in _STIRLING:
        total += coefficient * power
        power *= inv2
    return total


def _log_beta(a: float, b: float) -> float:
    """ln B(a, b) = ln Gamma(a) + ln Gamma(b) - ln Gamma(a + b), without the cancellation
    of large log-gammas: with big = max(a, b) >= 10, ln Gamma(big + small) - ln Gamma(big)
    = (big - 1/2) log1p(small / big) + small ln(big + small) - small + the Stirling rests."""
    small, big = min(a, b), max(a, b)
    if big < _STIRLING_FROM:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    rise = (
        (big - 0.5) * math.log1p(small / big)
        + small * math.log(big + small)
        - small
        + _stirling_rest(big + small)
        - _stirling_rest(big)
    )
    return math.lgamma(small) - rise
