# lr_fit(): generic, interfaces (formula, matrix, data frame), one bridge to the
# core, one constructor.

#' Fit a linear regression by gradient descent with PyTorch
#'
#' Fits `y ~ x` by gradient descent in one of the five training tiers of the
#' tutorials (see [lr_tiers()]), by calling the Python core through
#' `reticulate`: the same settings and `seed` give the same bits as
#' `lrtiers.lr_fit()` in Python. All arithmetic happens in the core; R molds
#' the data, converts the settings and presents the result.
#'
#' ## Interfaces
#' * `lr_fit(formula, data, ...)`: like [stats::lm()]. Factors, interactions
#'   and transformations go through [stats::model.matrix()]; a multi-output
#'   fit is `cbind(apples, oranges) ~ temp + rainfall + humidity`. The
#'   intercept follows the formula (`- 1` or `+ 0` drop it) unless `intercept`
#'   is given; rows with missing values follow `na.action` (the count dropped
#'   is reported by `print()` and `summary()`).
#' * `lr_fit(x, y, ...)`: `x` a numeric matrix or data frame (numeric columns
#'   only) or a numeric vector (one feature), `y` a numeric vector or a
#'   matrix/data frame with one column per output.
#'
#' ## Settings
#' The settings, their defaults and their descriptions come from the Python
#' core's one declaration ([lr_defaults()] reads them); settings you do not
#' supply are not sent, so the core's own defaults apply. Settings must be
#' named: an unknown or misspelt name is an error. Whole numbers need no `L`
#' (`epochs = 100`, `batch_size = 5`, `seed = 1`). In R:
#' * `intercept` in the formula method defaults to what the formula says
#'   (`- 1` or `+ 0` drop it).
#' * `validation` is a fraction, or held-out data: a data frame for the formula
#'   method, `list(x, y)` for the x/y methods.
#' * `seed` seeds torch's generator; R's random numbers are not used or changed.
#'
#' ## What you get with the defaults
#' `lm()`'s answer, by gradient descent: the fit trains on orthonormalised
#' columns (`precondition = "orthogonal"`) with plain SGD at `lr = 1/L`, which
#' converges in a handful of epochs, and stops once every coefficient agrees with
#' the least-squares answer (Householder QR with `lm()`'s rule for aliased
#' columns, refined in extended precision) to 7 significant digits relative to
#' `max(|b|, SE(b))`. Aliased columns get `NA`, as in `lm()`. A fit that has not
#' converged warns (class `lrtiers_convergence_warning`) with advice that fits
#' the cause, and says so in every view of it. The tutorials' settings
#' ([lr_tutorial_settings()]: plain SGD at a constant step on the raw columns for
#' exactly `epochs` epochs) reproduce every tutorial bit for bit.
#'
#' @param x A numeric matrix, data frame or vector of features, or a formula.
#' @param formula A model formula, as in [stats::lm()].
#' @param data A data frame with the variables of `formula`.
#' @param y The response: a numeric vector, or a matrix/data frame with one
#'   column per output.
#' @param ... Not used: any argument that lands here (a misspelt setting, an
#'   unnamed setting) is an error.
#' @eval setting_param_docs()
#' @param weights `NULL` or positive weights, one per row: weighted least
#'   squares, as `lm(weights = )` (evaluated in `data` for the formula method).
#'   Every tier then minimises `sum(w * r^2) / n` (divided by the number of
#'   rows, not by `sum(w)`); `deviance()`, `sigma()`, the history and the
#'   losses are the weighted ones. Rows of weight 0 are not accepted: drop them
#'   with `subset`. Not with `validation`.
#' @param offset As in [stats::lm()]: a known part of the response (evaluated
#'   in `data`), like `offset()` terms in the formula. The fit trains on the
#'   response minus the offset; `fitted()` and `predict()` add it back
#'   (`predict()` evaluates it in `newdata`).
#' @param subset,na.action As in [stats::lm()]: rows to use, and what to do
#'   with missing values (default `getOption("na.action")`).
#' @param progress Show a progress bar (with the loss) while fitting; by
#'   default only in interactive sessions, and only once a fit has run for
#'   `getOption("lrtiers.progress_delay", 0.5)` seconds. Esc / Ctrl-C stops a
#'   fit cleanly (with any progress bar) with an error of class
#'   `lrtiers_interrupted`; the session stays usable.
#' @param callback `NULL` or a function `function(epoch, loss)` called after
#'   every epoch; returning `FALSE` stops the fit (`stop_reason` "callback").
#'
#' @return An object of class `lr_fit`: a list of plain R data (no Python
#'   objects), safe to [saveRDS()]. Components include `coefficients` (a named
#'   vector, or a matrix with one column per output), `fitted.values`,
#'   `residuals`, `history` (a data frame: epoch, loss, grad_norm and
#'   val_loss, one row per epoch), `settings` (every setting used, the seed
#'   resolved), `optimum` (the closed-form least-squares answer), `loss`,
#'   `converged`, `call`, `terms` and `core` (the core's fit record, see
#'   [lr_save()]). Methods: `print`, `summary`, `coef`, `vcov`, `confint`,
#'   `predict`, `fitted`, `residuals`, `plot`, `nobs`, and the broom verbs
#'   `tidy`, `glance` and `augment`.
#' @seealso [lr_compare()] for every tier next to the closed form,
#'   [lr_save()], [lr_doctor()].
#' @export
#' @examplesIf lrtiers:::python_ready()
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' fit
#' summary(fit)
#' predict(fit, newdata = data.frame(wt = 3, hp = 120))
#'
#' # several outputs, mini-batches as in the rTorch tutorial (a decaying step
#' # by default; mini-batch noise keeps them a few digits from lm(): it warns)
#' crops <- lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity,
#'   data = crop_yields, tier = "dataloader", batch_size = 5, seed = 0
#' )
#' coef(crops)
lr_fit <- function(x, ...) {
  UseMethod("lr_fit")
}

#' @rdname lr_fit
#' @export
lr_fit.default <- function(x, ...) {
  abort(
    c(
      sprintf(
        "`lr_fit()` has no method for `x` of class %s.",
        paste(class(x), collapse = "/")
      ),
      "Use lr_fit(formula, data, ...) or lr_fit(x, y, ...) with a numeric matrix or data frame x."
    ),
    call = sys.call(-1),
    class = "lrtiers_argument_error"
  )
}

#' @rdname lr_fit
#' @export
lr_fit.formula <- function(formula, data, ..., weights, offset, subset, na.action,
                           progress = interactive(), callback = NULL) {
  call <- match.call()
  call[[1L]] <- as.name("lr_fit")
  user_call <- fit_call(sys.call())
  env <- parent.frame()
  check_dots_empty(...names(), ...length(), known_args(), user_call)
  settings <- collect_settings(environment(), user_call)
  check_flag(progress, "progress", user_call)

  if (missing(data)) {
    abort(
      "`data` is missing: lr_fit(formula, data) needs a data frame with the formula's variables.",
      user_call,
      class = "lrtiers_argument_error"
    )
  }
  mold <- mold_formula(
    formula, data, call, env,
    intercept = if (missing(intercept)) NULL else check_flag(intercept, "intercept", user_call),
    user_call = user_call
  )
  settings$intercept <- mold$intercept
  if (!is.null(settings$validation)) {
    settings$validation <- validation_formula(settings$validation, mold, user_call)
  }
  result <- fit_bridge(
    mold$x, mold$y, settings, mold$feature_names, mold$target_names,
    weights = mold$weights, offset = mold$offset,
    progress = progress, callback = callback, call = user_call
  )
  rows <- result$rows
  new_lr_fit(
    result$core,
    fitted = result$fitted, y = subset_rows(mold$y, rows), call = call, interface = "formula",
    terms = mold$terms, xlevels = mold$xlevels, contrasts = mold$contrasts,
    model = mold$model[rows, , drop = FALSE], na.action = mold$na.action,
    weights = mold$weights[rows], offset = mold$offset[rows], rows = result$all_rows,
    offset_call = call$offset
  )
}

#' Rows of a vector or matrix
#' @noRd
subset_rows <- function(v, rows) if (is.matrix(v)) v[rows, , drop = FALSE] else v[rows]

#' @rdname lr_fit
#' @export
lr_fit.data.frame <- function(x, y, ..., weights = NULL, progress = interactive(),
                              callback = NULL) {
  xy_fit(environment(), fit_call(match.call()), fit_call(sys.call()), ...names(), ...length())
}

#' @rdname lr_fit
#' @export
lr_fit.matrix <- lr_fit.data.frame

#' @rdname lr_fit
#' @export
lr_fit.numeric <- lr_fit.data.frame

# The settings' formals (with the core's defaults) go after `...`, from R/core-settings.R
formals(lr_fit.formula) <- append(formals(lr_fit.formula), setting_formals(), after = 3L)
formals(lr_fit.data.frame) <- append(formals(lr_fit.data.frame), setting_formals(), after = 3L)
formals(lr_fit.matrix) <- formals(lr_fit.data.frame)
formals(lr_fit.numeric) <- formals(lr_fit.data.frame)

fit_call <- function(call) {
  call[[1L]] <- as.name("lr_fit")
  call
}

known_args <- function() {
  c(SETTING_NAMES, "weights", "offset", "subset", "na.action", "progress", "callback")
}

#' The x/y methods share one body (their formals are the same)
#' @noRd
xy_fit <- function(env, call, user_call, dots_names, n_dots) {
  check_dots_empty(dots_names, n_dots, setdiff(known_args(), c("subset", "na.action", "offset")),
    user_call)
  if (eval(quote(missing(y)), env)) {
    abort(
      "`y` is missing: lr_fit(x, y) needs the response, or use lr_fit(formula, data).",
      user_call,
      class = "lrtiers_argument_error"
    )
  }
  settings <- collect_settings(env, user_call)
  progress <- check_flag(get("progress", envir = env), "progress", user_call)
  x <- as_feature_matrix(get("x", envir = env), "x", user_call)
  y <- as_response(get("y", envir = env), "y", user_call)
  check_rows(x, y, "x", "y", user_call)
  weights <- check_weights(get("weights", envir = env), NROW(y), user_call)
  if (!is.null(settings$validation)) {
    settings$validation <- validation_xy(settings$validation, user_call)
  }
  target_names <- if (is.matrix(y)) colnames(y) else "y"
  result <- fit_bridge(
    x, y, settings, colnames(x), target_names, weights = weights,
    progress = progress, callback = get("callback", envir = env), call = user_call
  )
  rows <- result$rows
  new_lr_fit(result$core,
    fitted = result$fitted, y = subset_rows(y, rows), x = x[rows, , drop = FALSE], call = call,
    interface = "xy", weights = weights[rows], rows = result$all_rows
  )
}

# ------------------------------------------------------------------ molding

mold_formula <- function(formula, data, call, env, intercept, user_call) {
  if (!inherits(formula, "formula") || length(formula) != 3L) {
    abort(
      "`formula` must be a two-sided formula such as `y ~ x1 + x2`.",
      user_call,
      class = "lrtiers_formula_error"
    )
  }
  if (!is.data.frame(data) && !is.list(data) && !is.environment(data)) {
    abort(sprintf("`data` must be a data frame; got %s.", describe(data)), user_call,
      class = "lrtiers_argument_error"
    )
  }
  mf_call <- call[c(1L, match(
    c("formula", "data", "subset", "weights", "na.action", "offset"), names(call), 0L
  ))]
  mf_call$drop.unused.levels <- TRUE
  mf_call[[1L]] <- quote(stats::model.frame)
  model <- tryCatch(eval(mf_call, env), error = function(e) {
    if (grepl("missing values in object", conditionMessage(e), fixed = TRUE)) {
      na_call <- mf_call
      na_call$na.action <- quote(stats::na.pass)
      na_call$drop.unused.levels <- NULL
      all <- eval(na_call, env)
      incomplete <- !stats::complete.cases(all)
      cols <- names(all)[vapply(all, anyNA, logical(1))]
      abort(
        c(
          sprintf(
            "`data` has missing values in %d of %d rows (in %s) and na.action is na.fail.",
            sum(incomplete), length(incomplete), paste(cols, collapse = ", ")
          ),
          "Use na.action = na.omit (or na.exclude) to drop them, or impute them first."
        ),
        user_call,
        class = "lrtiers_na_error"
      )
    }
    abort(
      c(sprintf("could not evaluate the formula `%s`:", deparse1(formula)), conditionMessage(e)),
      user_call,
      class = "lrtiers_formula_error"
    )
  })
  if (!nrow(model)) {
    dropped <- length(attr(model, "na.action"))
    abort(
      if (dropped) {
        sprintf(
          "no rows are left: all %d rows of `data` have a missing value (NA) in the formula's variables.",
          dropped
        )
      } else {
        "`data` has no rows."
      },
      user_call,
      class = "lrtiers_na_error"
    )
  }
  terms <- attr(model, "terms")
  formula_intercept <- attr(terms, "intercept") == 1L
  if (is.null(intercept)) {
    intercept <- formula_intercept
  } else if (intercept && !formula_intercept) {
    abort(
      "`intercept = TRUE` conflicts with the formula, which removes the intercept (- 1 or + 0).",
      user_call,
      class = "lrtiers_value_error"
    )
  }
  attr(terms, "intercept") <- as.integer(intercept)
  y <- stats::model.response(model, "any")
  if (is.null(y)) {
    abort("the formula has no response (left-hand side).", user_call,
      class = "lrtiers_formula_error"
    )
  }
  y <- as_response(y, "the response", user_call)
  if (!is.matrix(y)) names(y) <- NULL
  weights <- check_weights(stats::model.weights(model), NROW(y), user_call)
  offset <- stats::model.offset(model)
  if (!is.null(offset)) {
    offset <- as.vector(offset)
    if (length(offset) != NROW(y) || anyNA(offset)) {
      abort(sprintf("`offset` must be %d numbers without NA, one per row; got %d.", NROW(y),
        length(offset)), user_call, class = "lrtiers_value_error")
    }
  }
  x <- intercept_free_model_matrix(terms, model)
  contrasts <- attr(x, "contrasts")
  if (ncol(x) == 0L) {
    abort(
      sprintf(
        "the formula `%s` has no predictors: lr_fit() needs at least one column in x.",
        deparse1(formula)
      ),
      user_call,
      class = "lrtiers_formula_error"
    )
  }
  attr(x, "assign") <- NULL
  attr(x, "contrasts") <- NULL
  x <- as_double(x)
  check_finite(x, "data", user_call)
  response_name <- deparse1(formula[[2L]])
  target_names <- if (is.matrix(y)) colnames(y) else response_name
  if (is.matrix(y) && is.null(target_names)) {
    target_names <- paste0(response_name, seq_len(ncol(y)))
    colnames(y) <- target_names
  }
  list(
    x = x, y = y, terms = terms, model = model, intercept = intercept,
    xlevels = stats::.getXlevels(terms, model), contrasts = contrasts,
    na.action = attr(model, "na.action"), feature_names = colnames(x),
    target_names = target_names, weights = weights, offset = offset
  )
}

#' model.matrix() without its "(Intercept)" column (the core adds the intercept)
#'
#' With numeric predictors only, the matrix is built without the column, which saves a
#' copy of X (the column drop) on big data; with factors the intercept decides their
#' coding, so the column is built and dropped.
#' @noRd
intercept_free_model_matrix <- function(terms, model, contrasts = NULL) {
  classes <- attr(terms, "dataClasses")
  classes <- classes[setdiff(names(classes), names(model)[attr(terms, "response")])]
  if (attr(terms, "intercept") == 1L && length(classes) &&
    all(classes == "numeric" | startsWith(classes, "nmatrix"))) {
    attr(terms, "intercept") <- 0L
    return(stats::model.matrix(terms, model))
  }
  x <- stats::model.matrix(terms, model, contrasts.arg = contrasts)
  used <- attr(x, "contrasts")
  x <- x[, colnames(x) != "(Intercept)", drop = FALSE]
  attr(x, "contrasts") <- used # kept: predict() must code factors as the fit did
  x
}

#' Model matrix for new data from a formula fit's terms (predict, validation)
#' @noRd
new_model_matrix <- function(terms, xlevels, contrasts, newdata, na.action = stats::na.pass,
                             response = FALSE) {
  tt <- if (response) terms else stats::delete.response(terms)
  model <- stats::model.frame(tt, newdata, na.action = na.action, xlev = xlevels)
  x <- intercept_free_model_matrix(tt, model, contrasts)
  x <- as_double(x)
  list(x = x, model = model)
}

validation_formula <- function(validation, mold, call) {
  if (is.numeric(validation)) {
    return(check_number(validation, "validation", call))
  }
  if (!is.data.frame(validation)) {
    abort(
      "`validation` must be NULL, a fraction, or a data frame with the formula's variables.",
      call,
      class = "lrtiers_argument_error"
    )
  }
  new <- new_model_matrix(mold$terms, mold$xlevels, mold$contrasts, validation,
    na.action = stats::na.omit, response = TRUE
  )
  y <- as_response(stats::model.response(new$model, "any"), "the validation response", call)
  reticulate::tuple(new$x, y)
}

validation_xy <- function(validation, call) {
  if (is.numeric(validation)) {
    return(check_number(validation, "validation", call))
  }
  if (!is.list(validation) || is.data.frame(validation) || length(validation) != 2L) {
    abort("`validation` must be NULL, a fraction, or list(x_val, y_val).", call,
      class = "lrtiers_argument_error"
    )
  }
  x <- as_feature_matrix(validation[[1]], "validation x", call)
  y <- as_response(validation[[2]], "validation y", call)
  check_rows(x, y, "validation x", "validation y", call)
  reticulate::tuple(x, y)
}

#' Numeric features as a double matrix with column names; other types rejected
#' @noRd
as_feature_matrix <- function(x, arg, call) {
  if (is.data.frame(x)) {
    bad <- names(x)[!vapply(x, is.numeric, logical(1))]
    if (length(bad)) {
      kinds <- vapply(x[bad], function(col) class(col)[[1]], character(1))
      abort(
        c(
          sprintf(
            "`%s` must have numeric columns only; non-numeric: %s.", arg,
            paste(sprintf("%s (%s)", bad, kinds), collapse = ", ")
          ),
          "Convert them to numbers, or use the formula interface, which expands factors."
        ),
        call,
        class = "lrtiers_type_error"
      )
    }
    names <- names(x)
    x <- as.matrix(x)
    colnames(x) <- names
  } else if (is.numeric(x) && is.null(dim(x))) {
    x <- matrix(x, ncol = 1L, dimnames = list(names(x), "x"))
  } else if (!is.matrix(x) || !is.numeric(x)) {
    abort(
      c(
        sprintf("`%s` must be a numeric matrix, data frame or vector; got %s.", arg, describe_type(x)),
        if (is.logical(x) || is.character(x) || is.factor(x)) {
          "Convert it to numbers, or use the formula interface, which expands factors."
        }
      ),
      call,
      class = "lrtiers_type_error"
    )
  }
  if (is.null(colnames(x))) colnames(x) <- paste0("x", seq_len(ncol(x)))
  x <- as_double(x) # NA_integer_ must not reach Python as -2147483648
  check_missing(x, arg, call)
  x
}

#' Double storage without a copy when it already is (storage.mode<- copies big data)
#' @noRd
as_double <- function(x) {
  if (typeof(x) != "double") storage.mode(x) <- "double"
  x
}

as_response <- function(y, arg, call) {
  if (is.data.frame(y)) {
    bad <- names(y)[!vapply(y, is.numeric, logical(1))]
    if (length(bad)) {
      abort(sprintf("%s must be numeric; non-numeric column(s): %s.", arg, paste(bad, collapse = ", ")),
        call,
        class = "lrtiers_type_error"
      )
    }
    names <- names(y)
    y <- as.matrix(y)
    colnames(y) <- names
  }
  if (!is.numeric(y)) {
    abort(
      sprintf("%s must be numeric (a vector, or a matrix with one column per output); got %s.", arg, describe_type(y)),
      call,
      class = "lrtiers_type_error"
    )
  }
  if (is.matrix(y)) {
    if (is.null(colnames(y))) colnames(y) <- paste0("y", seq_len(ncol(y)))
  } else {
    if (!is.null(attributes(y))) y <- as.vector(y) # names, or a 1-d array
  }
  y <- as_double(y)
  check_missing(y, arg, call)
  y
}

describe_type <- function(x) {
  type <- if (is.factor(x)) "factor" else if (is.matrix(x)) paste(typeof(x), "matrix") else typeof(x)
  sprintf("a %s (class %s)", type, paste(class(x), collapse = "/"))
}

check_missing <- function(x, arg, call) {
  if (!anyNA(x)) {
    return(check_finite(x, arg, call))
  }
  rows <- if (is.matrix(x)) which(!stats::complete.cases(x)) else which(is.na(x))
  shown <- paste(utils::head(rows, 5), collapse = ", ")
  abort(
    c(
      sprintf(
        "`%s` has missing values (NA) in %d of %d rows (rows %s%s).", arg, length(rows),
        NROW(x), shown, if (length(rows) > 5) ", ..." else ""
      ),
      "Remove or impute them first, or use lr_fit(formula, data), which follows na.action."
    ),
    call,
    class = "lrtiers_na_error"
  )
}

#' `weights`: NULL, or n positive finite numbers (as lm(), but without zero weights)
#' @noRd
check_weights <- function(weights, n, call) {
  if (is.null(weights)) {
    return(NULL)
  }
  if (!is.numeric(weights) || !is.null(dim(weights)) && length(dim(weights)) > 1L &&
    ncol(weights) != 1L) {
    abort(sprintf("`weights` must be a numeric vector; got %s.", describe_type(weights)), call,
      class = "lrtiers_type_error")
  }
  weights <- as.double(weights)
  if (length(weights) != n) {
    abort(sprintf("`weights` must have one value per row (%d); got %d.", n, length(weights)),
      call, class = "lrtiers_value_error")
  }
  bad <- which(!is.finite(weights) | weights <= 0)
  if (length(bad)) {
    abort(
      c(
        sprintf("`weights` must be positive and finite; %d %s not (row%s %s%s).", length(bad),
          if (length(bad) == 1L) "is" else "are", if (length(bad) == 1L) "" else "s",
          paste(utils::head(bad, 5), collapse = ", "), if (length(bad) > 5) ", ..." else ""),
        "Rows of weight 0 do not take part in lm()'s fit either: drop them with `subset`."
      ),
      call,
      class = "lrtiers_value_error"
    )
  }
  weights
}

check_finite <- function(x, arg, call) {
  finite <- is.finite(x)
  if (all(finite)) {
    return(invisible())
  }
  rows <- if (is.matrix(x)) which(rowSums(!finite) > 0) else which(!finite)
  n <- length(rows)
  shown <- utils::head(rows, 5)
  if (is.matrix(x) && !is.null(rownames(x)) && arg == "data") shown <- rownames(x)[shown]
  abort(
    c(
      sprintf(
        "`%s` has infinite values (Inf) in %d of %d rows (row%s %s%s).", arg, n,
        NROW(x), if (n == 1L) "" else "s", paste(shown, collapse = ", "),
        if (n > 5) ", ..." else ""
      ),
      "Remove those rows or replace the values first."
    ),
    call,
    class = "lrtiers_na_error"
  )
}

check_rows <- function(x, y, x_arg, y_arg, call) {
  if (NROW(x) != NROW(y)) {
    abort(sprintf(
      "`%s` and `%s` must have the same number of rows; got %d and %d.",
      x_arg, y_arg, NROW(x), NROW(y)
    ), call, class = "lrtiers_data_error")
  }
}

# ------------------------------------------------------------------ the bridge

#' The one call into the core: fit, then bring back plain data
#' @noRd
fit_bridge <- function(x, y, settings, feature_names, target_names, weights = NULL,
                       offset = NULL, progress, callback, call) {
  if (!is.null(callback) && !is.function(callback)) {
    abort(sprintf("`callback` must be NULL or a function(epoch, loss); got %s.", describe(callback)),
      call,
      class = "lrtiers_argument_error"
    )
  }
  module <- core()
  warn_unshielded_torch()
  epochs <- settings$epochs %||% lr_defaults()$defaults$epochs
  monitor <- new_monitor(epochs, progress, callback)
  on.exit(monitor$close(), add = TRUE)
  # an offset is known: train on y - offset (as lm()), add it back to the fitted values
  y_train <- if (is.null(offset)) y else y - offset
  # a length-1 vector would reach Python as a scalar: a one-row fit sends a 1-d array
  if (!is.matrix(y_train) && length(y_train) == 1L) y_train <- array(y_train, 1L)
  if (length(weights) == 1L) weights <- array(weights, 1L)
  args <- c(
    list(x, y_train), settings,
    list(feature_names = as.list(feature_names), target_names = as.list(target_names))
  )
  if (!is.null(weights)) args$weights <- weights
  if (monitor$active) args$callback <- reticulate::r_to_py(monitor$callback, convert = TRUE)
  pyfit <- withCallingHandlers(
    with_core_conditions(
      py_call_with(module$lr_fit, args),
      call = call,
      what = function() {
        sprintf("the fit (at epoch %s of %d)", monitor$epoch_text(), as.integer(epochs))
      }
    ),
    error = function(e) monitor$close() # end the progress line before the message
  )
  monitor$close()
  monitor$rethrow(call)
  core <- jsonlite::parse_json(py_json(pyfit$to_dict()), simplifyVector = FALSE)
  # a validation fraction: fitted values and residuals of the training rows only (nobs())
  rows <- seq_len(NROW(y))
  if (is.numeric(settings$validation)) {
    split <- module$fit$split_rows(NROW(y), settings$validation, core$settings$seed)
    rows <- as.integer(reticulate::py_to_r(split[[0L]])) + 1L
  }
  x_rows <- if (length(rows) == NROW(y)) x else x[rows, , drop = FALSE]
  # fitted values, as lm() has them: no rank-deficiency warning for those
  fitted <- with_core_conditions(pyfit$predict(x_rows), call = call,
    muffle = "RankDeficiencyWarning")
  fitted <- as_r_prediction(fitted, target_names, rownames(x_rows))
  if (!is.null(offset)) fitted <- fitted + offset[rows]
  list(core = core, fitted = fitted, rows = rows,
    all_rows = if (length(rows) == NROW(y)) NULL else rows)
}

#' A core prediction (NumPy array) as a vector, or a matrix with one column per output
#' @noRd
as_r_prediction <- function(pred, target_names, row_names = NULL) {
  pred <- reticulate::py_to_r(pred)
  if (length(dim(pred)) == 2L) {
    dimnames(pred) <- list(row_names, target_names)
    pred
  } else {
    pred <- as.vector(pred)
    names(pred) <- row_names
    pred
  }
}

#' Progress bar and user callback, driven by the core's per-epoch callback
#' @noRd
new_monitor <- function(epochs, progress, callback) {
  state <- new.env(parent = emptyenv())
  state$epoch <- NA_integer_
  state$shown <- FALSE
  state$last <- 0
  state$error <- NULL
  started <- proc.time()[["elapsed"]]
  delay <- getOption("lrtiers.progress_delay", 0.5)
  width <- 30L
  draw <- function(epoch, loss) {
    done <- if (epochs > 0) min(1, epoch / epochs) else 1
    bar <- strrep("=", round(width * done))
    cat(sprintf(
      "\r[%-*s] %3d%%  epoch %d/%d  loss %.6g", width, bar, round(100 * done), epoch,
      as.integer(epochs), loss
    ), file = stderr())
    utils::flush.console()
  }
  state$callback <- function(epoch, loss) {
    state$epoch <- epoch
    if (progress) {
      now <- proc.time()[["elapsed"]]
      if (now - started >= delay && (now - state$last > 0.1 || epoch == epochs)) {
        state$shown <- TRUE
        state$last <- now
        draw(epoch, loss)
      }
    }
    if (!is.null(state$error)) {
      return(FALSE)
    }
    if (!is.null(callback)) {
      keep_going <- tryCatch(callback(epoch, loss), error = function(e) {
        state$error <- e
        state$error_epoch <- epoch
        FALSE
      })
      if (identical(keep_going, FALSE)) {
        return(FALSE)
      }
    }
    TRUE
  }
  list(
    active = progress || !is.null(callback),
    callback = state$callback,
    epoch_text = function() if (is.na(state$epoch)) "0" else format(state$epoch),
    close = function() {
      if (state$shown) {
        cat("\n", file = stderr())
        state$shown <- FALSE
      }
    },
    rethrow = function(call) {
      if (!is.null(state$error)) {
        abort(
          c(
            sprintf("`callback` failed at epoch %s; the fit was stopped:", state$error_epoch),
            conditionMessage(state$error)
          ),
          call,
          class = "lrtiers_callback_error"
        )
      }
    }
  )
}

# ------------------------------------------------------------------ the result

#' Build an lr_fit from the core's fit record (plain data only) and R's extras
#' @noRd
new_lr_fit <- function(core, fitted = NULL, y = NULL, x = NULL, call = NULL,
                       interface = c("formula", "xy", "file"), terms = NULL,
                       xlevels = NULL, contrasts = NULL, model = NULL, na.action = NULL,
                       weights = NULL, offset = NULL, rows = NULL, offset_call = NULL) {
  interface <- match.arg(interface)
  stopifnot(identical(core$format, FIT_FORMAT))
  features <- unlist(core$feature_names)
  targets <- unlist(core$target_names)
  intercept <- isTRUE(core$settings$intercept)
  coef_names <- c(if (intercept) "(Intercept)", features)
  multi <- identical(as.integer(core$y_ndim), 2L)
  coefficients <- coef_table(core$weight, core$bias, coef_names, targets, intercept, multi)
  optimum <- list(
    coefficients = coef_table(core$optimum$weight, core$optimum$bias, coef_names, targets,
      intercept, multi
    ),
    loss = as.numeric(core$optimum$loss)
  )
  history <- data.frame(
    epoch = as.integer(unlist(core$history$epoch)),
    loss = as.numeric(unlist(core$history$loss)),
    grad_norm = as.numeric(unlist(core$history$grad_norm))
  )
  if (!is.null(core$history$val_loss)) {
    history$val_loss <- as.numeric(unlist(core$history$val_loss))
  }
  xtx_inv <- do.call(rbind, lapply(core$xtx_inv, json_numbers))
  dimnames(xtx_inv) <- list(coef_names, coef_names)
  # version 1 files (lrtiers 0.1) have no aliasing and a loss-only verdict
  aliased <- stats::setNames(
    as.logical(unlist(core$aliased %||% rep(list(FALSE), length(features)))), features
  )
  verdict <- core$verdict %||% list(converged = isTRUE(core$converged))
  residuals <- if (!is.null(fitted) && !is.null(y)) y - fitted
  core$history <- NULL # kept once, as the history data frame (lr_save() puts it back)
  fit <- list(
    coefficients = coefficients,
    residuals = residuals,
    fitted.values = fitted,
    tier = core$tier,
    loss = as.numeric(core$loss),
    initial_loss = as.numeric(core$initial_loss %||% NA_real_),
    optimum = optimum,
    converged = isTRUE(verdict$converged),
    verdict = verdict,
    aliased = aliased,
    rank = as.integer(core$rank %||% (length(features) + intercept)),
    stop_reason = core$stop_reason,
    epochs_run = as.integer(core$epochs_run),
    lr = as.numeric(core$lr),
    lr_max = as.numeric(core$lr_max %||% Inf), # null: no stable bound
    optimizer = core$optimizer %||% list(name = "sgd"),
    preconditioner = core$preconditioner %||%
      list(kind = if (is.null(core$standardization)) "none" else "scale"),
    history = history,
    sse = stats::setNames(as.numeric(unlist(core$sse)), targets),
    df.residual = as.integer(core$df_residual),
    xtx_inv = xtx_inv,
    settings = core$settings,
    intercept = intercept,
    feature_names = features,
    target_names = targets,
    multi = multi,
    n_train = as.integer(core$n_train),
    n_val = as.integer(core$n_val),
    versions = unlist(core$versions),
    elapsed = as.numeric(core$elapsed),
    interface = interface,
    call = call,
    terms = terms,
    xlevels = xlevels,
    contrasts = contrasts,
    model = model,
    x = x,
    y = y,
    na.action = na.action,
    weights = weights,
    offset = offset,
    training_rows = rows,
    offset_call = offset_call,
    weighted = isTRUE(core$weighted),
    key = new_fit_key(),
    core = core
  )
  structure(fit, class = "lr_fit")
}

#' A key for the cache of Python predictors (no draws from R's random numbers)
#' @noRd
new_fit_key <- function() {
  .state$fits <- (.state$fits %||% 0) + 1
  sprintf("%d:%.0f:%s", Sys.getpid(), .state$fits, format(Sys.time(), "%Y%m%d%H%M%OS6"))
}

#' JSON numbers as a double vector: null (NaN, e.g. an aliased coefficient) is NA
#' @noRd
json_numbers <- function(values) {
  vapply(values, function(v) if (is.null(v)) NA_real_ else as.numeric(v), numeric(1))
}

coef_table <- function(weight, bias, coef_names, targets, intercept, multi) {
  w <- do.call(rbind, lapply(weight, json_numbers))
  b <- json_numbers(bias)
  table <- t(cbind(if (intercept) b, w))
  dimnames(table) <- list(coef_names, targets)
  if (multi) table else stats::setNames(table[, 1L], coef_names)
}
