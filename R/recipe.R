# lr_fit(recipe, data): the predictors and outcomes of a recipes::recipe(), molded by
# hardhat (as tidymodels' engines and brulee mold theirs); the blueprint goes with the fit,
# so that predict() forges new data exactly as the training data were baked, in this
# session and after lr_save()/lr_load() (the fit file's `extra` keeps it, serialised).
#
# The formula and x/y interfaces keep R/mold.R: hardhat's formula blueprint does not do
# what lm() does with a formula (na.action, subset, weights and offset evaluated in the
# data, the model frame and terms that drop1(), add1(), predict.lm() and the lm
# ecosystem read again), and its x/y blueprint checks less than mold.R does.

#' @rdname lr_fit
#' @export
lr_fit.recipe <- function(x, data, ..., weights = NULL, progress = interactive(),
                          callback = NULL) {
  user_call <- fit_call(sys.call())
  call <- fit_call(match.call())
  check_dots_empty(...names(), ...length(),
    setdiff(known_args(), c("subset", "na.action", "offset", "contrasts", "x", "y", "model",
      "qr", "chunk_rows")),
    user_call)
  settings <- collect_settings(environment(), user_call)
  check_flag(progress, "progress", user_call)
  if (!requireNamespace("hardhat", quietly = TRUE) || !requireNamespace("recipes", quietly = TRUE)) {
    abort("lr_fit(recipe, data) needs the hardhat and recipes packages.", user_call,
      class = "lrtiers_argument_error")
  }
  if (missing(data) || !is.data.frame(data)) {
    abort(sprintf("`data` must be the data frame to prepare the recipe on; got %s.",
      if (missing(data)) "nothing" else describe(data)), user_call,
      class = "lrtiers_argument_error")
  }
  if (!is.null(settings$validation) && !is.numeric(settings$validation)) {
    abort("`validation` must be a fraction for lr_fit(recipe, data).", user_call,
      class = "lrtiers_argument_error")
  }
  molded <- tryCatch(
    hardhat::mold(x, data, blueprint = hardhat::default_recipe_blueprint(intercept = FALSE)),
    error = function(e) {
      abort(c("could not prepare the recipe on `data`:", conditionMessage(e)), user_call,
        class = "lrtiers_formula_error")
    }
  )
  predictors <- as_feature_matrix(as.data.frame(molded$predictors), "the recipe's predictors",
    user_call)
  outcomes <- as.data.frame(molded$outcomes)
  y <- as_response(if (ncol(outcomes) == 1L) outcomes[[1L]] else outcomes,
    "the recipe's outcome", user_call)
  weights <- check_weights(weights, NROW(y), user_call)
  target_names <- if (is.matrix(y)) colnames(y) else names(outcomes)
  result <- fit_weighted(predictors, y, settings, colnames(predictors), target_names, weights,
    NULL, progress, callback, user_call)
  rows <- result$rows
  fit <- new_lr_fit(result$core,
    fitted = result$fitted, y = subset_rows(y, rows), x = predictors[rows, , drop = FALSE],
    call = call, interface = "recipe", weights = weights[rows], rows = result$all_rows,
    blueprint = molded$blueprint
  )
  with_lm_parts(fit)
}

formals(lr_fit.recipe) <- append(formals(lr_fit.recipe), setting_formals(), after = 3L)

#' New data through the fit's blueprint, as the training data went (hardhat::forge())
#' @noRd
forge_predictors <- function(object, newdata) {
  if (!requireNamespace("hardhat", quietly = TRUE)) {
    abort("predicting from a recipe fit needs the hardhat package.",
      class = "lrtiers_argument_error")
  }
  forged <- tryCatch(hardhat::forge(newdata, object$blueprint), error = function(e) {
    abort(c("could not prepare `newdata` with the fit's recipe:", conditionMessage(e)),
      class = "lrtiers_data_error")
  })
  x <- as.data.frame(forged$predictors)
  names <- names(x)
  x <- as.matrix(x)
  colnames(x) <- names
  x[, object$feature_names, drop = FALSE]
}

#' The blueprint as text for the fit file's `extra` (R's serialisation, base64) and back
#' @noRd
blueprint_text <- function(blueprint) {
  jsonlite::base64_enc(serialize(blueprint, NULL, version = 3L))
}

blueprint_from_text <- function(text) {
  unserialize(jsonlite::base64_dec(text))
}
