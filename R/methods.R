# Methods for lr_fit: what users of lm() expect. Presentation only: the
# numbers come from the core (coefficients, predictions, SSE, (X'X)^-1); R
# computes only standard errors, t and p values and intervals from them.

#' Methods for lr_fit objects
#'
#' `summary()` gives the coefficients with standard errors, t and p values
#' evaluated at the fitted estimate with the ordinary least-squares formula
#' (`Var(b) = SSE / df * (X'X)^-1`, from the core's SSE and `(X'X)^-1`),
#' the final loss next to the least-squares loss, the largest distance of a
#' coefficient to the least-squares ([stats::lm()]) answer, the epochs run and
#' the verdict: how many significant digits the worst coefficient shares with
#' the least-squares answer. Aliased coefficients are `NA` and reported as
#' `summary.lm()` reports them ("not defined because of singularities"); the
#' coefficient table, like `summary.lm()`'s, holds the estimated ones.
#' With a `validation` split the inference uses the training rows only.
#'
#' A fit that has not converged is never shown silently: `print()` and
#' `summary()` say so with the advice for its cause, and `summary()`,
#' `confint()`, `predict()` and [tidy()] warn (class
#' `lrtiers_convergence_warning`): their numbers describe the fitted estimate,
#' not least squares.
#'
#' `predict()` without `newdata` returns the fitted values; with `newdata` it
#' asks the Python core for the predictions (formula fits build the model
#' matrix from `newdata` with the stored terms and factor levels). A
#' multi-output fit gives a matrix with one column per output. Aliased columns
#' contribute nothing, with a warning (class
#' `lrtiers_rank_deficiency_warning`), as `predict.lm()` warns.
#'
#' `vcov()` has `NA` rows and columns for aliased coefficients (as
#' `vcov(lm_fit)`); for a multi-output fit, `NA` covariances between outputs
#' (the core reports one residual sum of squares per output).
#'
#' @param object,x An `lr_fit` (or its summary).
#' @param newdata Data to predict: a data frame for formula fits, a numeric
#'   matrix/data frame (columns matched by name when named) or a vector of one
#'   observation for x/y fits.
#' @param na.action What to do with missing values in `newdata`: the default
#'   [stats::na.pass()] returns `NA` for those rows.
#' @param parm,level As in [stats::confint()].
#' @param digits Significant digits to print.
#' @param signif.stars Print significance stars.
#' @param ... Not used (an argument landing here is an error).
#' @name lr_fit-methods
#' @examplesIf lrtiers:::python_ready()
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1, validation = 0.2)
#' summary(fit)
#' confint(fit)
NULL

#' @rdname lr_fit-methods
#' @export
print.lr_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  check_no_dots(...)
  cat(fit_header(x), "\n", sep = "")
  if (!is.null(x$call)) {
    cat("\nCall:\n", paste(deparse(x$call), sep = "\n", collapse = "\n"), "\n", sep = "")
  }
  cat("\nCoefficients:\n")
  print.default(format(x$coefficients, digits = digits), print.gap = 2L, quote = FALSE)
  cat("\n", fit_footer(x, digits), "\n", sep = "")
  invisible(x)
}

fit_header <- function(x) {
  auto <- identical(x$settings$lr, "auto")
  optimizer <- x$optimizer$name %||% "sgd"
  sprintf(
    "lrtiers fit: tier \"%s\", optimizer \"%s\" (lr = %s%s%s), precondition \"%s\", %d epoch%s%s%s",
    x$tier, optimizer, format(x$lr, digits = 4L), if (auto) ", auto" else "",
    if (is.finite(x$lr_max)) sprintf("; stable up to %s", format(x$lr_max, digits = 4L)) else "",
    x$preconditioner$kind %||% "none",
    x$epochs_run, if (x$epochs_run == 1L) "" else "s",
    if (x$stop_reason != "epochs") sprintf(" (stopped: %s)", x$stop_reason) else "",
    if (is.null(x$settings$batch_size)) ", full batch" else
      sprintf(", batch size %s", x$settings$batch_size)
  )
}

fit_footer <- function(x, digits) {
  gap <- x$loss - x$optimum$loss
  lines <- c(
    sprintf(
      "Training loss (MSE) %s; least squares (lm()) %s; gap %s",
      format(x$loss, digits = digits), format(x$optimum$loss, digits = digits),
      format(gap, digits = 3L)
    ),
    verdict_line(x),
    aliased_line(x),
    source_line(x),
    if (length(x$na.action)) {
      sprintf("(%d observation%s deleted due to missingness)", length(x$na.action),
        if (length(x$na.action) == 1L) "" else "s")
    }
  )
  paste(lines, collapse = "\n")
}

#' @rdname lr_fit-methods
#' @export
summary.lr_fit <- function(object, ...) {
  check_no_dots(...)
  tables <- coef_tables(object)
  gap <- object$loss - object$optimum$loss
  distance <- max(abs(as.vector(object$coefficients) - as.vector(object$optimum$coefficients)),
    na.rm = TRUE
  )
  out <- list(
    call = object$call,
    header = fit_header(object),
    coefficients = if (object$multi) tables else tables[[1L]],
    aliased = object$aliased,
    sigma = if (object$df.residual > 0) sqrt(object$sse / object$df.residual) else
      rep(NaN, length(object$sse)),
    df = c(object$rank, object$df.residual, length(object$xtx_inv[1, ])),
    r.squared = r_squared(object),
    adj.r.squared = fit_statistics(object)$adj.r.squared,
    fstatistic = fit_statistics(object)$fstatistic,
    residuals = if (!is.null(object$residuals)) weighted_residuals(object),
    loss = object$loss,
    optimum_loss = object$optimum$loss,
    loss_gap = gap,
    max_coef_distance = distance,
    converged = object$converged,
    verdict = object$verdict,
    verdict_line = verdict_line(object),
    stop_reason = object$stop_reason,
    epochs_run = object$epochs_run,
    n_train = object$n_train,
    n_val = object$n_val,
    val_loss = if (!is.null(object$history$val_loss) && nrow(object$history)) {
      utils::tail(object$history$val_loss, 1L)
    },
    preconditioner = object$preconditioner$kind %||% "none",
    na.action = object$na.action,
    source_line = source_line(object),
    multi = object$multi
  )
  warn_not_converged(object, "summary()")
  structure(out, class = "summary.lr_fit")
}

#' @rdname lr_fit-methods
#' @export
print.summary.lr_fit <- function(x, digits = max(3L, getOption("digits") - 3L),
                                 signif.stars = getOption("show.signif.stars"), ...) {
  check_no_dots(...)
  cat(x$header, "\n", sep = "")
  if (!is.null(x$call)) {
    cat("\nCall:\n", paste(deparse(x$call), sep = "\n", collapse = "\n"), "\n", sep = "")
  }
  tables <- if (x$multi) x$coefficients else list(x$coefficients)
  n_aliased <- sum(x$aliased)
  residuals <- if (!is.null(x$residuals)) as.matrix(x$residuals)
  for (i in seq_along(tables)) {
    if (!is.null(residuals)) print_residuals(residuals[, i], x$df[[2L]], digits,
      if (x$multi) names(tables)[[i]])
    cat(
      "\nCoefficients", if (x$multi) sprintf(" (response %s)", names(tables)[[i]]),
      if (!x$converged) ", OLS standard errors at the fitted estimate (NOT least squares)",
      if (n_aliased) {
        sprintf(": (%d not defined because of singularities)", n_aliased)
      } else {
        ":"
      },
      "\n",
      sep = ""
    )
    stats::printCoefmat(with_aliased_rows(tables[[i]], x$aliased),
      digits = digits, signif.stars = signif.stars,
      na.print = "NA", P.values = TRUE, has.Pvalue = TRUE
    )
    cat(sprintf(
      "\nResidual standard error: %s on %d degrees of freedom\n",
      format(signif(x$sigma[[i]], digits)), x$df[[2L]]
    ))
    if (!is.na(x$r.squared[[i]])) {
      # summary.lm()'s own cat() calls, spaces included
      f <- x$fstatistic[[i]]
      cat("Multiple R-squared: ", formatC(x$r.squared[[i]], digits = digits))
      if (!is.null(f) && !anyNA(f)) {
        cat(
          ",\tAdjusted R-squared: ", formatC(x$adj.r.squared[[i]], digits = digits),
          "\nF-statistic:", formatC(f[["value"]], digits = digits), "on", f[["numdf"]], "and",
          f[["dendf"]], "DF,  p-value:",
          format.pval(stats::pf(f[["value"]], f[["numdf"]], f[["dendf"]], lower.tail = FALSE),
            digits = digits)
        )
      } else {
        cat(",\tAdjusted R-squared: ", formatC(x$adj.r.squared[[i]], digits = digits))
      }
      cat("\n")
    }
  }
  cat(sprintf(
    "\nTraining loss (MSE): %s after %d epoch%s (stop: %s)\n",
    format(x$loss, digits = digits), x$epochs_run, if (x$epochs_run == 1L) "" else "s",
    x$stop_reason
  ))
  cat(sprintf(
    "Least squares (lm()): loss %s; gap %s; largest coefficient distance %s\n",
    format(x$optimum_loss, digits = digits), format(x$loss_gap, digits = 3L),
    format(x$max_coef_distance, digits = 3L)
  ))
  cat(sprintf(
    "Rows: %d for training%s; trained on %s columns\n", x$n_train,
    if (x$n_val > 0L) {
      sprintf(", %d for validation (final validation loss %s)", x$n_val,
        format(x$val_loss %||% NA_real_, digits = digits))
    } else {
      ""
    },
    switch(x$preconditioner,
      orthogonal = "orthonormalised",
      scale = "standardised",
      "raw"
    )
  ))
  if (length(x$na.action)) {
    cat(sprintf("(%d observation%s deleted due to missingness)\n", length(x$na.action),
      if (length(x$na.action) == 1L) "" else "s"))
  }
  if (!is.null(x$source_line)) cat(strwrap(x$source_line, width = getOption("width")), sep = "\n")
  cat(strwrap(x$verdict_line, width = getOption("width")), sep = "\n")
  invisible(x)
}

#' A coefficient table with NA rows for the aliased coefficients, in their places
#' @noRd
with_aliased_rows <- function(table, aliased) {
  if (!any(aliased)) {
    return(table)
  }
  all_names <- c(if ("(Intercept)" %in% rownames(table)) "(Intercept)", names(aliased))
  out <- matrix(NA_real_, length(all_names), ncol(table), dimnames = list(all_names, colnames(table)))
  out[rownames(table), ] <- table
  out
}

#' One coefficient table per output: Estimate, Std. Error, t value, Pr(>|t|), for
#' the estimated coefficients (aliased ones are left out, as in summary.lm())
#' @noRd
coef_tables <- function(object) {
  est <- as.matrix(object$coefficients)
  if (!object$multi) colnames(est) <- object$target_names
  se <- standard_errors(object)
  df <- object$df.residual
  estimated <- !is.na(est[, 1L])
  tables <- lapply(seq_len(ncol(est)), function(j) {
    t_value <- est[, j] / se[, j]
    p_value <- 2 * stats::pt(-abs(t_value), df)
    table <- cbind(Estimate = est[, j], "Std. Error" = se[, j], "t value" = t_value,
      "Pr(>|t|)" = p_value)
    table[estimated, , drop = FALSE]
  })
  stats::setNames(tables, colnames(est))
}

#' OLS standard errors at the fitted estimate, one column per output (NA where aliased)
#' @noRd
standard_errors <- function(object) {
  d <- diag(object$xtx_inv)
  df <- object$df.residual
  se <- vapply(object$sse, function(sse) {
    if (df > 0) sqrt(sse / df * d) else rep(NaN, length(d))
  }, numeric(length(d)))
  se <- matrix(se, nrow = length(d), dimnames = list(rownames(object$xtx_inv), object$target_names))
  se[is.na(d), ] <- NA_real_
  se
}

r_squared <- function(object) fit_statistics(object)$r.squared

#' summary.lm()'s R-squared, adjusted R-squared and F statistic, one per output (NA without
#' the training data): mss from the fitted values (less any offset), rss the fit's SSE
#' @noRd
fit_statistics <- function(object) {
  q <- length(object$sse)
  if (is.null(object$fitted.values)) {
    return(list(r.squared = rep(NA_real_, q), adj.r.squared = rep(NA_real_, q),
      fstatistic = rep(list(NULL), q)))
  }
  f <- as.matrix(object$fitted.values)
  # R >= 4.3's summary.lm() measures R-squared against the offset; older ones do not
  if (summary_lm_uses_offset()) f <- f - (object$offset %||% 0)
  w <- object$weights %||% rep(1, nrow(f))
  rdf <- object$df.residual
  df_int <- as.integer(object$intercept)
  n <- nrow(f)
  out <- lapply(seq_len(q), function(j) {
    rss <- object$sse[[j]]
    mss <- if (object$intercept) {
      m <- sum(w * f[, j] / sum(w))
      sum(w * (f[, j] - m)^2)
    } else {
      sum(w * f[, j]^2)
    }
    r2 <- mss / (mss + rss)
    numdf <- object$rank - df_int
    list(
      r2 = r2,
      adj = 1 - (1 - r2) * ((n - df_int) / rdf),
      f = if (numdf > 0 && rdf > 0) {
        c(value = (mss / numdf) / (rss / rdf), numdf = numdf, dendf = rdf)
      }
    )
  })
  list(
    r.squared = vapply(out, `[[`, numeric(1), "r2"),
    adj.r.squared = vapply(out, `[[`, numeric(1), "adj"),
    fstatistic = lapply(out, `[[`, "f")
  )
}

summary_lm_uses_offset <- function() {
  any(grepl("offset", deparse(stats::summary.lm), fixed = TRUE))
}

#' summary.lm()'s residuals: weighted by sqrt(w)
#' @noRd
weighted_residuals <- function(object) {
  r <- object$residuals
  if (!is.null(object$weights)) r <- r * sqrt(object$weights)
  r
}

print_residuals <- function(r, rdf, digits, response = NULL) {
  cat("\n", if (is.null(response)) "" else paste0("Response ", response, ": "),
    if (rdf > 5L) "Residuals:\n" else "ALL residuals:\n", sep = "")
  if (rdf > 5L) {
    q <- stats::quantile(r)
    names(q) <- c("Min", "1Q", "Median", "3Q", "Max")
    print(structure(zapsmall(q, digits + 1L), names = names(q)), digits = digits)
  } else {
    print(r, digits = digits)
  }
}

#' @rdname lr_fit-methods
#' @export
coef.lr_fit <- function(object, ...) {
  check_no_dots(...)
  object$coefficients
}

#' @rdname lr_fit-methods
#' @export
vcov.lr_fit <- function(object, ...) {
  check_no_dots(...)
  xtx <- object$xtx_inv
  df <- object$df.residual
  sigma2 <- if (df > 0) object$sse / df else rep(NaN, length(object$sse))
  if (!object$multi) {
    return(sigma2[[1L]] * xtx)
  }
  q <- length(sigma2)
  k <- nrow(xtx)
  names <- as.vector(outer(rownames(xtx), object$target_names, function(c, t) paste0(t, ":", c)))
  out <- matrix(NA_real_, q * k, q * k, dimnames = list(names, names))
  for (j in seq_len(q)) {
    rows <- (j - 1L) * k + seq_len(k)
    out[rows, rows] <- sigma2[[j]] * xtx
  }
  out
}

#' @rdname lr_fit-methods
#' @export
confint.lr_fit <- function(object, parm, level = 0.95, ...) {
  check_no_dots(...)
  warn_not_converged(object, "confint()")
  est <- as.vector(object$coefficients)
  se <- as.vector(standard_errors(object))
  names <- if (object$multi) {
    as.vector(outer(rownames(object$xtx_inv), object$target_names,
      function(c, t) paste0(t, ":", c)))
  } else {
    names(object$coefficients)
  }
  names(est) <- names
  if (missing(parm)) parm <- names else if (is.numeric(parm)) parm <- names[parm]
  a <- (1 - level) / 2
  probs <- c(a, 1 - a)
  q <- stats::qt(probs, object$df.residual)
  labels <- paste(format(100 * probs, trim = TRUE, scientific = FALSE, digits = 3L), "%")
  out <- matrix(NA_real_, length(parm), 2L, dimnames = list(parm, labels))
  idx <- match(parm, names)
  out[, 1L] <- est[idx] + q[[1L]] * se[idx]
  out[, 2L] <- est[idx] + q[[2L]] * se[idx]
  out
}

#' @rdname lr_fit-methods
#' @export
fitted.lr_fit <- function(object, ...) {
  check_no_dots(...)
  check_has_data(object, "fitted()")
  pad_rows(object, object$fitted.values)
}

#' Training-row values padded with NA for rows na.exclude dropped (as lm()); a fit with a
#' validation fraction has values for its training rows only (as nobs())
#' @noRd
pad_rows <- function(object, values) {
  if (!is.null(object$training_rows)) {
    return(values)
  }
  stats::naresid(object$na.action, values)
}

#' @rdname lr_fit-methods
#' @export
residuals.lr_fit <- function(object, ...) {
  check_no_dots(...)
  check_has_data(object, "residuals()")
  pad_rows(object, object$residuals)
}

#' @rdname lr_fit-methods
#' @export
nobs.lr_fit <- function(object, ...) {
  object$n_train
}

#' @rdname lr_fit-methods
#' @export
formula.lr_fit <- function(x, ...) {
  if (is.null(x$terms)) {
    abort("this fit was made with lr_fit(x, y): it has no formula.")
  }
  stats::formula(x$terms)
}

#' @rdname lr_fit-methods
#' @param se.fit Return standard errors of the predictions too (a list, as
#'   [stats::predict.lm()]).
#' @param interval `"none"`, `"confidence"` or `"prediction"`: intervals as
#'   [stats::predict.lm()] gives them, at `level`.
#' @export
predict.lr_fit <- function(object, newdata = NULL, se.fit = FALSE,
                           interval = c("none", "confidence", "prediction"), level = 0.95,
                           na.action = stats::na.pass, ...) {
  check_no_dots(...)
  check_flag(se.fit, "se.fit")
  interval <- match_choice(interval, "interval", c("none", "confidence", "prediction"))
  check_level(level)
  inference <- se.fit || interval != "none"
  if (inference) check_single_output(object, "predict(se.fit = , interval = )")
  warn_not_converged(object, "predict()")
  if (is.null(newdata)) {
    check_has_data(object, "predict() without newdata")
    fit <- object$fitted.values
    x <- if (inference) design_matrix(object)
    offset <- NULL
  } else {
    warn_rank_deficient(object)
    built <- prediction_matrix(object, newdata, na.action)
    x <- built$x
    offset <- built$offset
    complete <- stats::complete.cases(x) & if (is.null(offset)) TRUE else !is.na(offset)
    pred <- if (any(complete)) core_predict(object, x[complete, , drop = FALSE])
    fit <- if (object$multi) {
      matrix(NA_real_, nrow(x), length(object$target_names),
        dimnames = list(rownames(x), object$target_names))
    } else {
      stats::setNames(rep(NA_real_, nrow(x)), rownames(x))
    }
    if (!is.null(pred)) {
      if (object$multi) fit[complete, ] <- pred else fit[complete] <- pred
    }
    if (!is.null(offset)) fit <- fit + offset
    if (inference) x <- with_intercept(object, x)
  }
  if (!inference) {
    return(if (is.null(newdata)) pad_rows(object, fit) else fit)
  }
  kept <- !is.na(diag(object$xtx_inv))
  v <- vcov(object)[kept, kept, drop = FALSE]
  xk <- x[, kept, drop = FALSE]
  se <- sqrt(rowSums((xk %*% v) * xk))
  names(se) <- names(fit)
  df <- object$df.residual
  scale <- lr_sigma(object)
  if (interval != "none") {
    if (interval == "prediction" && !is.null(object$weights)) {
      warning(if (is.null(newdata)) {
        "assuming prediction variance inversely proportional to the weights used for fitting"
      } else {
        "assuming constant prediction variance even though the fit is weighted"
      }, call. = FALSE)
    }
    if (interval == "prediction" && is.null(newdata)) {
      warning("predictions on current data refer to _future_ responses", call. = FALSE)
    }
    width <- stats::qt((1 - level) / 2, df, lower.tail = FALSE) *
      if (interval == "confidence") se else sqrt(se^2 + scale^2 / prediction_weights(object, newdata))
    fit <- cbind(fit = fit, lwr = fit - width, upr = fit + width)
  }
  if (is.null(newdata)) {
    fit <- pad_rows(object, fit)
    se <- pad_rows(object, se)
  }
  if (!se.fit) {
    return(fit)
  }
  list(fit = fit, se.fit = se, df = df, residual.scale = scale)
}

#' predict.lm()'s default: the fit's weights for its own rows, 1 for new data
#' @noRd
prediction_weights <- function(object, newdata) {
  if (is.null(newdata)) object$weights %||% 1 else 1
}

#' The one check of the methods that need the training rows (fitted values, residuals, the
#' model frame or x): a fit trained on rows streamed from a file, or read by lr_load(),
#' does not hold them, and says so (class lrtiers_data_not_in_memory) rather than answer
#' NULL or a number computed without them
#' @noRd
check_has_data <- function(object, what) {
  streamed <- !is.null(object$source)
  if (!streamed && !is.null(object$fitted.values)) {
    return(invisible(object))
  }
  abort(
    if (streamed) {
      source <- object$source
      c(
        sprintf(
          "%s needs the training rows, but this fit was trained on rows streamed from %s (%s rows), which are not in memory.",
          what, source$path, format(source$n_rows, big.mark = ",", scientific = FALSE)
        ),
        "Use predict(fit, newdata = ) for predictions; for the rest, read the file into a data frame and fit that with lr_fit(formula, data = <data frame>)."
      )
    } else {
      sprintf(
        "%s needs the training data, which a fit read by lr_load() does not carry; use predict(fit, newdata).",
        what
      )
    },
    class = "lrtiers_data_not_in_memory"
  )
}

#' A line on the data a streamed fit was trained on (NULL for in-memory fits)
#' @noRd
source_line <- function(x) {
  source <- x$source
  if (is.null(source)) {
    return(NULL)
  }
  sprintf("Data: %s rows streamed from %s (%s file); the rows are not kept in the fit.",
    format(source$n_rows, big.mark = ",", scientific = FALSE), source$path, source$kind)
}
