# lr_compare(): every tier next to the closed-form answer, as in Python.

#' Compare training tiers with the closed-form least-squares answer
#'
#' Fits several tiers on the same data with the same settings (one seed for
#' all, drawn once when `seed` is not given) and returns the Python core's
#' comparison table as a data frame: a first row `"closed-form"` with the
#' least-squares answer, then one row per tier with its coefficients (`bias`
#' and one per feature, prefixed by the output's name when there are several),
#' `loss`, `gap` (loss minus the optimum), `max_coef_diff` (largest distance
#' of a coefficient to the closed form), `epochs_run`, `converged` and
#' `elapsed` (seconds).
#'
#' @inheritParams lr_fit
#' @param x A numeric matrix, data frame or vector of features, or a formula.
#' @param data A data frame with the variables of `formula` (the tiers are
#'   compared on data in memory; a file path is for [lr_fit()]).
#' @param y The response: a numeric vector, or a matrix/data frame with one
#'   column per output.
#' @param tiers The tiers to fit; `NULL` for all of [lr_tiers()].
#' @param ... Settings of [lr_fit()], named (`epochs = 500`, `seed = 1`,
#'   `precondition = "scale"`, ...); an unknown name is an error.
#' @return A data frame, one row per tier after the closed-form row.
#' @export
#' @examplesIf lrtiers:::python_ready()
#' lr_compare(cbind(apples, oranges) ~ temp + rainfall + humidity,
#'   data = crop_yields, seed = 1
#' )
lr_compare <- function(x, ...) {
  UseMethod("lr_compare")
}

#' @rdname lr_compare
#' @export
lr_compare.default <- function(x, ...) {
  abort(
    c(
      sprintf("`lr_compare()` has no method for `x` of class %s.", paste(class(x), collapse = "/")),
      "Use lr_compare(formula, data, ...) or lr_compare(x, y, ...) with a numeric matrix or data frame x."
    ),
    call = sys.call(-1),
    class = "lrtiers_argument_error"
  )
}

#' @rdname lr_compare
#' @export
lr_compare.formula <- function(formula, data, ..., tiers = NULL, subset, na.action) {
  call <- match.call(expand.dots = FALSE)
  call$... <- NULL
  user_call <- compare_call(sys.call())
  env <- parent.frame()
  settings <- compare_settings(list(...), ...names(), user_call)
  mold <- mold_formula(formula, data, call, env,
    intercept = settings$intercept, user_call = user_call
  )
  settings$intercept <- mold$intercept
  if (!is.null(settings$validation)) {
    settings$validation <- validation_formula(settings$validation, mold, user_call)
  }
  compare_bridge(mold$x, mold$y, tiers, settings, mold$feature_names, mold$target_names,
    user_call)
}

#' @rdname lr_compare
#' @export
lr_compare.matrix <- function(x, y, ..., tiers = NULL) {
  user_call <- compare_call(sys.call())
  settings <- compare_settings(list(...), ...names(), user_call)
  x <- as_feature_matrix(x, "x", user_call)
  y <- as_response(y, "y", user_call)
  check_rows(x, y, "x", "y", user_call)
  if (!is.null(settings$validation)) {
    settings$validation <- validation_xy(settings$validation, user_call)
  }
  compare_bridge(x, y, tiers, settings, colnames(x), if (is.matrix(y)) colnames(y) else "y",
    user_call)
}

#' @rdname lr_compare
#' @export
lr_compare.data.frame <- lr_compare.matrix

#' @rdname lr_compare
#' @export
lr_compare.numeric <- lr_compare.matrix

compare_call <- function(call) {
  call[[1L]] <- as.name("lr_compare")
  call
}

compare_settings <- function(values, names, call) {
  names <- names %||% rep("", length(values))
  check_dots_empty(
    names[!names %in% SETTING_NAMES | !nzchar(names)],
    sum(!names %in% SETTING_NAMES | !nzchar(names)),
    c(SETTING_NAMES, "tiers"), call
  )
  out <- list()
  for (name in names) out[name] <- list(convert_setting(name, values[[name]], call))
  if (!is.null(out$intercept)) check_flag(out$intercept, "intercept", call)
  out
}
