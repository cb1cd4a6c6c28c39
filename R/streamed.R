# Data larger than memory: lr_fit() on a file path (Parquet, .npy, CSV). The formula names
# columns of the file; the core streams the rows (lrtiers.scan + lr_fit), R never holds them.

#' @rdname lr_fit
#' @export
lr_fit.character <- function(x, y, ..., weights = NULL, progress = interactive(),
                             callback = NULL, chunk_rows = NULL) {
  user_call <- fit_call(sys.call())
  call <- fit_call(match.call())
  check_dots_empty(...names(), ...length(), setdiff(known_args(), c("subset", "na.action",
    "offset", "contrasts", "model", "qr")), user_call)
  if (missing(y)) {
    abort(
      "`y` is missing: lr_fit(path, y) needs the name of the response column (or several).",
      user_call,
      class = "lrtiers_argument_error"
    )
  }
  path_form <- length(x) == 1L && !is.na(x) && is.character(y) && length(y) &&
    !anyNA(y) && all(nzchar(y))
  if (!path_form) {
    abort(
      c(
        sprintf("`lr_fit()` has no method for `x` %s with `y` %s.",
          describe(x, value = FALSE), describe(y, value = FALSE)),
        "lr_fit(x, y) takes numeric features; for data in a file, give its path and the response column name(s): lr_fit(\"data.parquet\", y = \"response\"), or lr_fit(response ~ a + b, data = \"data.parquet\")."
      ),
      user_call,
      class = "lrtiers_argument_error"
    )
  }
  response <- if (length(y) == 1L) as.name(y) else as.call(c(as.name("cbind"), lapply(y, as.name)))
  formula <- stats::as.formula(call("~", response, quote(.)), env = globalenv())
  if (!is.null(weights)) refuse_file_argument("weights", user_call)
  settings <- collect_settings(environment(), user_call)
  intercept <- if (missing(intercept)) NULL else check_flag(intercept, "intercept", user_call)
  file_fit(formula, x, settings, intercept, chunk_rows, progress, callback, call, user_call,
    arg = "x", env = parent.frame())
}

formals(lr_fit.character) <- append(formals(lr_fit.character), setting_formals(), after = 3L)

#' The formula and x/y methods' shared body for data given as a file path
#' @noRd
file_fit <- function(formula, path, settings, intercept, chunk_rows, progress, callback, call,
                     user_call, arg = "data", env = globalenv()) {
  check_flag(progress, "progress", user_call)
  path <- check_data_path(path, user_call, arg, env)
  chunk_rows <- check_whole(chunk_rows, "chunk_rows", user_call)
  if (is.data.frame(settings$validation) || is.list(settings$validation)) {
    abort(
      c(
        "with data given as a file path, `validation` can only be a fraction (rows held out of every block of the file).",
        "Held-out data can be a second file: fit it, then compare predict(fit, newdata = ) on it."
      ),
      user_call,
      class = "lrtiers_value_error"
    )
  }
  if (!is.null(settings$validation)) {
    settings$validation <- check_number(settings$validation, "validation", user_call)
  }
  mold <- mold_file_formula(formula, path, intercept, chunk_rows, user_call)
  settings$intercept <- mold$intercept
  core <- source_fit_bridge(mold$source, settings, progress, callback, user_call)
  # a logical column is a 0/1 column to the core; lm() names its coefficient `<name>TRUE`
  # (model.matrix() makes a logical a factor with levels FALSE, TRUE), and so does predict()
  # with the terms, where the column is logical
  features <- unlist(core$feature_names)
  core$feature_names <- as.list(ifelse(features %in% mold$logical, paste0(features, "TRUE"),
    features))
  new_lr_fit(core, call = call, interface = "formula", terms = mold$terms)
}

#' A data path: one string, `~` expanded, that exists; the absolute path
#' @noRd
check_data_path <- function(path, call, arg = "data", env = globalenv()) {
  if (!is.character(path) || length(path) != 1L || is.na(path) || !nzchar(path)) {
    abort(sprintf("`%s` must be %s or one file path; got %s.", arg,
      if (arg == "data") "a data frame" else "numeric features", describe(path)),
      call, class = "lrtiers_argument_error")
  }
  full <- path.expand(path)
  if (!file.exists(full)) {
    named <- exists(path, envir = env) && is.data.frame(get(path, envir = env))
    abort(
      c(
        sprintf("`%s` must be %s or the path of a file or directory; no file or directory \"%s\"%s exists.",
          arg, if (arg == "data") "a data frame" else "numeric features", path,
          if (!identical(full, path)) sprintf(" (%s)", full) else ""),
        if (named) {
          sprintf("\"%s\" is the name of a data frame: give the data frame itself, %s = %s.", path,
            arg, path)
        } else {
          sprintf("The working directory is %s.", getwd())
        }
      ),
      call,
      class = if (named) "lrtiers_argument_error" else "lrtiers_io_error"
    )
  }
  normalizePath(full, mustWork = TRUE)
}

#' A formula over a file's columns -> the columns of x and y, the intercept, the terms that
#' predict() uses on new data, and the core's source (lrtiers.scan). Only plain column names:
#' what needs R's evaluation of the rows (transformations, factors, interactions, offsets)
#' cannot happen on rows R never sees, and is refused by name.
#' @noRd
mold_file_formula <- function(formula, path, intercept, chunk_rows, call) {
  if (!inherits(formula, "formula") || length(formula) != 3L) {
    abort("`formula` must be a two-sided formula such as `y ~ x1 + x2`.", call,
      class = "lrtiers_formula_error")
  }
  lhs <- formula[[2L]]
  multi <- is.call(lhs) && identical(lhs[[1L]], as.name("cbind"))
  parts <- if (multi) as.list(lhs)[-1L] else list(lhs)
  plain <- vapply(parts, is.name, logical(1))
  if (!length(parts) || !all(plain)) {
    bad <- if (length(parts)) parts[!plain][[1L]] else lhs
    not_column(deparse1(bad), "the response", call)
  }
  targets <- vapply(parts, as.character, character(1))
  rhs_vars <- all.vars(formula[[3L]])
  if ("." %in% rhs_vars) {
    # `.`: every other column of the file (the core lists them, in the file's order)
    all <- scan_bridge(path, NULL, if (multi) as.list(targets) else targets, chunk_rows, call)
    columns <- c(targets, unlist(reticulate::py_to_r(all$feature_names)))
  } else {
    columns <- unique(c(targets, setdiff(rhs_vars, ".")))
  }
  logical <- file_logical_columns(path, columns)
  empty <- as.data.frame(stats::setNames(lapply(columns, function(column) {
    if (column %in% logical) logical() else numeric()
  }), columns), check.names = FALSE)
  terms <- tryCatch(stats::terms(formula, data = empty), error = function(e) {
    abort(c(sprintf("could not read the formula `%s`:", deparse1(formula)), conditionMessage(e)),
      call, class = "lrtiers_formula_error")
  })
  if (!is.null(attr(terms, "offset"))) {
    term <- deparse1(attr(terms, "variables")[[attr(terms, "offset")[[1L]] + 1L]])
    refuse_file_argument("offset", call, term = term)
  }
  labels <- attr(terms, "term.labels")
  features <- character()
  for (label in labels) {
    expr <- str2lang(label)
    if (!is.name(expr)) not_column(label, "a predictor", call)
    features <- c(features, as.character(expr))
  }
  both <- intersect(features, targets)
  if (length(both)) {
    abort(
      sprintf("the formula `%s` has %s on both sides: a column is the response or a predictor, not both.",
        deparse1(formula), paste(both, collapse = ", ")),
      call, class = "lrtiers_formula_error")
  }
  if (!length(features)) {
    abort(sprintf("the formula `%s` has no predictors: lr_fit() needs at least one column in x.",
      deparse1(formula)), call, class = "lrtiers_formula_error")
  }
  formula_intercept <- attr(terms, "intercept") == 1L
  if (is.null(intercept)) {
    intercept <- formula_intercept
  } else if (intercept && !formula_intercept) {
    abort("`intercept = TRUE` conflicts with the formula, which removes the intercept (- 1 or + 0).",
      call, class = "lrtiers_value_error")
  }
  source <- scan_bridge(path, features, if (multi) as.list(targets) else targets, chunk_rows,
    call)
  # the terms as model.frame() makes them (predvars, dataClasses): predict() builds the
  # model matrix of new data with them, as for a formula fit on a data frame
  terms <- attr(stats::model.frame(terms, empty), "terms")
  attr(terms, "intercept") <- as.integer(intercept)
  list(source = source, terms = terms, intercept = intercept, features = features,
    targets = targets, logical = intersect(logical, features))
}

#' The columns of a data file, among `columns`, that hold logical values (Arrow's boolean
#' type in Parquet, true/false in CSV as pyarrow reads it, a boolean .npy array)
#' @noRd
file_logical_columns <- function(path, columns) {
  if (grepl("\\.npy$", path, ignore.case = TRUE)) {
    np <- reticulate::import("numpy", convert = FALSE)
    kind <- reticulate::py_to_r(np$load(path, mmap_mode = "r")$dtype$kind)
    return(if (identical(kind, "b")) columns else character())
  }
  dataset <- reticulate::import("pyarrow.dataset", convert = FALSE)
  is_boolean <- reticulate::import("pyarrow", convert = FALSE)$types$is_boolean
  format <- if (grepl("\\.csv$", path, ignore.case = TRUE)) "csv" else "parquet"
  schema <- dataset$dataset(path, format = format)$schema
  names <- unlist(reticulate::py_to_r(schema$names))
  Filter(function(column) {
    column %in% names &&
      reticulate::py_to_r(is_boolean(schema$field(column)$type))
  }, columns)
}

#' A term of a file formula that is not a column of the file
#' @noRd
not_column <- function(term, role, call) {
  abort(
    c(
      sprintf(
        "with data given as a file path, the formula can only name columns of the file: %s `%s` is not a column.",
        role, term
      ),
      "Supported: `y ~ a + b`, `cbind(y1, y2) ~ a + b`, `y ~ .` (every other column), `- 1` or `+ 0` (no intercept), `. - a` (all but a).",
      "Transformations, factors and interactions need R to evaluate the rows: add the column to the file, or read the file into a data frame and fit that."
    ),
    call,
    class = "lrtiers_formula_error"
  )
}

#' An argument that needs the rows in R (weights, offset, subset, na.action)
#' @noRd
refuse_file_argument <- function(arg, call, term = NULL) {
  what <- switch(arg,
    weights = "weights are not supported for a streamed fit",
    offset = "offsets are not supported for a streamed fit",
    subset = "`subset` would need R to evaluate the rows, which are read by the core",
    na.action = "rows with missing values are refused by the core, not dropped"
  )
  abort(
    c(
      sprintf("with data given as a file path, `%s` cannot be used%s: %s.",
        if (is.null(term)) arg else term, if (is.null(term)) "" else " in the formula", what),
      "Write the file without the rows you do not want (or with the column you need), or read it into a data frame and call lr_fit(formula, data = <data frame>)."
    ),
    call,
    class = "lrtiers_argument_error"
  )
}
