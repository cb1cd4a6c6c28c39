# lm()'s inference methods for lr_fit: sigma, deviance, logLik, the influence
# measures, model.matrix/model.frame, anova. A fit on rows in memory is an lm object
# (R/lm-parts.R): these hand it to stats' methods for lm, which read the trained
# residuals and the QR of the design; a fit without its rows (loaded, streamed) answers
# from the core's record. On a converged fit they are lm()'s numbers; on one that has not
# converged they describe the fitted estimate, and say so.

#' lm()'s methods for lr_fit objects
#'
#' The methods users of [stats::lm()] call, with `lm()`'s definitions: on a
#' converged fit they equal `lm()`'s results (to about 7 significant digits or
#' better); on a fit that has not converged they describe the fitted estimate,
#' and warn (class `lrtiers_convergence_warning`).
#'
#' * `sigma()`, `deviance()` (the residual sum of squares, weighted with
#'   `weights`), `df.residual()`, `nobs()`, `logLik()` (and through it `AIC()`
#'   and `BIC()`), `weights()`.
#' * `model.matrix()`: the design with the intercept column, as `lm()`'s;
#'   `model.frame()`: the model frame (formula fits) of the training rows;
#'   `variable.names()`: the coefficient names (`full = FALSE`: estimated ones).
#' * The influence measures, stats' own from the QR of the design (never an
#'   inverse of `X'WX`): `hatvalues()`, `influence()` (as
#'   [stats::lm.influence()]), `cooks.distance()`, `rstandard()` (`type =
#'   "predictive"` too), `rstudent()`, `dfbeta()`, and the functions built on
#'   them (`dffits()`, `dfbetas()`, `covratio()`, `influence.measures()`).
#' * `anova(fit)`: [stats::anova.lm()] (the sequential sums of squares from the
#'   QR's effects, the residual line the fit's); `anova(fit1, fit2, ...,
#'   test = )`: nested fits compared as `anova.lm()` compares them (F,
#'   `"Chisq"`, `"Cp"`).
#'
#' Multi-output fits answer where `lm()`'s (class `mlm`) do.
#'
#' @param object,model,formula An `lr_fit`.
#' @param full For `variable.names()`: all coefficient names (`TRUE`) or only
#'   the estimated ones.
#' @param ... For `anova()`, further nested `lr_fit`s and [stats::anova.lm()]'s
#'   `test =` and `scale =`; otherwise passed on to the method for `lm`.
#' @name lr_fit-lm-methods
#' @examplesIf lrtiers:::python_ready()
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' c(sigma = sigma(fit), AIC = AIC(fit), BIC = BIC(fit))
#' head(cooks.distance(fit))
#' anova(lr_fit(mpg ~ wt, data = mtcars, seed = 1), fit)
NULL

#' @rdname lr_fit-lm-methods
#' @export
sigma.lr_fit <- function(object, ...) {
  check_no_dots(...)
  lr_sigma(object)
}

lr_sigma <- function(object) {
  out <- if (object$df.residual > 0) sqrt(object$sse / object$df.residual) else
    rep(NaN, length(object$sse))
  if (object$multi) out else unname(out[[1L]])
}

#' @rdname lr_fit-lm-methods
#' @export
deviance.lr_fit <- function(object, ...) {
  check_no_dots(...)
  if (object$multi) object$sse else unname(object$sse[[1L]])
}

#' @rdname lr_fit-lm-methods
#' @export
df.residual.lr_fit <- function(object, ...) {
  check_no_dots(...)
  object$df.residual
}

#' @rdname lr_fit-lm-methods
#' @export
weights.lr_fit <- function(object, ...) {
  if (inherits(object, "lm")) {
    return(NextMethod()) # rows of weight 0 too, padded as na.action says
  }
  check_no_dots(...)
  w <- object$weights
  if (is.null(w)) {
    return(NULL)
  }
  pad_rows(object, stats::setNames(w, names(object$fitted.values)))
}

#' @rdname lr_fit-lm-methods
#' @export
logLik.lr_fit <- function(object, ...) {
  if (inherits(object, "lm")) {
    return(NextMethod()) # logLik.lm(): rows of weight 0 left out, mlm refused
  }
  check_no_dots(...)
  check_single_output(object, "logLik()")
  n <- object$n_train
  w <- object$weights %||% rep(1, n)
  rss <- object$sse[[1L]]
  value <- 0.5 * (sum(log(w)) - n * (log(2 * pi) + 1 - log(n) + log(rss)))
  structure(value, nall = n, nobs = n, df = object$rank + 1L, class = "logLik")
}

#' @rdname lr_fit-lm-methods
#' @export
model.matrix.lr_fit <- function(object, ...) {
  check_no_dots(...)
  design_matrix(object, "model.matrix()")
}

#' @rdname lr_fit-lm-methods
#' @export
model.frame.lr_fit <- function(formula, ...) {
  if (inherits(formula, "lm") && !is.null(formula$terms) &&
    (is.null(formula$model) || ...length())) {
    return(NextMethod()) # model = FALSE, or model.frame(fit, data = ...): as lm()
  }
  check_no_dots(...)
  if (is.null(formula$model)) {
    if (formula$interface %in% c("xy", "recipe")) {
      abort("this fit was made with lr_fit(x, y) or a recipe: it has no model frame; use model.matrix().",
        class = "lrtiers_argument_error")
    }
    check_has_data(structure(list(source = formula$source), class = "lr_fit"), "model.frame()")
  }
  formula$model
}

#' @rdname lr_fit-lm-methods
#' @export
variable.names.lr_fit <- function(object, full = FALSE, ...) {
  check_no_dots(...)
  names <- rownames(object$xtx_inv)
  if (full) names else names[!is.na(diag(object$xtx_inv))]
}

#' The training design, intercept column first, columns named as the coefficients
#' @noRd
design_matrix <- function(object, what = "this method") {
  x <- object[["x"]]
  if (!is.null(x)) {
    # an lm object's x is lm()'s: the model matrix; before that, the x/y fit's features
    return(if (inherits(object, "lm")) x else with_intercept(object, x))
  }
  model <- object$model
  if (is.null(model) && inherits(object, "lm") && !is.null(object$terms)) {
    model <- stats::model.frame(object) # fitted with model = FALSE: evaluated again, as lm()
  }
  if (is.null(model) || is.null(object$terms)) {
    check_has_data(object, what)
    abort("this fit has no training data to build the model matrix from.",
      class = "lrtiers_argument_error")
  }
  full <- stats::model.matrix(object$terms, model, contrasts.arg = object$contrasts)
  names <- rownames(object$xtx_inv)
  x <- full[, names, drop = FALSE]
  attr(x, "assign") <- attr(full, "assign")[match(names, colnames(full))]
  attr(x, "contrasts") <- attr(full, "contrasts")
  x
}

#' Features -> the design with the intercept column (when the fit has one)
#' @noRd
with_intercept <- function(object, x) {
  if (object$intercept) x <- cbind("(Intercept)" = 1, x)
  colnames(x) <- rownames(object$xtx_inv)
  attr(x, "assign") <- seq_len(ncol(x)) - as.integer(object$intercept)
  x
}

# ------------------------------------------------------------------ influence
# A fit on rows in memory is an "lm" object (R/lm-parts.R): the influence measures are
# stats' own, from the QR of the design (lm.influence()), never from an inverse of X'X;
# residuals.lr_fit() warns on the way when the fit has not converged.

#' @rdname lr_fit-lm-methods
#' @export
hatvalues.lr_fit <- function(model, ...) {
  check_has_data(model, "hatvalues()")
  NextMethod()
}

#' @rdname lr_fit-lm-methods
#' @param do.coef For `influence()`: include the coefficient changes.
#' @export
influence.lr_fit <- function(model, do.coef = TRUE, ...) {
  check_has_data(model, "influence()")
  NextMethod()
}

#' @rdname lr_fit-lm-methods
#' @export
cooks.distance.lr_fit <- function(model, ...) {
  check_has_data(model, "cooks.distance()")
  NextMethod()
}

#' @rdname lr_fit-lm-methods
#' @export
rstandard.lr_fit <- function(model, ...) {
  check_has_data(model, "rstandard()")
  NextMethod()
}

#' @rdname lr_fit-lm-methods
#' @export
rstudent.lr_fit <- function(model, ...) {
  check_has_data(model, "rstudent()")
  NextMethod()
}

#' @rdname lr_fit-lm-methods
#' @export
dfbeta.lr_fit <- function(model, ...) {
  check_has_data(model, "dfbeta()")
  NextMethod()
}

# ------------------------------------------------------------------ anova

#' @rdname lr_fit-lm-methods
#' @export
anova.lr_fit <- function(object, ...) {
  dots <- list(...)
  named <- if (is.null(names(dots))) rep(FALSE, length(dots)) else nzchar(names(dots))
  fits <- c(list(object), dots[!named]) # named: anova.lm()'s options (test =, scale =)
  lm_like <- function(f) inherits(f, "lr_fit") && inherits(f, "lm") && !is.null(f$terms)
  if (all(vapply(fits, lm_like, logical(1)))) {
    # anova.lm(), anova.lmlist(), anova.mlm(): lm()'s tables and tests (test = "Chisq", ...)
    for (fit in fits) warn_not_converged(fit, "anova()")
    if (length(fits) > 1L) check_same_rows(fits)
    return(NextMethod())
  }
  if (length(dots)) {
    return(anova_nested(fits))
  }
  check_single_output(object, "anova()")
  check_has_data(object, "anova(fit) (the sequential sums of squares)")
  warn_not_converged(object, "anova()")
  x <- design_matrix(object)
  kept <- !is.na(diag(object$xtx_inv))
  assign <- attr(x, "assign")[kept]
  w <- sqrt(object$weights %||% 1)
  y <- object$fitted.values + object$residuals - (object$offset %||% 0)
  qr <- qr(x[, kept, drop = FALSE] * w)
  effects <- qr.qty(qr, y * w)[seq_len(qr$rank)]
  assign <- assign[qr$pivot[seq_len(qr$rank)]]
  labels <- c("(Intercept)", attr(object$terms, "term.labels") %||% object$feature_names)
  if (is.null(object$terms)) assign <- seq_along(assign) - as.integer(object$intercept)
  ss <- vapply(split(effects^2, assign), sum, numeric(1))
  df <- lengths(split(assign, assign))
  names(ss) <- names(df) <- labels[as.integer(names(ss)) + 1L]
  if (object$intercept) {
    ss <- ss[-1L]
    df <- df[-1L]
  }
  resid_df <- object$df.residual
  rss <- object$sse[[1L]]
  ms <- ss / df
  f <- ms / (rss / resid_df)
  p <- stats::pf(f, df, resid_df, lower.tail = FALSE)
  table <- data.frame(
    Df = c(df, resid_df), "Sum Sq" = c(ss, rss), "Mean Sq" = c(ms, rss / resid_df),
    "F value" = c(f, NA), "Pr(>F)" = c(p, NA), check.names = FALSE
  )
  rownames(table) <- c(names(ss), "Residuals")
  structure(table,
    heading = c("Analysis of Variance Table\n",
      paste0("Response: ", if (is.null(object$terms)) "y" else deparse(stats::formula(object$terms)[[2L]]))),
    class = c("anova", "data.frame")
  )
}

anova_nested <- function(fits) {
  for (fit in fits) {
    check_lr_fit(fit, "...")
    check_single_output(fit, "anova()")
    warn_not_converged(fit, "anova()")
  }
  check_same_rows(fits)
  resdf <- vapply(fits, function(f) as.numeric(f$df.residual), numeric(1))
  rss <- vapply(fits, function(f) f$sse[[1L]], numeric(1))
  df <- c(NA, -diff(resdf))
  ss <- c(NA, -diff(rss))
  big <- which.min(resdf)
  scale <- rss[[big]] / resdf[[big]]
  f <- ss / df / scale
  p <- stats::pf(abs(f), abs(df), resdf[[big]], lower.tail = FALSE)
  table <- data.frame(resdf, rss, df, ss, f, p)
  dimnames(table) <- list(seq_along(fits),
    c("Res.Df", "RSS", "Df", "Sum of Sq", "F", "Pr(>F)"))
  formulas <- vapply(fits, function(f) {
    if (is.null(f$terms)) "lr_fit(x, y)" else deparse1(stats::formula(f$terms))
  }, character(1))
  structure(table,
    heading = c("Analysis of Variance Table\n",
      paste0("Model ", format(seq_along(fits)), ": ", formulas, collapse = "\n")),
    class = c("anova", "data.frame")
  )
}

# ------------------------------------------------------------------ checks

check_same_rows <- function(fits) {
  n <- vapply(fits, function(f) f$n_train, integer(1))
  if (length(unique(n)) > 1L) {
    abort("the fits compared by anova() must use the same rows; their nobs() differ.",
      class = "lrtiers_argument_error")
  }
}

check_single_output <- function(object, what) {
  if (isTRUE(object$multi)) {
    abort(sprintf("%s needs a single-output fit; this one has %d outputs (%s).", what,
      length(object$target_names), paste(object$target_names, collapse = ", ")),
    class = "lrtiers_argument_error")
  }
}

check_level <- function(level) {
  if (!is.numeric(level) || length(level) != 1L || is.na(level) || level <= 0 || level >= 1) {
    abort(sprintf("`level` must be a number between 0 and 1; got %s.", describe(level)),
      class = "lrtiers_argument_error")
  }
  level
}

match_choice <- function(value, arg, choices) {
  if (identical(value, choices)) {
    return(choices[[1L]])
  }
  # partial matching, as match.arg(): interval = "conf"
  if (is.character(value) && length(value) == 1L && !is.na(value) && nzchar(value)) {
    hit <- pmatch(value, choices)
    if (!is.na(hit)) value <- choices[[hit]]
  }
  if (!is.character(value) || length(value) != 1L || !value %in% choices) {
    abort(sprintf("`%s` must be one of %s; got %s.", arg,
      paste0("\"", choices, "\"", collapse = ", "), describe(value)),
    class = "lrtiers_argument_error")
  }
  value
}
