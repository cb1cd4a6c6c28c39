# The constructor: an lr_fit from the core's fit record (plain data) and R's extras.

#' Build an lr_fit from the core's fit record (plain data only) and R's extras
#' @noRd
new_lr_fit <- function(core, fitted = NULL, y = NULL, x = NULL, call = NULL,
                       interface = c("formula", "xy", "recipe", "file"), terms = NULL,
                       xlevels = NULL, contrasts = NULL, model = NULL, na.action = NULL,
                       weights = NULL, offset = NULL, rows = NULL, offset_call = NULL,
                       blueprint = NULL) {
  interface <- match.arg(interface)
  validate_fit_record(core)
  features <- unlist(core$feature_names)
  targets <- unlist(core$target_names)
  intercept <- isTRUE(core$settings$intercept)
  coef_names <- c(if (intercept) "(Intercept)", features)
  # y ~ 1 trains the intercept as the one column of x (mold_formula())
  intercept_column <- !intercept && identical(features, "(Intercept)") && !is.null(terms) &&
    identical(attr(terms, "intercept"), 1L)
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
    # early_stopping: the epoch whose parameters were put back (NA: none)
    best_epoch = if (is.null(core$best_epoch)) NA_integer_ else as.integer(core$best_epoch),
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
    intercept = intercept || intercept_column,
    intercept_column = if (intercept_column) TRUE,
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
    # always there, as lm()'s: with "xtx_inv" beside it, fit$x cannot partially match a
    # component that is not x
    xlevels = xlevels %||% structure(list(), names = character()),
    contrasts = contrasts,
    model = model,
    x = x,
    y = y,
    na.action = na.action,
    weights = weights,
    offset = offset,
    training_rows = rows,
    offset_call = offset_call,
    blueprint = blueprint, # lr_fit(recipe, data): hardhat's, for predict() (R/recipe.R)
    weighted = isTRUE(core$weighted),
    source = source_record(core$source),
    key = new_fit_key(),
    core = core
  )
  # no NULL components: stats' methods test for them by name (model.matrix.lm() returns
  # object$x whenever there is an "x")
  fit <- fit[!vapply(fit, is.null, logical(1))]
  structure(fit, class = "lr_fit")
}

#' The record of the file a streamed fit was trained on (NULL for in-memory data): its
#' rows are not in the fit, and the methods that need them say so (check_has_data())
#' @noRd
source_record <- function(source) {
  if (is.null(source)) {
    return(NULL)
  }
  list(path = as.character(source$path), kind = as.character(source$kind),
    n_rows = as.numeric(source$n_rows), x = as.character(unlist(source$x)),
    y = as.character(unlist(source$y)))
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

#' The fields a fit record must have, consistent with each other: a file that is not one
#' is refused here rather than give wrong coefficients later
#' @noRd
validate_fit_record <- function(core) {
  problem <- function(what) {
    abort(sprintf("not a valid lrtiers fit record: %s.", what), class = "lrtiers_io_error")
  }
  if (!identical(core$format, FIT_FORMAT)) problem("its format is not \"lrtiers-fit\"")
  needed <- c("tier", "weight", "bias", "loss", "epochs_run", "settings", "feature_names",
    "target_names", "xtx_inv", "sse", "df_residual", "n_train", "optimum")
  missing <- setdiff(needed, names(core))
  if (length(missing)) problem(paste("it lacks", paste(missing, collapse = ", ")))
  p <- length(core$feature_names)
  q <- length(core$target_names)
  intercept <- isTRUE(core$settings$intercept)
  if (length(core$weight) != q || any(lengths(core$weight) != p)) {
    problem(sprintf("weight is not %d x %d (outputs x features)", q, p))
  }
  if (length(core$bias) != q) problem(sprintf("bias does not have %d values", q))
  if (length(core$sse) != q) problem(sprintf("sse does not have %d values", q))
  k <- p + intercept
  if (length(core$xtx_inv) != k || any(lengths(core$xtx_inv) != k)) {
    problem(sprintf("xtx_inv is not %d x %d", k, k))
  }
  if (!is.null(core$aliased) && length(core$aliased) != p) {
    problem(sprintf("aliased does not have %d values", p))
  }
  invisible(core)
}
