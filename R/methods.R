# Methods for lr_fit: what users of lm() expect. The coefficients and predictions come from
# the core; a fit on rows in memory is an lm object and hands the inference to stats'
# methods for lm (from the QR of the design); a fit without its rows uses the core's SSE
# and (X'X)^-1 (computed there from the R factor).

#' Methods for lr_fit objects
#'
#' `summary()` is [stats::summary.lm()]'s object and printout (for several
#' outputs [stats::summary.mlm()]'s), computed at the fitted estimate:
#' coefficients with standard errors, t and p values, R-squared, the F
#' statistic (`$fstatistic`, a named vector), `cov.unscaled`, ... Before it
#' comes the fit's header; after it the final loss next to the least-squares loss, the largest distance of a
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
#' A fit made on rows in memory is also an `lm` object (class
#' `c("lr_fit", "lm")`, with `"mlm"` for several outputs): it carries
#' `lm()`'s components (`qr`, the QR of the design as [stats::lm.fit()]
#' computes it, `effects`, `assign`, `rank`, `df.residual`, `residuals`,
#' `fitted.values`, `terms`, `model`, ...) with the trained coefficients, so
#' that the methods of stats and of other packages for `lm` objects work on it
#' (`drop1()`, `add1()`, `step()`, `extractAIC()`, `dffits()`,
#' `influence.measures()`, `dummy.coef()`, `effects()`, `alias()`,
#' `simulate()`, `proj()`, ...). Their numbers are those of the fitted
#' estimate: `lm()`'s once the fit has converged. On a fit that has not
#' converged, `residuals()`, which they all call, warns (class
#' `lrtiers_convergence_warning`). A fit read by [lr_load()] or trained on a
#' streamed file has no rows and is an `lr_fit` only.
#'
#' One difference remains outside lrtiers' reach: sandwich's `vcovCL()`
#' picks its default adjustment by the first class name (HC1 for `"lm"`, HC0
#' otherwise), so on an `lr_fit` give `type = "HC1"` for the numbers of
#' `vcovCL()` on the same `lm()` fit.
#'
#' `vcov()` has `NA` rows and columns for aliased coefficients (as
#' `vcov(lm_fit)`; `complete = FALSE` leaves them out). On a fit in memory it
#' is [stats::vcov()]'s for `lm`, from the R factor of the QR; on a fit without
#' its rows, from the core's `(X'X)^-1` (computed from its R factor), with `NA`
#' covariances between the outputs of a multi-output fit.
#'
#' @param object,x An `lr_fit` (or its summary).
#' @param newdata Data to predict: a data frame for formula fits, a numeric
#'   matrix/data frame (columns matched by name when named) or a vector of one
#'   observation for x/y fits.
#' @param na.action What to do with missing values in `newdata`: the default
#'   [stats::na.pass()] returns `NA` for those rows.
#' @param parm,level As in [stats::confint()].
#' @param complete As in [stats::vcov()]: `NA` rows and columns for aliased
#'   coefficients (`TRUE`) or not.
#' @param type For `residuals()`: as [stats::residuals.lm()]; for `predict()`:
#'   `"response"` or `"terms"` (each term's contribution), as [stats::predict.lm()].
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
    x$epochs_run, if (x$epochs_run == 1L) "" else "s", stop_note(x),
    if (is.null(x$settings$batch_size)) ", full batch" else
      sprintf(", batch size %s%s", x$settings$batch_size,
        if (isTRUE(x$optimizer$variance_reduction)) " (SVRG)" else "")
  )
}

#' Why the fit stopped, and the epoch early stopping put back: " (stopped: tol)",
#' " (stopped: early_stopping; epoch 12 put back)", "" for a fit that ran its epochs
#' @noRd
stop_note <- function(x) {
  best <- x$best_epoch %||% NA_integer_
  notes <- c(
    if (x$stop_reason != "epochs") sprintf("stopped: %s", x$stop_reason),
    if (!is.na(best)) sprintf("epoch %d put back", best)
  )
  if (length(notes)) sprintf(" (%s)", paste(notes, collapse = "; ")) else ""
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
#' @param correlation,symbolic.cor As in [stats::summary.lm()].
#' @export
summary.lr_fit <- function(object, correlation = FALSE, symbolic.cor = FALSE, ...) {
  check_no_dots(...)
  extras <- training_summary(object)
  if (inherits(object, "lm") && !is.null(object$qr)) {
    # summary.lm() (summary.mlm(): one per response) on the trained coefficients and
    # residuals, from the QR: lm()'s object, lm()'s warnings ("essentially perfect fit")
    if (object$df.residual == 0L && object$converged) {
      # saturated: least squares interpolates, its residuals are 0 (lm(): "ALL 5 residuals
      # are 0", NaN standard errors); the trained ones are round-off, which would make
      # them Inf
      object$residuals[] <- 0
    }
    object <- with_lm_terms(object)
    out <- NextMethod()
    warn_not_converged(object, "summary()")
    if (object$multi) {
      return(structure(out, lrtiers = extras, class = c("summary.lr_fit", class(out))))
    }
    return(structure(c(unclass(out), extras), class = c("summary.lr_fit", class(out))))
  }
  # a fit without its rows (read by lr_load(), streamed from a file): what the core's
  # record allows, in summary.lm()'s names
  tables <- coef_tables(object)
  statistics <- fit_statistics(object)
  single <- function(v) if (object$multi) v else v[[1L]]
  out <- list(
    call = object$call,
    terms = object$terms,
    coefficients = if (object$multi) tables else tables[[1L]],
    aliased = is.na(as.matrix(object$coefficients)[, 1L]),
    sigma = single(if (object$df.residual > 0) sqrt(object$sse / object$df.residual) else
      rep(NaN, length(object$sse))),
    df = c(object$rank, object$df.residual, length(object$xtx_inv[1, ])),
    r.squared = single(statistics$r.squared),
    adj.r.squared = single(statistics$adj.r.squared),
    fstatistic = single(statistics$fstatistic),
    cov.unscaled = object$xtx_inv,
    na.action = object$na.action,
    multi = object$multi
  )
  warn_not_converged(object, "summary()")
  structure(c(out, extras), class = "summary.lr_fit")
}

#' What summary() adds to summary.lm(): the training, the least-squares answer, the verdict
#' @noRd
training_summary <- function(object) {
  list(
    header = fit_header(object),
    loss = object$loss,
    optimum_loss = object$optimum$loss,
    loss_gap = object$loss - object$optimum$loss,
    max_coef_distance = max(abs(as.vector(object$coefficients) -
      as.vector(object$optimum$coefficients)), na.rm = TRUE),
    converged = object$converged,
    verdict = object$verdict,
    verdict_line = verdict_line(object),
    stop_reason = object$stop_reason,
    best_epoch = object$best_epoch %||% NA_integer_,
    epochs_run = object$epochs_run,
    n_train = object$n_train,
    n_val = object$n_val,
    val_loss = if (!is.null(object$history$val_loss) && nrow(object$history)) {
      utils::tail(object$history$val_loss, 1L)
    },
    preconditioner = object$preconditioner$kind %||% "none",
    source_line = source_line(object)
  )
}

#' @rdname lr_fit-methods
#' @export
print.summary.lr_fit <- function(x, digits = max(3L, getOption("digits") - 3L),
                                 signif.stars = getOption("show.signif.stars"), ...) {
  extras <- attr(x, "lrtiers") %||% x
  cat(extras$header, "\n", sep = "")
  if (!extras$converged) {
    cat("NOT converged: the standard errors, t and p values are OLS standard errors at the",
      "fitted estimate (NOT least squares).\n")
  }
  if (inherits(x, "summary.lm")) {
    utils::getS3method("print", "summary.lm")(x, digits = digits, signif.stars = signif.stars,
      ...)
  } else if (inherits(x, "listof")) {
    for (response in names(x)) { # print.listof(), with summary.lm()'s printer
      cat(response, ":\n", sep = "")
      utils::getS3method("print", "summary.lm")(x[[response]], digits = digits,
        signif.stars = signif.stars, ...)
      cat("\n")
    }
  } else {
    print_record_summary(x, digits, signif.stars)
  }
  cat(sprintf(
    "Training loss (MSE): %s after %d epoch%s (stop: %s)\n",
    format(extras$loss, digits = digits), extras$epochs_run,
    if (extras$epochs_run == 1L) "" else "s", extras$stop_reason
  ))
  cat(sprintf(
    "Least squares (lm()): loss %s; gap %s; largest coefficient distance %s\n",
    format(extras$optimum_loss, digits = digits), format(extras$loss_gap, digits = 3L),
    format(extras$max_coef_distance, digits = 3L)
  ))
  cat(sprintf(
    "Rows: %d for training%s; trained on %s columns\n", extras$n_train,
    if (extras$n_val > 0L) {
      sprintf(", %d for validation (final validation loss %s)", extras$n_val,
        format(extras$val_loss %||% NA_real_, digits = digits))
    } else {
      ""
    },
    switch(extras$preconditioner,
      orthogonal = "orthonormalised",
      scale = "standardised",
      "raw"
    )
  ))
  if (!is.null(extras$source_line)) {
    cat(strwrap(extras$source_line, width = getOption("width")), sep = "\n")
  }
  cat(strwrap(extras$verdict_line, width = getOption("width")), sep = "\n")
  invisible(x)
}

#' summary() of a fit without its rows: the coefficient tables and what the record allows,
#' laid out as print.summary.lm() lays them out
#' @noRd
print_record_summary <- function(x, digits, signif.stars) {
  if (!is.null(x$call)) {
    cat("\nCall:\n", paste(deparse(x$call), sep = "\n", collapse = "\n"), "\n", sep = "")
  }
  tables <- if (x$multi) x$coefficients else list(x$coefficients)
  n_aliased <- sum(x$aliased)
  for (i in seq_along(tables)) {
    cat(
      "\nCoefficients", if (x$multi) sprintf(" (response %s)", names(tables)[[i]]),
      if (n_aliased) sprintf(": (%d not defined because of singularities)", n_aliased) else ":",
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
    if (length(x$na.action)) {
      cat(sprintf("  (%d observation%s deleted due to missingness)\n", length(x$na.action),
        if (length(x$na.action) == 1L) "" else "s"))
    }
  }
  cat("\n")
}

#' A coefficient table with NA rows for the aliased coefficients, in their places
#' @noRd
with_aliased_rows <- function(table, aliased) {
  if (!any(aliased)) {
    return(table)
  }
  all_names <- union(intersect("(Intercept)", rownames(table)), names(aliased))
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
  n <- object$n_train # rows in the fit: not those of weight 0 (summary.lm()'s n)
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

#' @rdname lr_fit-methods
#' @export
coef.lr_fit <- function(object, ...) {
  check_no_dots(...)
  object$coefficients
}

#' @rdname lr_fit-methods
#' @export
vcov.lr_fit <- function(object, complete = TRUE, ...) {
  if (inherits(object, "lm") && !is.null(object$qr)) {
    object <- with_lm_terms(object)
    return(NextMethod()) # vcov.lm(), vcov.mlm(): from the R factor of the QR, as lm()
  }
  check_no_dots(...)
  check_flag(complete, "complete")
  if (!complete) {
    kept <- !is.na(diag(object$xtx_inv))
    object$xtx_inv <- object$xtx_inv[kept, kept, drop = FALSE]
  }
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
  warn_not_converged(object, "confint()")
  if (inherits(object, "lm") && !is.null(object$qr)) {
    return(NextMethod())
  }
  check_no_dots(...)
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
#' @param fit,scale,k For `extractAIC()`: the fit, and as in [stats::extractAIC()].
#' @export
extractAIC.lr_fit <- function(fit, scale = 0, k = 2, ...) {
  if (inherits(fit, "lm")) {
    return(NextMethod())
  }
  # extractAIC.lm()'s definition, from the record (a fit without its rows)
  n <- fit$n_train
  edf <- n - fit$df.residual
  rss <- deviance(fit)
  dev <- if (scale > 0) rss / scale - n else n * log(rss / n)
  c(edf, dev + k * edf)
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
residuals.lr_fit <- function(object, type = c("working", "response", "deviance", "pearson",
                                               "partial"), ...) {
  check_has_data(object, "residuals()")
  # stats' methods for lm (the influence measures, AIC, drop1(), plot.lm(), ...) read the
  # residuals here: a fit that has not converged says so in each of them
  warn_not_converged_once(object, "residuals()")
  NextMethod() # residuals.lm(): every type, padded as na.action says
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
#' @param interval `"none"`, `"confidence"` or `"prediction"` (abbreviations
#'   too, as `"conf"`): intervals as [stats::predict.lm()] gives them, at `level`.
#' @param terms For `predict(type = "terms")`: the terms to give (default all).
#' @param offset For an x/y fit with an `offset`: the offset of the rows of
#'   `newdata` (formula fits evaluate theirs in `newdata`).
#' @export
predict.lr_fit <- function(object, newdata = NULL, se.fit = FALSE,
                           interval = c("none", "confidence", "prediction"), level = 0.95,
                           type = c("response", "terms"), terms = NULL,
                           na.action = stats::na.pass, offset = NULL, ...) {
  check_no_dots(...)
  check_flag(se.fit, "se.fit")
  interval <- match_choice(interval, "interval", c("none", "confidence", "prediction"))
  type <- match_choice(type, "type", c("response", "terms"))
  check_level(level)
  inference <- se.fit || interval != "none"
  if (inference || type == "terms") {
    check_single_output(object, "predict(se.fit = , interval = , type = \"terms\")")
  }
  warn_not_converged(object, "predict()")
  if (inherits(object, "lm") && !is.null(object$qr) && !is.null(object$terms) &&
    (inference || type == "terms")) {
    if (is.null(newdata)) check_has_data(object, "predict() without newdata")
    # predict.lm(): standard errors from the R factor, the terms from the model frame
    predict_lm <- utils::getS3method("predict", "lm")
    return(if (is.null(newdata)) {
      predict_lm(object, se.fit = se.fit, interval = interval, level = level, type = type,
        terms = terms, na.action = na.action)
    } else {
      predict_lm(object, newdata, se.fit = se.fit, interval = interval, level = level,
        type = type, terms = terms, na.action = na.action)
    })
  }
  if (type == "terms") {
    abort("predict(type = \"terms\") needs a formula fit with its rows in memory.",
      class = "lrtiers_argument_error")
  }
  if (is.null(newdata)) {
    check_has_data(object, "predict() without newdata")
    fit <- object$fitted.values
    x <- if (inference) design_matrix(object)
    offset <- NULL
  } else {
    warn_rank_deficient(object)
    built <- prediction_matrix(object, newdata, na.action)
    x <- built$x
    if (identical(object$interface, "xy") && !is.null(object$offset)) {
      # an x/y fit's offset is not a column of x: predictions need the new rows' offset
      if (is.null(offset)) {
        abort("this fit has an offset: give predict(fit, newdata, offset = ) the new rows' offset.",
          class = "lrtiers_argument_error")
      }
      built$offset <- check_offset(offset, nrow(x), NULL)
    }
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

# Views of lm()'s that read the QR and effects (Q'y) but not the residuals: on a fit that
# has not converged they are the least-squares fit's, not this one's, and say so

#' @rdname lr_fit-methods
#' @export
proj.lr_fit <- function(object, ...) {
  warn_not_converged(object, "proj()")
  NextMethod()
}

#' @rdname lr_fit-methods
#' @export
effects.lr_fit <- function(object, ...) {
  warn_not_converged(object, "effects()")
  NextMethod()
}

#' @rdname lr_fit-methods
#' @param nsim,seed As in [stats::simulate()].
#' @export
simulate.lr_fit <- function(object, nsim = 1, seed = NULL, ...) {
  warn_not_converged(object, "simulate()")
  NextMethod()
}
