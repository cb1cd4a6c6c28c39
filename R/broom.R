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
#' * `glance()`: one row (per response): `r.squared`, `adj.r.squared`,
#'   `sigma`, `df`, `df.residual`, `nobs`, `loss`, `optimum_loss`, `loss_gap`,
#'   `converged`, `digits` (significant digits of the worst coefficient against
#'   the least-squares answer), `epochs`, `tier`, `lr`, `stop_reason`,
#'   `elapsed`.
#' * `augment()`: the data with `.fitted` and `.resid` (one pair per response,
#'   `.fitted_<response>`, for multi-output fits). Without `newdata` it uses
#'   the training data (the model frame, or x and y); with `newdata` it
#'   predicts through the core.
#'
#' @param x An `lr_fit`.
#' @param conf.int,conf.level Add confidence intervals, and their level.
#' @param data The data to augment (default: the training data).
#' @param newdata New data to predict and augment instead.
#' @param ... Not used (an argument landing here is an error).
#' @return A data frame.
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
  out
}

#' @rdname lr_fit-tidiers
#' @method glance lr_fit
#' @export
glance.lr_fit <- function(x, ...) {
  check_no_dots(...)
  r2 <- r_squared(x)
  n <- x$n_train
  adj <- 1 - (1 - r2) * (n - as.integer(x$intercept)) / x$df.residual
  out <- data.frame(
    response = x$target_names,
    r.squared = r2,
    adj.r.squared = adj,
    sigma = if (x$df.residual > 0) unname(sqrt(x$sse / x$df.residual)) else NaN,
    df = x$rank - as.integer(x$intercept),
    df.residual = x$df.residual,
    nobs = n,
    loss = x$loss,
    optimum_loss = x$optimum$loss,
    loss_gap = x$loss - x$optimum$loss,
    converged = x$converged,
    digits = x$verdict$digits %||% NA_real_,
    epochs = x$epochs_run,
    tier = x$tier,
    lr = x$lr,
    stop_reason = x$stop_reason,
    elapsed = x$elapsed,
    stringsAsFactors = FALSE
  )
  if (!x$multi) out$response <- NULL
  out
}

#' @rdname lr_fit-tidiers
#' @method augment lr_fit
#' @export
augment.lr_fit <- function(x, data = NULL, newdata = NULL, ...) {
  check_no_dots(...)
  if (!is.null(newdata)) {
    fitted <- predict(x, newdata = newdata)
    out <- as.data.frame(newdata)
    response <- response_values(x, newdata)
    resid <- if (!is.null(response)) as.matrix(response) - as.matrix(fitted)
  } else {
    check_has_data(x, "augment() without newdata")
    if (is.null(data)) {
      out <- if (!is.null(x$model)) {
        model_frame_columns(x$model)
      } else {
        data.frame(x$x, if (x$multi) x$y else data.frame(y = x$y), check.names = FALSE)
      }
      fitted <- x$fitted.values
      resid <- x$residuals
    } else {
      out <- as.data.frame(data)
      fitted <- stats::fitted(x)
      resid <- stats::residuals(x)
    }
  }
  fitted <- as.matrix(fitted)
  suffix <- if (x$multi) paste0("_", x$target_names) else ""
  for (j in seq_len(ncol(fitted))) {
    out[[paste0(".fitted", suffix[[j]])]] <- unname(fitted[, j])
    if (!is.null(resid)) out[[paste0(".resid", suffix[[j]])]] <- unname(as.matrix(resid)[, j])
  }
  rownames(out) <- NULL
  out
}

#' A model frame with matrix columns (cbind responses) split into plain columns
#' @noRd
model_frame_columns <- function(model) {
  cols <- lapply(names(model), function(name) {
    value <- model[[name]]
    if (is.matrix(value)) as.data.frame(value) else stats::setNames(data.frame(value), name)
  })
  out <- do.call(cbind, cols)
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
