# The verdict in R: has the fit reached lm()'s answer, which columns are aliased, and
# the warnings every view of a fit gives when the answer is not lm()'s.

#' The core's advice, in R's conventions (`lr = "auto"`, TRUE, NULL)
#'
#' The core writes Python's `lr='auto'`, `True`, `None`; R users type
#' `lr = "auto"`, `TRUE`, `NULL`.
#' @noRd
as_r_conventions <- function(text) {
  if (is.null(text) || !length(text)) {
    return(text)
  }
  # quoted values are single tokens: an apostrophe (Adam's) never opens a quote
  text <- gsub("([A-Za-z_][A-Za-z0-9_.]*)=('[A-Za-z0-9_./:-]*'|True|False|None|-?[0-9][0-9.e+-]*)",
    "\\1 = \\2", text,
    perl = TRUE
  )
  text <- gsub("(?<![A-Za-z0-9_])'([A-Za-z0-9_./:-]*)'", "\"\\1\"", text, perl = TRUE)
  text <- gsub("\\bTrue\\b", "TRUE", text, perl = TRUE)
  text <- gsub("\\bFalse\\b", "FALSE", text, perl = TRUE)
  gsub("\\bNone\\b", "NULL", text, perl = TRUE)
}

#' One line on the verdict, for print() and summary()
#' @noRd
verdict_line <- function(x) {
  digits <- x$verdict$digits
  if (x$converged) {
    return(sprintf(
      "Converged: every coefficient agrees with lm()'s least-squares answer to %s significant digits (%s needed).",
      if (is.null(digits)) "the required" else format(round(digits, 1L), nsmall = 1L),
      x$verdict$digits_required %||% 7L
    ))
  }
  paste0("NOT converged: ", as_r_conventions(x$verdict$advice %||% "the loss is above the optimum"), ".")
}

#' A line on aliased coefficients, as summary.lm() says it
#' @noRd
aliased_line <- function(x) {
  n <- sum(x$aliased)
  if (!n) {
    return(NULL)
  }
  sprintf(
    "(%d coefficient%s not defined because of singularities: %s %s NA, as in lm())",
    n, if (n == 1L) "" else "s", paste(names(x$aliased)[x$aliased], collapse = ", "),
    if (n == 1L) "is" else "are"
  )
}

#' Warn that a view shows a fit that is not lm()'s answer
#'
#' Every view of a fit that has not converged (summary, tidy, confint, predict)
#' warns with class `lrtiers_convergence_warning`, so that its numbers are
#' never taken for least squares silently.
#' @noRd
warn_not_converged <- function(x, what) {
  if (x$converged) {
    return(invisible())
  }
  warning(lrtiers_condition(
    c(
      sprintf(
        "%s shows a fit that has not converged to the least-squares answer:",
        what
      ),
      as_r_conventions(x$verdict$advice %||% "its loss is above the optimum")
    ),
    class = c("lrtiers_convergence_warning", "lrtiers_not_converged_warning"),
    type = "warning"
  ))
}

#' Warn, as predict.lm() does, when aliased columns contribute nothing
#' @noRd
warn_rank_deficient <- function(x) {
  if (!any(x$aliased)) {
    return(invisible())
  }
  warning(lrtiers_condition(
    sprintf(
      "prediction from a rank-deficient fit may be misleading: %s %s no coefficient (NA) and contribute%s nothing.",
      paste(names(x$aliased)[x$aliased], collapse = ", "),
      if (sum(x$aliased) == 1L) "has" else "have",
      if (sum(x$aliased) == 1L) "s" else ""
    ),
    class = "lrtiers_rank_deficiency_warning", type = "warning"
  ))
}

#' warn_not_converged() once per view: stats' methods for lm call residuals() several times
#' (influence.measures(), step(), ...); the view is the outermost of the unbroken chain of
#' stats', lrtiers' and base's functions (NextMethod(), promises) above the caller, so one
#' call of it warns once
#' @noRd
warn_not_converged_once <- function(x, what) {
  if (x$converged) {
    return(invisible())
  }
  frame <- view_frame(sys.nframe() - 1L)
  last <- .state$convergence_warned
  if (!is.null(last) && identical(last$key, x$key) && identical(last$frame, frame)) {
    return(invisible())
  }
  .state$convergence_warned <- list(key = x$key, frame = frame)
  # forgotten when the view returns (as withr::defer() does it): no frame is kept alive
  forget <- function() .state$convergence_warned <- NULL
  do.call(base::on.exit, list(as.call(list(forget)), TRUE, FALSE), envir = frame)
  warn_not_converged(x, what)
}

view_frame <- function(n) {
  top <- n
  while (top > 1L) {
    env <- environment(sys.function(top - 1L))
    if (is.null(env) || !isNamespace(env) ||
      !getNamespaceName(env) %in% c("stats", "lrtiers", "base")) {
      break
    }
    top <- top - 1L
  }
  sys.frame(top)
}

#' Evaluate `expr` without the convergence warning: for a view that has given it once
#' already and then calls methods that would give it again (residuals.lr_fit())
#' @noRd
without_convergence_warning <- function(expr) {
  withCallingHandlers(expr, lrtiers_convergence_warning = function(w) {
    invokeRestart("muffleWarning")
  })
}
