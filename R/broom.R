# broom verbs (through the generics package): tidy(), glance(), augment().

#' @importFrom generics tidy
#' @export
generics::tidy

#' @importFrom generics glance
#' @export
generics::glance

#' @importFrom generics augment
#' @export
generics::augment

#' Tidy, glance and augment an lr_fit
#'
#' The broom verbs, as for [stats::lm()] fits. Multi-output fits get a
#' `response` column.
#'
#' * `tidy()`: one row per coefficient: `term`, `estimate`, `std.error`,
#'   `statistic`, `p.value` (OLS at the fitted estimate, as in
#'   [summary.lr_fit()]; `NA` for an aliased coefficient, as in `lm()`), and
#'   `conf.low`, `conf.high` with `conf.int = TRUE`. It warns (class
#'   `lrtiers_convergence_warning`) when the fit has not converged.
#' * `glance()`: one row (per response), broom's columns for lm: `r.squared`,
#'   `adj.r.squared`, `sigma`, `statistic`, `p.value` (the F test), `df`,
#'   `logLik`, `AIC`, `BIC`, `deviance`, `df.residual`, `nobs`; then lrtiers'
#'   own: `converged`, `epochs`, `digits` (significant digits of the worst
#'   coefficient against the least-squares answer), `loss`, `optimum_loss`,
#'   `loss_gap`, `tier`, `lr`, `stop_reason`, `best_epoch` (the epoch whose
#'   parameters `early_stopping` put back; `NA` otherwise), `elapsed`.
#' * `augment()`: broom's columns for lm: `.rownames` (when the data have row
#'   names), the data, `.fitted`, `.lower` / `.upper` (with `interval`),
#'   `.se.fit` (with `se_fit = TRUE`), `.resid`, and for the training data
#'   `.hat`, `.sigma`, `.cooksd`, `.std.resid`. Multi-output fits get one
#'   `.fitted_<response>` and `.resid_<response>` per response. Without
#'   `newdata` it uses the training data (the model frame, or x and y); with
#'   `newdata` it predicts through the core.
#'
#' All three return tibbles when the tibble package is installed (as broom
#' does), data frames otherwise.
#'
#' @param x An `lr_fit`.
#' @param conf.int,conf.level Add confidence intervals, and their level.
#' @param data The data to augment (default: the training data).
#' @param newdata New data to predict and augment instead.
#' @param ... Not used (an argument landing here is an error).
#' @return A tibble (or a data frame without tibble).
#' @name lr_fit-tidiers
#' @examplesIf lrtiers:::python_ready()
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' tidy(fit, conf.int = TRUE)
#' glance(fit)
#' head(augment(fit))
NULL

#' @rdname lr_fit-tidiers
#' @method tidy lr_fit
#' @export
tidy.lr_fit <- function(x, conf.int = FALSE, conf.level = 0.95, ...) {
  check_no_dots(...)
  warn_not_converged(x, "tidy()")
  tables <- coef_tables(x)
  rows <- lapply(names(tables), function(response) {
    table <- with_aliased_rows(tables[[response]], x$aliased)
    out <- data.frame(
      response = response,
      term = rownames(table),
      estimate = unname(table[, "Estimate"]),
      std.error = unname(table[, "Std. Error"]),
      statistic = unname(table[, "t value"]),
      p.value = unname(table[, "Pr(>|t|)"]),
      stringsAsFactors = FALSE
    )
    if (conf.int) {
      q <- stats::qt((1 + conf.level) / 2, x$df.residual)
      out$conf.low <- out$estimate - q * out$std.error
      out$conf.high <- out$estimate + q * out$std.error
    }
    out
  })
  out <- do.call(rbind, rows)
  if (!x$multi) out$response <- NULL
  rownames(out) <- NULL
  as_tidy_frame(out)
}

#' @rdname lr_fit-tidiers
#' @method glance lr_fit
#' @export
glance.lr_fit <- function(x, ...) {
  check_no_dots(...)
  stats <- fit_statistics(x)
  single <- !x$multi
  fstat <- vapply(stats$fstatistic, function(f) if (is.null(f)) NA_real_ else f[["value"]],
    numeric(1))
  numdf <- x$rank - as.integer(x$intercept)
  ll <- if (single) logLik(x) else NA_real_
  out <- data.frame(
    response = x$target_names,
    r.squared = stats$r.squared,
    adj.r.squared = stats$adj.r.squared,
    sigma = unname(lr_sigma(x)),
    statistic = fstat,
    p.value = stats::pf(fstat, numdf, x$df.residual, lower.tail = FALSE),
    df = numdf,
    logLik = as.numeric(ll),
    AIC = if (single) stats::AIC(x) else NA_real_,
    BIC = if (single) stats::BIC(x) else NA_real_,
    deviance = unname(x$sse),
    df.residual = x$df.residual,
    nobs = x$n_train,
    converged = x$converged,
    epochs = x$epochs_run,
    digits = x$verdict$digits %||% NA_real_,
    loss = x$loss,
    optimum_loss = x$optimum$loss,
    loss_gap = x$loss - x$optimum$loss,
    tier = x$tier,
    lr = x$lr,
    stop_reason = x$stop_reason,
    best_epoch = x$best_epoch %||% NA_integer_,
    elapsed = x$elapsed,
    stringsAsFactors = FALSE
  )
  if (single) out$response <- NULL
  as_tidy_frame(out)
}

#' @rdname lr_fit-tidiers
#' @param se_fit,interval As in broom's `augment.lm()`: add `.se.fit`, and
#'   `.lower` / `.upper` (`"confidence"` or `"prediction"` intervals at `conf.level`).
#' @method augment lr_fit
#' @export
augment.lr_fit <- function(x, data = NULL, newdata = NULL, se_fit = FALSE,
                           interval = c("none", "confidence", "prediction"),
                           conf.level = 0.95, ...) {
  check_no_dots(...)
  interval <- match_choice(interval, "interval", c("none", "confidence", "prediction"))
  check_flag(se_fit, "se_fit")
  inference <- se_fit || interval != "none"
  influence <- NULL
  if (!is.null(newdata)) {
    pred <- predict(x, newdata = newdata, se.fit = inference,
      interval = interval, level = conf.level)
    out <- as.data.frame(newdata)
    response <- response_values(x, newdata)
  } else {
    check_has_data(x, "augment() without newdata")
    pred <- predict(x, se.fit = inference, interval = interval, level = conf.level)
    out <- if (!is.null(data)) {
      as.data.frame(data)
    } else if (!is.null(x$model)) {
      model_frame_columns(x$model)
    } else {
      data.frame(x$x[, x$feature_names, drop = FALSE], # lm()'s x: without "(Intercept)"
        if (x$multi) x$y else data.frame(y = x$y), check.names = FALSE)
    }
    response <- NULL
    if (!x$multi) influence <- influence_columns(x)
  }
  fit <- if (inference) pred$fit else pred
  if (interval != "none") {
    bounds <- fit
    fit <- bounds[, "fit"]
  }
  fitted <- as.matrix(fit)
  resid <- if (is.null(newdata)) {
    as.matrix(without_convergence_warning(stats::residuals(x)))
  } else if (!is.null(response)) {
    as.matrix(response) - fitted
  }
  rows <- rownames(out)
  columns <- list()
  suffix <- if (x$multi) paste0("_", x$target_names) else ""
  for (j in seq_len(ncol(fitted))) {
    columns[[paste0(".fitted", suffix[[j]])]] <- unname(fitted[, j])
  }
  if (interval != "none") {
    columns$.lower <- unname(bounds[, "lwr"])
    columns$.upper <- unname(bounds[, "upr"])
  }
  if (se_fit) columns$.se.fit <- unname(pred$se.fit)
  if (!is.null(resid)) {
    for (j in seq_len(ncol(resid))) columns[[paste0(".resid", suffix[[j]])]] <- unname(resid[, j])
  }
  columns <- c(columns, influence)
  for (name in names(columns)) out[[name]] <- columns[[name]]
  if (has_own_rownames(rows)) out <- cbind(.rownames = rows, out, stringsAsFactors = FALSE)
  rownames(out) <- NULL
  as_tidy_frame(out)
}

#' broom's influence columns for lm: .hat, .sigma, .cooksd, .std.resid
#' @noRd
influence_columns <- function(x) {
  # stats' own, as broom's augment.lm() takes them (predict() has warned already when the
  # fit has not converged)
  without_convergence_warning({
    infl <- stats::influence(x, do.coef = FALSE)
    columns <- list(
      .hat = infl$hat,
      .sigma = infl$sigma,
      .cooksd = stats::cooks.distance(x, infl = infl),
      .std.resid = stats::rstandard(x, infl = infl)
    )
  })
  lapply(columns, unname)
}

has_own_rownames <- function(rows) {
  !is.null(rows) && !identical(rows, as.character(seq_along(rows)))
}

#' A tibble when tibble is installed (as broom returns), else the data frame
#' @noRd
as_tidy_frame <- function(out) {
  if (requireNamespace("tibble", quietly = TRUE)) tibble::as_tibble(out) else out
}

#' A model frame with matrix columns (cbind responses) split into plain columns
#' @noRd
model_frame_columns <- function(model) {
  cols <- lapply(names(model), function(name) {
    value <- model[[name]]
    if (is.matrix(value)) as.data.frame(value) else stats::setNames(data.frame(value), name)
  })
  out <- do.call(cbind, cols)
  rownames(out) <- rownames(model)
  out
}

response_values <- function(x, newdata) {
  if (is.null(x$terms)) {
    return(NULL)
  }
  variables <- all.vars(x$terms[[2L]])
  if (!is.data.frame(newdata) || !all(variables %in% names(newdata))) {
    return(NULL)
  }
  model <- stats::model.frame(x$terms, newdata, na.action = stats::na.pass, xlev = x$xlevels)
  stats::model.response(model, "any")
}
