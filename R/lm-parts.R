# lm()'s own components of a fit made on rows in memory, so that stats' methods for "lm"
# (lm.influence(), summary.lm(), anova.lm(), drop1.lm(), predict.lm(type = "terms"), ...)
# and the packages built on them work on an lr_fit unchanged, with the trained
# coefficients and residuals.
#
# Where the QR comes from: R's base::qr() (LINPACK dqrdc2, LAPACK = FALSE), as lm.fit()
# computes it, on the (weighted) design. The core's reference is a blocked tall-skinny
# Householder QR that keeps only the R factor (its Householder vectors are discarded block
# by block so that it can stream), while stats' methods read the compact form (qr$qr,
# qraux: Q is applied by qr.qty(), lm.influence()'s C code). So R pays one more pass, a QR
# of the n x k design (about what lm.fit() costs), unless the user says `qr = FALSE`
# (as lm(qr = FALSE): then the methods that need it say so). The aliased columns are
# the core's: they are put last and the rank is the core's, so the QR and the coefficients
# never disagree on which columns were estimated.

#' The QR, effects, assign and rank of a fit, as lm.fit()/lm.wfit() return them
#'
#' `design`: the model matrix with its intercept column and "assign" attribute (all
#' rows, zero weights included); `aliased`: one flag per column of it (the core's).
#' Rows of weight 0 are left out of the QR, as lm.wfit() leaves them out.
#' @noRd
lm_parts <- function(design, y, weights = NULL, offset = NULL, aliased, qr = TRUE,
                     tol = 1e-7) {
  assign <- attr(design, "assign")
  used <- if (is.null(weights)) TRUE else weights != 0
  x <- design[used, , drop = FALSE]
  z <- subset_rows(y, used)
  if (!is.null(offset)) z <- z - offset[used]
  if (!is.null(weights)) {
    root <- sqrt(weights[used])
    x <- x * root
    z <- z * root
  }
  rank <- sum(!aliased)
  order <- unname(c(which(!aliased), which(aliased)))
  # tol = 0: dqrdc2 moves no column; the aliased ones are last already, and rank says
  # where the estimated columns end (qr.qty(), qr.R(), chol2inv() read the first `rank`)
  decomposition <- base::qr(x[, order, drop = FALSE], tol = 0, LAPACK = FALSE)
  decomposition$pivot <- order[decomposition$pivot]
  # as lm.fit()'s: the design's columns in pivoted order, with its attributes
  attr(decomposition$qr, "assign") <- assign
  attr(decomposition$qr, "contrasts") <- attr(design, "contrasts")
  decomposition$rank <- rank
  decomposition$tol <- tol # the aliasing tolerance the core applied
  effects <- base::qr.qty(decomposition, z)
  names_effects <- c(colnames(design)[decomposition$pivot[seq_len(rank)]],
    rep.int("", NROW(z) - rank))
  if (is.matrix(effects)) {
    dimnames(effects) <- list(names_effects, colnames(y))
  } else {
    names(effects) <- names_effects
  }
  list(qr = if (qr) decomposition, effects = effects, assign = assign)
}

#' summary.lm() (and vcov.lm() through it) read the terms for the intercept: an x/y or
#' recipe fit, which has none, lends them `y ~ <its columns>` for the call
#' @noRd
with_lm_terms <- function(object) {
  if (is.null(object$terms)) {
    columns <- sprintf("`%s`", gsub("`", "", object$feature_names, fixed = TRUE))
    object$terms <- stats::terms(stats::reformulate(columns, response = "y",
      intercept = object$intercept))
  }
  object
}

#' A fit on rows in memory with lm()'s components: class c("lr_fit", "lm") (and "mlm" for
#' several outputs), as MASS's rlm objects are lm objects too
#'
#' The coefficients, residuals and fitted values stay the trained ones; lm()'s methods read
#' them, so a fit that has not converged gives the fitted estimate's numbers, and warns
#' (residuals.lr_fit(), which every one of those methods calls, says so).
#' @noRd
with_lm_parts <- function(fit, qr = TRUE) {
  design <- design_matrix(fit)
  if (fit$interface %in% c("xy", "recipe")) fit$x <- design # lm()'s `x`: the model matrix
  aliased <- is.na(as.matrix(fit$coefficients)[, 1L])
  parts <- lm_parts(design, fit$y, fit$weights, fit$offset, aliased, qr = qr,
    tol = as.numeric(fit$settings$alias_tol %||% 1e-7))
  fit$effects <- parts$effects
  fit$assign <- parts$assign
  fit$qr <- parts$qr
  if (!is.null(fit$training_rows) && inherits(fit$na.action, "exclude")) {
    # a validation split: the residuals are the training rows', with nothing to pad
    class(fit$na.action) <- "omit"
  }
  class(fit) <- c("lr_fit", if (fit$multi) "mlm", "lm")
  fit
}
