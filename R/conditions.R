# Errors, warnings and argument checks: base R conditions with classes.

`%||%` <- function(x, y) if (is.null(x)) y else x

#' A condition object of class `c(class, "lrtiers_error", "error", "condition")`
#' @noRd
lrtiers_condition <- function(message, class = character(), call = NULL, ...,
                              type = "error") {
  message <- paste(message[!is.na(message) & nzchar(message)], collapse = "\n")
  base <- if (type == "error") c("lrtiers_error", "error") else c("lrtiers_warning", "warning")
  structure(
    class = unique(c(class, base, "condition")),
    list(message = message, call = call, ...)
  )
}

abort <- function(message, call = NULL, class = character(), ...) {
  stop(lrtiers_condition(message, class = class, call = call, ...))
}

# ------------------------------------------------------------------ argument checks

check_string <- function(x, arg, call = NULL) {
  if (!is.character(x) || length(x) != 1L || is.na(x)) {
    abort(sprintf("`%s` must be a single string; got %s.", arg, describe(x)), call)
  }
  x
}

check_flag <- function(x, arg, call = NULL) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    abort(sprintf("`%s` must be TRUE or FALSE; got %s.", arg, describe(x)), call)
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
      class = "lrtiers_argument_error"
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
      class = "lrtiers_argument_error"
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
  message <- as_r_conventions(message)
  class <- switch(short,
    DivergenceError = "lrtiers_divergence_error",
    ValueError = "lrtiers_value_error",
    TypeError = "lrtiers_type_error",
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
