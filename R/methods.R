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

#' The core's predictions for a complete double matrix of features
#'
#' The core gets only what prediction needs, never the history: the fit record without
#' it becomes a Python LRFit once, kept for later calls (a few recent fits).
#' @noRd
core_predict <- function(object, x) {
  predictor <- core_predictor(object)
  pred <- with_core_conditions(predictor$predict(x), what = function() "predict()",
    muffle = "RankDeficiencyWarning") # R warned already
  as_r_prediction(pred, object$target_names, rownames(x))
}

core_predictor <- function(object) {
  cache <- .state$predictors %||% list()
  key <- object$key %||% ""
  if (nzchar(key) && !is.null(cache[[key]])) {
    return(cache[[key]])
  }
  module <- core()
  json <- reticulate::import("json", convert = FALSE)
  record <- object$core
  record$history <- list(epoch = list(), loss = list(), grad_norm = list())
  predictor <- with_core_conditions(module$LRFit$from_dict(json$loads(json_encode(record))),
    what = function() "predict()")
  if (nzchar(key)) {
    cache[[key]] <- predictor
    .state$predictors <- utils::tail(cache, 8L)
  }
  predictor
}

#' A new model matrix (and offset) from newdata, as the fit built its own
#' @noRd
prediction_matrix <- function(object, newdata, na.action) {
  offset <- NULL
  if (!is.null(object$terms)) {
    if (!is.data.frame(newdata) && !is.list(newdata)) {
      abort(sprintf(
        "`newdata` must be a data frame with the variables of the formula; got %s.",
        describe(newdata)
      ), class = "lrtiers_argument_error")
    }
    built <- tryCatch(
      new_model_matrix(object$terms, object$xlevels, object$contrasts, newdata,
        na.action = na.action),
      error = function(e) {
        abort(c("could not build the model matrix from `newdata`:", conditionMessage(e)),
          class = "lrtiers_data_error"
        )
      }
    )
    x <- built$x
    offset <- stats::model.offset(built$model)
    if (!is.null(object$offset_call)) {
      extra <- eval(object$offset_call, newdata, environment(object$terms) %||% globalenv())
      offset <- (offset %||% 0) + extra
    }
    if (!is.null(offset)) offset <- as.vector(offset)
  } else {
    x <- xy_prediction_matrix(object, newdata)
  }
  list(x = as_double(x), offset = offset)
}

xy_prediction_matrix <- function(object, newdata) {
  x <- newdata
  features <- object$feature_names
  if (is.numeric(x) && is.null(dim(x))) {
    x <- if (length(features) > 1L) {
      matrix(x, nrow = 1L, dimnames = list(NULL, names(x)))
    } else {
      matrix(x, ncol = 1L, dimnames = list(names(x), NULL))
    }
  }
  if (is.data.frame(x)) {
    bad <- names(x)[!vapply(x, is.numeric, logical(1))]
    if (length(bad)) {
      abort(sprintf("`newdata` must have numeric columns only; non-numeric: %s.",
        paste(bad, collapse = ", ")), class = "lrtiers_type_error")
    }
    names <- names(x)
    x <- as.matrix(x)
    colnames(x) <- names
  }
  if (!is.matrix(x) || !is.numeric(x)) {
    abort(sprintf("`newdata` must be a numeric matrix, data frame or vector; got %s.",
      describe_type(x)), class = "lrtiers_type_error")
  }
  if (!is.null(colnames(x))) {
    # by name, always: a column in another place, or another column, is a wrong answer
    missing <- setdiff(features, colnames(x))
    if (length(missing)) {
      abort(
        c(
          sprintf("`newdata` lacks column%s used in the fit: %s.",
            if (length(missing) == 1L) "" else "s", paste(missing, collapse = ", ")),
          sprintf("The fit's columns are %s; newdata's are %s.", paste(features, collapse = ", "),
            paste(colnames(x), collapse = ", ")),
          "Name newdata's columns like the training data's (or drop the names to match by position)."
        ),
        class = "lrtiers_data_error"
      )
    }
    return(x[, features, drop = FALSE])
  }
  if (ncol(x) != length(features)) {
    abort(sprintf("`newdata` must have %d column%s like the training data; got %d.",
      length(features), if (length(features) == 1L) "" else "s", ncol(x)),
      class = "lrtiers_data_error")
  }
  x
}

check_has_data <- function(object, what) {
  if (is.null(object$fitted.values)) {
    abort(
      sprintf(
        "%s needs the training data, which a fit read by lr_load() does not carry; use predict(fit, newdata).",
        what
      ),
      class = "lrtiers_argument_error"
    )
  }
}

check_no_dots <- function(...) {
  if (...length()) {
    names <- ...names() %||% rep("", ...length())
    shown <- ifelse(nzchar(names), paste0("`", names, "`"), "an unnamed argument")
    abort(sprintf("unused argument%s: %s.", if (...length() > 1L) "s" else "",
      paste(shown, collapse = ", ")), call = sys.call(-1), class = "lrtiers_argument_error")
  }
}

#' Plot an lr_fit: lm()'s diagnostics and the loss curve
#'
#' `plot(fit)` draws, one after another, `lm()`'s four diagnostic plots
#' (as [stats::plot.lm()] numbers them: 1 residuals vs fitted, 2 normal Q-Q,
#' 3 scale-location, 5 residuals vs leverage with Cook's distance contours;
#' 4, Cook's distance, on request) and the loss curve (6): the training loss per
#' epoch, the validation loss when there is one, and the closed-form optimum.
#' The loss curve uses a log scale on the loss axis, and on the epoch axis too
#' when the fit ran 10 epochs or more (a fit that converges in a few epochs
#' is otherwise a spike at the left edge). Legends sit above the plot area,
#' never over the data. The diagnostics need the training data (not in a fit
#' read by [lr_load()]) and a single-output fit; without them only the loss
#' curve is drawn.
#'
#' @param x An `lr_fit`.
#' @param which Which plots, by number (see Description) or `"loss"` for 6.
#' @param ask Ask before each new page (as [stats::plot.lm()]).
#' @param log For the loss curve: `"y"`, `"xy"` or `""`; by default `"xy"`
#'   from 10 epochs on, else `"y"`.
#' @param id.n How many of the most extreme points to label.
#' @param ... Graphical parameters passed on to [graphics::plot()].
#' @return `x`, invisibly.
#' @export
#' @examplesIf lrtiers:::python_ready()
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' oldpar <- par(mfrow = c(2, 3))
#' plot(fit)
#' par(oldpar)
#' plot(fit, which = "loss")
plot.lr_fit <- function(x, which = c(1L, 2L, 3L, 5L, 6L),
                        ask = prod(graphics::par("mfcol")) < length(which) &&
                          grDevices::dev.interactive(),
                        log = NULL, id.n = 3L, ...) {
  if (is.character(which)) which[which == "loss"] <- "6"
  which <- suppressWarnings(as.integer(which))
  if (!length(which) || anyNA(which) || any(!which %in% 1:6)) {
    abort("`which` must hold numbers from 1 to 6 (or \"loss\").", class = "lrtiers_value_error")
  }
  diagnostics <- setdiff(which, 6L)
  can_diagnose <- !is.null(x$fitted.values) && !x$multi
  if (length(diagnostics) && !can_diagnose) {
    if (!missing(which)) {
      abort(
        sprintf("the diagnostic plots need %s; plot(fit, which = \"loss\") draws the loss curve.",
          if (x$multi) "a single-output fit" else "the training data, which a fit read by lr_load() lacks"),
        class = "lrtiers_argument_error"
      )
    }
    which <- 6L
  }
  if (ask) {
    old <- grDevices::devAskNewPage(TRUE)
    on.exit(grDevices::devAskNewPage(old), add = TRUE)
  }
  if (length(intersect(which, 1:5))) parts <- diagnostic_parts(x)
  for (w in which) {
    switch(w,
      plot_residuals_fitted(parts, id.n, ...),
      plot_qq(parts, id.n, ...),
      plot_scale_location(parts, id.n, ...),
      plot_cooks(parts, id.n, ...),
      plot_leverage(parts, id.n, x$rank, ...),
      plot_loss(x, log, ...)
    )
  }
  invisible(x)
}

diagnostic_parts <- function(x) {
  w <- x$weights %||% rep(1, length(x$residuals))
  r <- sqrt(w) * unname(x$residuals)
  h <- leverage(x)
  s <- lr_sigma(x)
  std <- r / (s * sqrt(1 - h))
  labels <- names(x$fitted.values) %||% as.character(seq_along(r))
  list(fitted = unname(x$fitted.values), resid = r, hat = unname(h), std = unname(std),
    cooks = unname((std^2 * h / (1 - h)) / x$rank), labels = labels,
    caption = if (!is.null(x$terms)) deparse1(stats::formula(x$terms)) else "lr_fit(x, y)")
}

label_extremes <- function(x, y, score, labels, id.n) {
  if (id.n <= 0L) {
    return(invisible())
  }
  top <- utils::head(order(-abs(score)), id.n)
  graphics::text(x[top], y[top], labels[top], pos = ifelse(x[top] > mean(range(x)), 2, 4),
    cex = 0.75, xpd = TRUE)
}

smooth_line <- function(x, y) {
  ok <- is.finite(x) & is.finite(y)
  if (sum(ok) > 2L) graphics::lines(stats::lowess(x[ok], y[ok], iter = 3L), col = "#D55E00", lwd = 1.5)
}

plot_residuals_fitted <- function(p, id.n, ...) {
  graphics::plot(p$fitted, p$resid, xlab = "Fitted values", ylab = "Residuals",
    main = "Residuals vs Fitted", sub = p$caption, ...)
  graphics::abline(h = 0, lty = 3, col = "grey50")
  smooth_line(p$fitted, p$resid)
  label_extremes(p$fitted, p$resid, p$resid, p$labels, id.n)
}

plot_qq <- function(p, id.n, ...) {
  q <- stats::qqnorm(p$std, main = "Normal Q-Q", ylab = "Standardized residuals",
    sub = p$caption, ...)
  stats::qqline(p$std, lty = 3, col = "grey50")
  label_extremes(q$x, q$y, p$std, p$labels, id.n)
}

plot_scale_location <- function(p, id.n, ...) {
  y <- sqrt(abs(p$std))
  graphics::plot(p$fitted, y, xlab = "Fitted values",
    ylab = expression(sqrt(abs("Standardized residuals"))), main = "Scale-Location",
    ylim = c(0, max(y, na.rm = TRUE)), sub = p$caption, ...)
  smooth_line(p$fitted, y)
  label_extremes(p$fitted, y, y, p$labels, id.n)
}

plot_cooks <- function(p, id.n, ...) {
  graphics::plot(p$cooks, type = "h", xlab = "Obs. number", ylab = "Cook's distance",
    main = "Cook's distance", sub = p$caption, ...)
  label_extremes(seq_along(p$cooks), p$cooks, p$cooks, p$labels, id.n)
}

plot_leverage <- function(p, id.n, rank, ...) {
  ylim <- range(p$std, na.rm = TRUE)
  ylim <- ylim + c(-0.08, 0.08) * diff(ylim)
  xlim <- c(0, max(p$hat, na.rm = TRUE) * 1.05)
  graphics::plot(p$hat, p$std, xlim = xlim, ylim = ylim, xlab = "Leverage",
    ylab = "Standardized residuals", main = "Residuals vs Leverage", sub = p$caption, ...)
  graphics::abline(h = 0, v = 0, lty = 3, col = "grey50")
  smooth_line(p$hat, p$std)
  hh <- seq(min(p$hat[p$hat > 0], 0.01), xlim[[2]], length.out = 101)
  for (level in c(0.5, 1)) {
    bound <- sqrt(level * rank * (1 - hh) / hh)
    graphics::lines(hh, bound, lty = 2, col = "firebrick")
    graphics::lines(hh, -bound, lty = 2, col = "firebrick")
  }
  graphics::mtext("- - Cook's distance 0.5 and 1", side = 3, line = 0.2, adj = 1, cex = 0.7,
    col = "firebrick")
  label_extremes(p$hat, p$std, p$cooks, p$labels, id.n)
}

plot_loss <- function(x, log = NULL, main = sprintf("Loss by epoch (tier \"%s\")", x$tier),
                      xlab = "epoch", ylab = "loss (MSE)", ...) {
  h <- x$history
  if (!nrow(h)) {
    abort("the fit ran no epochs: there is no loss curve to plot.", class = "lrtiers_argument_error")
  }
  log <- log %||% if (nrow(h) >= 10L) "xy" else "y"
  if (!grepl("x", log, fixed = TRUE) && is.finite(x$initial_loss)) {
    # on a linear epoch axis the curve starts where training did: epoch 0
    start <- h[1L, , drop = FALSE]
    start$epoch <- 0L
    start$loss <- x$initial_loss
    if (!is.null(h$val_loss)) start$val_loss <- NA_real_
    h <- rbind(start, h)
  }
  has_val <- !is.null(h$val_loss)
  values <- c(h$loss, if (has_val) h$val_loss, x$optimum$loss)
  values <- values[is.finite(values)]
  if (grepl("y", log, fixed = TRUE)) values <- values[values > 0]
  # room above the plot for the legend: it never covers the curves
  old <- graphics::par(mar = pmax(graphics::par("mar"), c(5.1, 4.1, 5.6, 2.1)))
  on.exit(graphics::par(old), add = TRUE)
  graphics::plot(h$epoch, h$loss, type = if (nrow(h) > 1L) "l" else "p", log = log,
    ylim = range(values), xlab = xlab, ylab = ylab, main = "", lwd = 2, ...)
  graphics::title(main = main, line = 3.2)
  if (has_val) graphics::lines(h$epoch, h$val_loss, lty = 2, lwd = 2, col = "firebrick")
  optimum_shown <- x$optimum$loss > 0 || !grepl("y", log, fixed = TRUE)
  if (optimum_shown) graphics::abline(h = x$optimum$loss, lty = 3, col = "grey40")
  graphics::legend("bottom", inset = c(0, 1), xpd = NA, horiz = TRUE, bty = "n", cex = 0.85,
    legend = c("training", if (has_val) "validation", if (optimum_shown) "least squares (lm())"),
    lty = c(1, if (has_val) 2, if (optimum_shown) 3), lwd = c(2, if (has_val) 2, if (optimum_shown) 1),
    col = c("black", if (has_val) "firebrick", if (optimum_shown) "grey40"))
}
