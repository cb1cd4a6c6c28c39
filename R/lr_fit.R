# lr_fit(): the generic and its methods (formula, data frame, matrix, vector); each molds
# its input (R/mold.R), calls the bridge (R/bridge.R) and the constructor (R/new_lr_fit.R).

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
#'   is given (`y ~ 1` trains the intercept alone); rows with missing values
#'   follow `na.action` (the count dropped is reported by `print()` and
#'   `summary()`); without `data` the variables come from the formula's
#'   environment.
#'
#' A fit made on data in memory is also an `lm` object (class
#' `c("lr_fit", "lm")`, `"mlm"` for several outputs), with `lm()`'s components
#' and the trained coefficients: `lm()`'s methods and the packages built on
#' them (sandwich, lmtest, car, emmeans, ...) work on it (see
#' [lr_fit-methods]).
#' * `lr_fit(x, y, ...)`: `x` a numeric matrix or data frame (numeric columns
#'   only) or a numeric vector (one feature), `y` a numeric vector or a
#'   matrix/data frame with one column per output.
#' * `lr_fit(recipe, data, ...)`: a [recipes::recipe()], prepared on `data`
#'   and molded by [hardhat::mold()] (needs the recipes and hardhat packages);
#'   `predict()` prepares new data with the fit's blueprint
#'   ([hardhat::forge()]), also after [lr_save()] and [lr_load()].
#' * `lr_fit(formula, data = "file.parquet", ...)` and
#'   `lr_fit("file.parquet", y = "response", ...)`: data in a file, streamed
#'   by the core without being read into memory (see "Data larger than
#'   memory").
#'
#' ## Data larger than memory
#' With `data` a file path (a single string: a Parquet file, a directory of
#' Parquet files with one schema, a 2-D `.npy` file or a `.csv` file with a
#' header line; `~` is expanded), the Python core reads the file a chunk at a
#' time, pass after pass, and never holds the whole table (`lrtiers.scan()`
#' and `lrtiers.lr_fit()` in Python; R never sees the rows). With the same
#' settings and `seed` the coefficients are the same bits as Python's
#' `lrtiers.lr_fit(lrtiers.scan(path, x = ..., y = ...))`, and equal an
#' in-memory fit of the same rows to about 10 significant digits (the sums
#' run in another order).
#'
#' The formula names columns of the file, nothing else: `y ~ a + b`,
#' `cbind(y1, y2) ~ a + b`, `y ~ .` (every other column), `y ~ . - id`, and
#' `- 1` or `+ 0` for no intercept. A `.npy` file's columns are `V1`, `V2`,
#' ... (as `data.frame()` names a matrix's). Columns must be numbers
#' (integers, doubles or booleans); a missing value is an error. What needs R
#' to evaluate the rows is refused by name (class `lrtiers_formula_error` or
#' `lrtiers_argument_error`): transformations (`log(x)`, `I(x^2)`, `poly()`),
#' factors, interactions, `offset()`, and the arguments `weights`, `offset`,
#' `subset` and `na.action`; add the column to the file, or read the file
#' into a data frame and fit that. `validation` can be a fraction (held out
#' of every block), not a data frame. `lr_fit(path, y = "response")` is
#' `lr_fit(response ~ ., data = path)`; `y` may name several columns (one
#' output each). `chunk_rows` sets how many rows are read at a time (memory
#' and I/O only, never the values); `block_rows` and `world_size` are the
#' streamed fit's settings.
#'
#' The result is an ordinary `lr_fit` with the coefficients, the history, the
#' verdict, the standard errors (from the core's `(X'X)^-1` and residual sum
#' of squares, which need no rows) and `source` (the file's `path`, `kind`
#' and `n_rows`), but no fitted values or residuals. `print()`, `summary()`,
#' `coef()`, `vcov()`, `confint()`, `sigma()`, `deviance()`, `nobs()`,
#' `df.residual()`, `logLik()`, `AIC()`, `BIC()`, `tidy()`, `glance()`,
#' `predict(fit, newdata = )`, `augment(fit, newdata = )`,
#' `plot(fit, which = "loss")`, `lr_save()` and `update()` (which reads the file
#' again) work. The methods that need the rows (`fitted()`, `residuals()`,
#' `predict()` without `newdata`, `hatvalues()`, `cooks.distance()`,
#' `rstandard()`, `rstudent()`, `influence()`, `dfbeta()`, `model.frame()`,
#' `model.matrix()`, `anova(fit)`, `augment()` without `newdata`, the
#' diagnostic plots) stop with an error of class `lrtiers_data_not_in_memory`
#' that says so. R-squared and the F statistic need the rows too: `summary()`
#' leaves them out and `glance()` has `NA` for them.
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
#' the cause, and says so in every view of it. Mini-batches (`batch_size`) reach
#' the same answer: each batch's gradient is corrected with an anchor, the
#' coefficients the epoch began with (`variance_reduction = "auto"`: SVRG), so a
#' constant step arrives, and `lr = "auto"` is a share of `1/L` that no batch's
#' curvature can overshoot (see `vignette("conditioning")`). The tutorials' settings
#' ([lr_tutorial_settings()]: plain SGD at a constant step on the raw columns for
#' exactly `epochs` epochs) reproduce every tutorial bit for bit.
#'
#' @param x A numeric matrix, data frame or vector of features, a formula, or
#'   a file path (see "Data larger than memory").
#' @param formula A model formula, as in [stats::lm()].
#' @param data A data frame with the variables of `formula`, or a file path
#'   (see "Data larger than memory").
#' @param y The response: a numeric vector, or a matrix/data frame with one
#'   column per output; with `x` a file path, the name of the response column
#'   (or several names, one output each).
#' @param ... Not used: any argument that lands here (a misspelt setting, an
#'   unnamed setting) is an error.
#' @eval setting_param_docs()
#' @param weights `NULL` or weights (>= 0), one per row: weighted least
#'   squares, as `lm(weights = )` (evaluated in `data` for the formula method).
#'   Every tier then minimises `sum(w * r^2) / n` (divided by the number of
#'   rows, not by `sum(w)`); `deviance()`, `sigma()`, the history and the
#'   losses are the weighted ones. Rows of weight 0 take no part in the fit,
#'   as in `lm()`, but have fitted values and residuals. Not with `validation`.
#' @param offset As in [stats::lm()]: a known part of the response (evaluated
#'   in `data`), like `offset()` terms in the formula; for the x/y methods, a
#'   vector, as [stats::lm.fit()]'s. The fit trains on the response minus the
#'   offset; `fitted()` and `predict()` add it back (`predict()` evaluates it
#'   in `newdata`, or takes `offset =` for an x/y fit).
#' @param contrasts As in [stats::lm()]: a list naming the contrasts of factors
#'   (e.g. `list(spray = "contr.sum")`).
#' @param model,qr As in [stats::lm()]: keep the model frame (`model`) and the
#'   QR of the design (`qr`, which the influence measures, `summary()`,
#'   `vcov()` and `anova()` read; `qr = FALSE` saves its memory, and those then
#'   stop as they do for `lm(qr = FALSE)`). For the formula method, `x` and `y`
#'   are `lm()`'s too: `x = TRUE` keeps the model matrix, `y = TRUE` the
#'   response (`lr_fit(y ~ x, data, x = TRUE)` reads as in `lm()`).
#' @param subset,na.action As in [stats::lm()]: rows to use, and what to do
#'   with missing values (default `getOption("na.action")`).
#' @param progress Show a progress bar (with the loss) while fitting; by
#'   default only in interactive sessions, and only once a fit has run for
#'   `getOption("lrtiers.progress_delay", 0.5)` seconds. Esc / Ctrl-C stops a
#'   fit cleanly (with any progress bar) with an error of class
#'   `lrtiers_interrupted`; the session stays usable.
#' @param chunk_rows For data given as a file path: rows read at a time
#'   (default 65536); it sets memory use and I/O, never the values.
#' @param callback `NULL` or a function `function(epoch, loss)` called after
#'   every epoch; returning `FALSE` stops the fit (`stop_reason` "callback").
#'   The other stops without the least-squares answer: `tol` with
#'   `n_iter_no_change` ("tol"), `grad_tol` ("grad_tol") and `early_stopping`
#'   ("early_stopping"; the epoch put back is `best_epoch`).
#'
#' @return An object of class `lr_fit`: a list of plain R data (no Python
#'   objects), safe to [saveRDS()]. Components include `coefficients` (a named
#'   vector, or a matrix with one column per output), `fitted.values`,
#'   `residuals`, `history` (a data frame: epoch, loss, grad_norm and
#'   val_loss, one row per epoch), `settings` (every setting used, the seed
#'   resolved), `optimum` (the closed-form least-squares answer), `loss`,
#'   `converged`, `stop_reason`, `best_epoch` (`NA` unless `early_stopping`
#'   put an epoch back), `call`, `terms` and `core` (the core's fit record, see
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
#' # several outputs, mini-batches as in the rTorch tutorial: lm()'s answer too
#' # (each batch's gradient corrected with an anchor, SVRG)
#' crops <- lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity,
#'   data = crop_yields, tier = "dataloader", batch_size = 5, seed = 0
#' )
#' coef(crops)
#'
#' # data larger than memory: the core streams a file (here a small CSV)
#' path <- tempfile(fileext = ".csv")
#' write.csv(mtcars, path, row.names = FALSE)
#' streamed <- lr_fit(mpg ~ wt + hp, data = path, seed = 1)
#' streamed
#' predict(streamed, newdata = data.frame(wt = 3, hp = 120))
lr_fit <- function(x, ...) {
  # lm()'s `x = TRUE` (keep the model matrix) binds to this generic's `x`: dispatch on
  # the formula then, as lm(formula, data, x = TRUE) reads
  if (!missing(x) && is.logical(x) && ...length()) {
    names <- ...names() %||% rep("", ...length())
    at <- match("formula", names, nomatch = match("", names)) # named, else the first unnamed
    formula <- if (!is.na(at)) ...elt(at) # only that argument is evaluated
    if (inherits(formula, "formula")) UseMethod("lr_fit", formula)
  }
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
                           contrasts = NULL, x = FALSE, y = FALSE, model = TRUE, qr = TRUE,
                           progress = interactive(), callback = NULL, chunk_rows = NULL) {
  call <- match.call()
  call[[1L]] <- as.name("lr_fit")
  user_call <- fit_call(sys.call())
  env <- parent.frame()
  check_dots_empty(...names(), ...length(), known_args(), user_call)
  settings <- collect_settings(environment(), user_call)
  check_flag(progress, "progress", user_call)

  for (arg in c("x", "y", "model", "qr")) check_flag(get(arg), arg, user_call)
  if (missing(data)) data <- NULL # as lm(): the variables come from the formula's environment
  if (is.character(data)) { # a file path: the core streams the rows (R/streamed.R)
    for (arg in c("weights", "offset", "subset", "na.action")) {
      if (!eval(call("missing", as.name(arg)))) refuse_file_argument(arg, user_call)
    }
    kept <- c(contrasts = !is.null(contrasts), x = x, y = y, model = !model, qr = !qr)
    if (any(kept)) {
      abort(sprintf(
        "with data given as a file path, `%s` cannot be used: the core reads the rows, and a streamed fit keeps no model frame, matrix or QR of them.",
        names(kept)[kept][[1L]]), user_call, class = "lrtiers_argument_error")
    }
    return(file_fit(formula, data, settings,
      intercept = if (missing(intercept)) NULL else check_flag(intercept, "intercept", user_call),
      chunk_rows = chunk_rows, progress = progress, callback = callback, call = call,
      user_call = user_call, env = env
    ))
  }
  if (!is.null(chunk_rows)) {
    abort("`chunk_rows` is for data given as a file path (rows read at a time); `data` is in memory.",
      user_call, class = "lrtiers_argument_error")
  }
  mold <- mold_formula(
    formula, data, call, env,
    intercept = if (missing(intercept)) NULL else check_flag(intercept, "intercept", user_call),
    user_call = user_call, contrasts = contrasts
  )
  settings$intercept <- mold$intercept
  if (!is.null(settings$validation)) {
    settings$validation <- validation_formula(settings$validation, mold, user_call)
  }
  result <- fit_weighted(mold$x, mold$y, settings, mold$feature_names, mold$target_names,
    mold$weights, mold$offset, progress, callback, user_call)
  rows <- result$rows
  fit <- new_lr_fit(
    result$core,
    fitted = result$fitted, y = subset_rows(mold$y, rows), call = call, interface = "formula",
    terms = mold$terms, xlevels = mold$xlevels, contrasts = mold$contrasts,
    model = mold$model[rows, , drop = FALSE], na.action = mold$na.action,
    weights = mold$weights[rows], offset = mold$offset[rows], rows = result$all_rows,
    offset_call = call$offset
  )
  fit <- with_lm_parts(fit, qr = qr)
  if (x) fit$x <- design_matrix(fit)
  if (!model) fit$model <- NULL
  if (y) fit$y <- stats::model.response(fit$model %||% stats::model.frame(fit), "numeric")
  if (!y) fit$y <- NULL
  fit
}

#' The core's fit on the rows of positive weight; fitted values for every row
#'
#' Rows of weight 0 take no part in lm()'s fit (lm.wfit() leaves them out) but have fitted
#' values and residuals: the core trains on the others and predicts them all.
#' @noRd
fit_weighted <- function(x, y, settings, feature_names, target_names, weights, offset,
                         progress, callback, call) {
  used <- if (is.null(weights)) NULL else weights != 0
  if (is.null(used) || all(used)) {
    return(fit_bridge(x, y, settings, feature_names, target_names, weights = weights,
      offset = offset, progress = progress, callback = callback, call = call))
  }
  y_used <- subset_rows(y, used)
  if (!is.null(offset)) y_used <- y_used - offset[used]
  result <- fit_bridge(x[used, , drop = FALSE], y_used, settings, feature_names,
    target_names, weights = weights[used], progress = progress, callback = callback,
    call = call, x_fitted = x)
  if (!is.null(offset)) result$fitted <- result$fitted + offset
  result$rows <- seq_len(NROW(y))
  result
}

#' @rdname lr_fit
#' @export
lr_fit.data.frame <- function(x, y, ..., weights = NULL, offset = NULL, qr = TRUE,
                              progress = interactive(), callback = NULL) {
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
  c(SETTING_NAMES, "weights", "offset", "subset", "na.action", "contrasts", "x", "y", "model",
    "qr", "progress", "callback", "chunk_rows")
}

#' The x/y methods share one body (their formals are the same)
#' @noRd
xy_fit <- function(env, call, user_call, dots_names, n_dots) {
  check_dots_empty(dots_names, n_dots,
    setdiff(known_args(), c("subset", "na.action", "contrasts", "x", "y", "model",
      "chunk_rows")),
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
  offset <- check_offset(get("offset", envir = env), NROW(y), user_call)
  qr <- check_flag(get("qr", envir = env), "qr", user_call)
  if (!is.null(settings$validation)) {
    settings$validation <- validation_xy(settings$validation, user_call)
  }
  target_names <- if (is.matrix(y)) colnames(y) else "y"
  result <- fit_weighted(x, y, settings, colnames(x), target_names, weights, offset,
    progress, get("callback", envir = env), user_call)
  rows <- result$rows
  fit <- new_lr_fit(result$core,
    fitted = result$fitted, y = subset_rows(y, rows), x = x[rows, , drop = FALSE], call = call,
    interface = "xy", weights = weights[rows], offset = offset[rows], rows = result$all_rows
  )
  with_lm_parts(fit, qr = qr)
}

# ------------------------------------------------------------------ molding
