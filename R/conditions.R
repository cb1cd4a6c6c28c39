# Errors, warnings and argument checks: base R conditions with classes.

`%||%` <- function(x, y) if (is.null(x)) y else x

#' A condition object of class `c(class, "lrtiers_error", "error", "condition")`
#' @noRd
lrtiers_condition <- function(message, class = character(), call = NULL, ...,
                              type = "error") {
  message <- paste(message[!is.na(message) & nzchar(message)], collapse = "\n")
  base <- if (type == "error") c("lrtiers_error", "error") else c("lrtiers_warning", "warning")
  kind <- unname(CONDITION_KINDS[intersect(class, names(CONDITION_KINDS))])
  structure(
    class = unique(c(class, kind, base, "condition")),
    list(message = message, call = call, ...)
  )
}

#' The kind of mistake each specific condition class is (see ?lrtiers-conditions)
#' @noRd
CONDITION_KINDS <- c(
  lrtiers_type_error = "lrtiers_data_error",
  lrtiers_na_error = "lrtiers_data_error",
  lrtiers_formula_error = "lrtiers_data_error",
  lrtiers_io_error = "lrtiers_data_error",
  lrtiers_callback_error = "lrtiers_argument_error",
  lrtiers_data_not_in_memory = "lrtiers_argument_error"
)

#' Conditions lrtiers signals
#'
#' Every error is of class `lrtiers_error`, every warning of class
#' `lrtiers_warning`, and each also has the class of its kind, so that code
#' can handle one kind of mistake whatever the call:
#'
#' * `lrtiers_argument_error`: an argument is missing, unknown (a misspelt
#'   setting), unnamed, or not of the kind asked for (`lr_fit()` of an
#'   unsupported class, `newdata` that is not a data frame).
#' * `lrtiers_value_error`: a known argument has a value it cannot take
#'   (`epochs = -1`, `tier = "keras"`, `standardize = "yes"`, `weights` that
#'   are negative or all 0, `level = 2`), from R's checks or the core's.
#' * `lrtiers_data_error`: the data cannot be fitted or predicted as given:
#'   missing or infinite values (also `lrtiers_na_error`), non-numeric columns
#'   (also `lrtiers_type_error`), a formula that cannot be evaluated (also
#'   `lrtiers_formula_error`), `newdata` without the fit's columns, a file that
#'   is not a fit (also `lrtiers_io_error`).
#' * `lrtiers_data_not_in_memory` (also `lrtiers_argument_error`): a method
#'   that needs the training rows (`fitted()`, `residuals()`, `predict()`
#'   without `newdata`, the influence measures, `model.frame()`,
#'   `model.matrix()`, `anova(fit)`, `augment()` without `newdata`, the
#'   diagnostic plots) was called on a fit that does not hold them: one trained
#'   on rows streamed from a file (`lr_fit(formula, data = "file.parquet")`, see
#'   "Data larger than memory" in [lr_fit()]) or read by [lr_load()]. The
#'   message says what works instead (`predict(fit, newdata = )`, or reading
#'   the file into a data frame and fitting that).
#' * `lrtiers_divergence_error`: the loss became non-finite or exploded; the
#'   condition carries `epoch`, `loss`, `lr`, `lr_max` and `tier`.
#' * `lrtiers_convergence_warning` (a warning): the fit has not reached
#'   `lm()`'s answer; every view of it says so (see [lr_fit()]).
#'   Related warnings: `lrtiers_step_size_warning`,
#'   `lrtiers_rank_deficiency_warning`, `lrtiers_blas_warning`.
#' * `lrtiers_python_error`: Python, torch or the core is missing or does not
#'   match (see [lr_doctor()], [install_lrtiers()]).
#' * `lrtiers_interrupted`: a fit or prediction was interrupted (Esc /
#'   Ctrl-C); the session stays usable.
#'
#' Errors from the Python core keep its class name in `python_class` and are
#' also of class `lrtiers_core_error`. The core's typed errors
#' (`lrtiers.errors`) are classified by what they carry, not by their words,
#' and keep it: `setting` (the setting at fault), `rows` (the offending rows,
#' 1-based, as many as the message names) and `column`. Their messages are
#' written in R's conventions (`lr = "auto"`, `TRUE`, 1-based rows).
#' @name lrtiers-conditions
#' @examplesIf lrtiers:::python_ready()
#' tryCatch(lr_fit(mpg ~ wt, data = mtcars, epochs = -1),
#'   lrtiers_value_error = function(e) conditionMessage(e)
#' )
NULL

abort <- function(message, call = NULL, class = character(), ...) {
  stop(lrtiers_condition(message, class = class, call = call, ...))
}

# ------------------------------------------------------------------ argument checks

check_string <- function(x, arg, call = NULL) {
  if (!is.character(x) || length(x) != 1L || is.na(x)) {
    abort(sprintf("`%s` must be a single string; got %s.", arg, describe(x)), call,
      class = "lrtiers_value_error")
  }
  x
}

check_flag <- function(x, arg, call = NULL) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    abort(sprintf("`%s` must be TRUE or FALSE; got %s.", arg, describe(x)), call,
      class = "lrtiers_value_error")
  }
  x
}

#' A whole number as R users type it (100, 100L, 1e3) -> integer, or a double
#' when it is too large for an R integer (seeds go up to 2^32 - 1).
#' @noRd
check_whole <- function(x, arg, call = NULL, null_ok = TRUE) {
  if (is.null(x) && null_ok) {
    return(NULL)
  }
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x != trunc(x)) {
    abort(
      sprintf(
        "`%s` must be a whole number%s; got %s.", arg,
        if (null_ok) " or NULL" else "", describe(x)
      ),
      call,
      class = "lrtiers_value_error"
    )
  }
  if (abs(x) <= .Machine$integer.max) as.integer(x) else as.double(x)
}

check_number <- function(x, arg, call = NULL, null_ok = TRUE) {
  if (is.null(x) && null_ok) {
    return(NULL)
  }
  if (!is.numeric(x) || length(x) != 1L || is.na(x)) {
    abort(
      sprintf("`%s` must be a number%s; got %s.", arg, if (null_ok) " or NULL" else "", describe(x)),
      call,
      class = "lrtiers_value_error"
    )
  }
  as.double(x)
}

#' The one type describer for messages: a scalar's value ("yes", 1.5), else what it is
#' ("a double matrix (class matrix/array)"); `value = FALSE` always says what it is
#' @noRd
describe <- function(x, value = TRUE) {
  if (is.null(x)) {
    return("NULL")
  }
  if (value && is.atomic(x) && length(x) == 1L) {
    return(if (is.character(x)) sprintf("\"%s\"", x) else format(x))
  }
  type <- if (is.factor(x)) "factor" else if (is.matrix(x)) paste(typeof(x), "matrix") else typeof(x)
  sprintf("a %s of length %d (class %s)", type, length(x), paste(class(x), collapse = "/"))
}

#' The one dots checker: arguments that landed in `...` are errors. With `known` (lr_fit()'s
#' settings) a misspelt name gets a suggestion; without, they are unused arguments.
#' @noRd
check_dots_empty <- function(dots_names, n, known, call) {
  if (n == 0L) {
    return(invisible())
  }
  dots_names <- dots_names %||% rep("", n)
  named <- dots_names[nzchar(dots_names)]
  unnamed <- sum(!nzchar(dots_names))
  word <- if (is.null(known)) "unused" else "unknown"
  lines <- character()
  for (name in named) {
    hint <- known[utils::adist(name, known, ignore.case = TRUE) <= 2]
    lines <- c(lines, sprintf(
      "%s argument `%s`%s", word, name,
      if (length(hint)) sprintf(" (did you mean `%s`?)", hint[[1]]) else ""
    ))
  }
  if (unnamed) {
    lines <- c(lines, if (is.null(known)) {
      sprintf("%d unused unnamed argument%s", unnamed, if (unnamed == 1L) "" else "s")
    } else {
      sprintf(
        "%d unnamed argument(s) after the data: name every setting (e.g. `tier = \"module\"`)",
        unnamed
      )
    })
  }
  abort(c(paste0(lines, "."), if (!is.null(known)) {
    sprintf("Valid settings: %s.", paste(known, collapse = ", "))
  }), call, class = "lrtiers_argument_error")
}

# ------------------------------------------------------------------ Python errors

check_no_dots <- function(...) {
  check_dots_empty(...names(), ...length(), known = NULL, call = sys.call(-1))
}
