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
  lrtiers_callback_error = "lrtiers_argument_error"
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
#'   are not positive, `level = 2`), from R's checks or the core's.
#' * `lrtiers_data_error`: the data cannot be fitted or predicted as given:
#'   missing or infinite values (also `lrtiers_na_error`), non-numeric columns
#'   (also `lrtiers_type_error`), a formula that cannot be evaluated (also
#'   `lrtiers_formula_error`), `newdata` without the fit's columns, a file that
#'   is not a fit (also `lrtiers_io_error`).
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
#' also of class `lrtiers_core_error`; their messages are written in R's
#' conventions (`lr = "auto"`, `TRUE`, 1-based rows).
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

describe <- function(x) {
  if (is.null(x)) {
    return("NULL")
  }
  if (is.atomic(x) && length(x) == 1L) {
    return(if (is.character(x)) sprintf("\"%s\"", x) else format(x))
  }
  sprintf("an object of class %s and length %d", paste(class(x), collapse = "/"), length(x))
}

#' Error on anything that reached `...`: a misspelt argument is not ignored
#' @noRd
check_dots_empty <- function(dots_names, n, known, call) {
  if (n == 0L) {
    return(invisible())
  }
  dots_names <- dots_names %||% rep("", n)
  named <- dots_names[nzchar(dots_names)]
  unnamed <- sum(!nzchar(dots_names))
  lines <- character()
  for (name in named) {
    hint <- known[utils::adist(name, known, ignore.case = TRUE) <= 2]
    lines <- c(lines, sprintf(
      "unknown argument `%s`%s", name,
      if (length(hint)) sprintf(" (did you mean `%s`?)", hint[[1]]) else ""
    ))
  }
  if (unnamed) {
    lines <- c(lines, sprintf(
      "%d unnamed argument(s) after the data: name every setting (e.g. `tier = \"module\"`)",
      unnamed
    ))
  }
  abort(c(paste0(lines, "."), sprintf(
    "Valid settings: %s.", paste(known, collapse = ", ")
  )), call, class = "lrtiers_argument_error")
}

# ------------------------------------------------------------------ Python errors

#' Run `expr` (a call into the core); Python exceptions become R conditions of
#' class lrtiers_error (with the Python class kept), Python warnings R warnings,
#' and an interrupt an lrtiers_interrupted error.
#' @noRd
with_core_conditions <- function(expr, call = NULL, what = function() "the fit",
                                 muffle = character()) {
  warnings_module <- reticulate::import("warnings", convert = FALSE)
  recorder <- warnings_module$catch_warnings(record = TRUE)
  records <- recorder$`__enter__`()
  warnings_module$simplefilter("always")
  exited <- FALSE
  exit <- function() {
    if (!exited) {
      exited <<- TRUE
      recorder$`__exit__`(NULL, NULL, NULL)
    }
  }
  on.exit(exit(), add = TRUE)
  result <- tryCatch(
    expr,
    python.builtin.Exception = function(e) {
      exit()
      resignal_python_warnings(records, call, muffle)
      stop(python_condition(e, call))
    },
    interrupt = function(e) {
      exit()
      stop(lrtiers_condition(
        sprintf("%s was interrupted (Esc / Ctrl-C); nothing was returned.", what()),
        class = "lrtiers_interrupted", call = call
      ))
    }
  )
  exit()
  resignal_python_warnings(records, call, muffle)
  result
}

#' R classes of the core's warnings (the Python class is kept as lrtiers_python_<name>)
#' @noRd
PYTHON_WARNING_CLASSES <- c(
  StepSizeWarning = "lrtiers_step_size_warning",
  ConvergenceWarning = "lrtiers_convergence_warning",
  RankDeficiencyWarning = "lrtiers_rank_deficiency_warning"
)

resignal_python_warnings <- function(records, call, muffle = character()) {
  for (record in reticulate::py_to_r(records)) {
    category <- reticulate::py_to_r(reticulate::py_get_attr(record$category, "__name__"))
    if (category %in% muffle) next
    message <- as_r_conventions(reticulate::py_str(record$message))
    class <- unname(PYTHON_WARNING_CLASSES[category])
    warning(lrtiers_condition(
      message,
      class = c(if (!is.na(class)) class, paste0("lrtiers_python_", category)), call = call,
      type = "warning"
    ))
  }
}

python_condition <- function(e, call) {
  py_class <- class(e)[[1]]
  short <- sub("^.*\\.", "", py_class)
  message <- tryCatch(
    paste(vapply(reticulate::py_to_r(e$args), function(a) paste(format(a), collapse = " "), ""),
      collapse = " "
    ),
    error = function(err) conditionMessage(e)
  )
  if (!nzchar(message)) message <- conditionMessage(e)
  message <- core_message_in_r(message)
  about_argument <- grepl(sprintf("^`?(%s)\\b", paste(c(SETTING_NAMES, "init", "callback",
    "weights", "feature_names", "target_names"), collapse = "|")), message)
  class <- switch(short,
    DivergenceError = "lrtiers_divergence_error",
    ValueError = ,
    TypeError = if (about_argument) "lrtiers_value_error" else "lrtiers_data_error",
    "lrtiers_python_error"
  )
  extra <- list()
  if (short == "DivergenceError") {
    for (field in c("epoch", "loss", "lr", "lr_max", "tier")) {
      extra[[field]] <- tryCatch(reticulate::py_to_r(e[[field]]), error = function(err) NULL)
    }
  }
  condition <- lrtiers_condition(message,
    class = c(class, "lrtiers_core_error"), call = call,
    python_class = py_class
  )
  condition[names(extra)] <- extra
  condition
}

#' A core message in R's conventions: the setting named first in backticks, `lr = "auto"`,
#' TRUE/FALSE/NULL, 2^32, init$weight as a matrix, 1-based rows
#' @noRd
core_message_in_r <- function(message) {
  message <- as_r_conventions(message)
  names <- c(SETTING_NAMES, "callback", "weights", "feature_names", "target_names")
  message <- sub(sprintf("^(%s) must", paste(names, collapse = "|")), "`\\1` must", message)
  message <- gsub("2\\*\\*32", "2^32", message)
  message <- sub(
    "^init\\[\"(weight|bias)\"\\] must have shape \\(([0-9]+), ([0-9]+)\\); got \\(([0-9]+), ([0-9]+)\\)",
    "`init$\\1` must be a \\2 x \\3 matrix (one row per output, one column per feature); got \\4 x \\5",
    message
  )
  message <- sub("^init\\[\"(weight|bias)\"\\]", "`init$\\1`", message)
  message <- sub("^init ", "`init` ", message)
  # 0-based row numbers (Python's) as R's 1-based ones
  zero_based <- regmatches(message, regexec("\\(0-based(?: rows)?: ([0-9, ]+)( \\.\\.\\.)?\\)", message,
    perl = TRUE))[[1]]
  if (length(zero_based)) {
    rows <- as.integer(strsplit(zero_based[[2]], ", *")[[1]]) + 1L
    message <- sub(zero_based[[1]], sprintf("(row%s %s%s)", if (length(rows) == 1L) "" else "s",
      paste(rows, collapse = ", "), if (nzchar(zero_based[[3]])) ", ..." else ""), message,
    fixed = TRUE)
  }
  message <- sub("^x contains", "the features contain", message)
  message <- sub("^y contains", "the response contains", message)
  message <- sub("([^.])$", "\\1.", message)
  message
}
