# Helpers shared by the tests.

#' Skip when Python with torch is truly absent; never skip where
#' LRTIERS_TESTS_REQUIRE_PYTHON=1 (tools/check_r.sh, CI): fail instead.
skip_if_no_python <- function() {
  ready <- lrtiers:::python_ready()
  if (ready) {
    return(invisible(TRUE))
  }
  why <- tryCatch({
    lrtiers:::core()
    "?"
  }, error = conditionMessage)
  if (identical(Sys.getenv("LRTIERS_TESTS_REQUIRE_PYTHON"), "1")) {
    stop("Python with torch and the lrtiers core is required here but unusable:\n", why)
  }
  skip(paste("no usable Python with torch:", why))
}

#' Skip when a suggested package is absent, except where the suite must run whole
#' (LRTIERS_TESTS_REQUIRE_PYTHON=1: tools/check_r.sh, CI), where make setup installs it
skip_if_no_package <- function(package) {
  if (requireNamespace(package, quietly = TRUE)) {
    return(invisible(TRUE))
  }
  if (identical(Sys.getenv("LRTIERS_TESTS_REQUIRE_PYTHON"), "1")) {
    stop(package, " is required here (make setup installs it) but is not installed")
  }
  skip(paste(package, "is not installed"))
}

#' Bitwise equality of doubles (identical() treats 0 and -0 alike, this does not)
expect_same_bits <- function(object, expected) {
  expect_identical(
    writeBin(as.double(as.vector(object)), raw()),
    writeBin(as.double(as.vector(expected)), raw())
  )
}

#' Run R code in a fresh Rscript process (the same library paths and Python);
#' returns list(status, output).
run_rscript <- function(code, env = character()) {
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script))
  writeLines(code, script)
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  out <- suppressWarnings(system2(
    file.path(R.home("bin"), "Rscript"), shQuote(script),
    stdout = TRUE, stderr = TRUE,
    env = c(sprintf("R_LIBS=%s", shQuote(libs)), env)
  ))
  list(status = attr(out, "status") %||% 0L, output = out)
}

`%||%` <- function(x, y) if (is.null(x)) y else x

py <- function() lrtiers:::core()
to_r <- function(x) reticulate::py_to_r(x)

#' lm()'s standard errors, shaped like as.matrix(coef(ref)) (NA where lm() has NA)
lm_std_errors <- function(ref) {
  b <- as.matrix(stats::coef(ref))
  sums <- if (inherits(ref, "mlm")) summary(ref) else list(summary(ref))
  se <- b
  se[] <- NA_real_
  for (j in seq_along(sums)) {
    table <- stats::coef(sums[[j]])
    se[rownames(table), j] <- table[, "Std. Error"]
  }
  se
}

#' How a fit's coefficients miss lm()'s (character(0): they do not): the verdict's
#' criterion, checked against lm() itself. Every coefficient within
#' 10^-digits * max(|b_lm|, SE(b_lm)) of lm()'s (lm()'s standard errors; NaN ones, as with
#' no residual degrees of freedom, count as 0), and NA exactly where lm() has NA.
lm_digits_problems <- function(fit, ref, digits = 7) {
  b <- as.matrix(stats::coef(fit))
  b_lm <- as.matrix(stats::coef(ref))
  if (!identical(dimnames(b), dimnames(b_lm))) {
    return(sprintf(
      "coefficient names %s, lm()'s %s", paste(rownames(b), collapse = ", "),
      paste(rownames(b_lm), collapse = ", ")
    ))
  }
  problems <- character()
  if (!identical(is.na(b), is.na(b_lm))) {
    problems <- sprintf(
      "NA at %s, lm()'s at %s", paste(which(is.na(b)), collapse = ", "),
      paste(which(is.na(b_lm)), collapse = ", ")
    )
  }
  known <- !is.na(b_lm) & !is.na(b)
  err <- abs(b[known] - b_lm[known]) / pmax(abs(b_lm[known]), lm_std_errors(ref)[known],
    na.rm = TRUE)
  if (any(!(err <= 10^-digits))) {
    worst <- which.max(err)
    problems <- c(problems, sprintf(
      "coefficient %s is %.3g of max(|b_lm|, SE) from lm()'s (%d digits need <= 1e-%d)",
      rownames(b)[row(b)[known][worst]], err[worst], digits, digits
    ))
  }
  problems
}

#' Expect lm()'s coefficients to `digits` significant digits, NA where lm() has NA
expect_lm_digits <- function(fit, ref, digits = 7, label = NULL) {
  label <- label %||% deparse1(substitute(fit))
  problems <- lm_digits_problems(fit, ref, digits)
  expect(!length(problems), sprintf("%s: %s.", label, paste(problems, collapse = "; ")))
  invisible(fit)
}

#' Evaluate expr, which makes a fit that has not converged (deliberately: few epochs,
#' epochs = 0, mini-batches...): it must warn with class lrtiers_convergence_warning.
expect_unconverged <- function(expr, regexp = NULL) {
  expect_warning(expr, regexp, class = "lrtiers_convergence_warning")
}

#' The settings that reproduce the tutorials, added to a call's own arguments
lr_fit_tutorial <- function(...) do.call(lr_fit, c(list(...), lr_tutorial_settings()))

#' Evaluate expr (direct calls into the core) with Python's warnings ignored: a core fit
#' that has not converged warns in Python, where R's expect_warning() cannot see it
py_quietly <- function(expr) {
  warnings <- reticulate::import("warnings")
  with(warnings$catch_warnings(), {
    warnings$simplefilter("ignore")
    expr
  })
}

# "1 epoch", "12 epochs": as print() and summary() say it
epochs_phrase <- function(n) sprintf("%d epoch%s", n, if (n == 1) "" else "s")
