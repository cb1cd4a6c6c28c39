# The core's settings: names, defaults, kinds and help come from the core's one
# declaration (R/core-settings.R is generated from it); here R reads the rest at run time.

#' Tier names and lr_fit() defaults, as the Python core defines them
#'
#' The one source of truth for the tier names and the defaults of [lr_fit()]
#' is the Python core (`lrtiers.defaults()`); these functions read it. The
#' defaults shown in [lr_fit()]'s usage are the same values (a test keeps them
#' equal), and settings you do not supply are not sent to Python, so the core
#' applies its own defaults.
#'
#' @return `lr_defaults()`: a list with `tiers` (character), `tier_descriptions`
#'   (a named list, one line per tier), `optimizers` (for each, the tiers that
#'   have it), `preconditioners`, `schedules`, `defaults` (a named list of
#'   lr_fit() settings, `NULL` for Python's `None`), `settings` (name, default,
#'   kind and description of each) and `tutorial_settings`. `lr_tiers()`: the
#'   tier names, in the order the tutorials build them up.
#'   `lr_tutorial_settings()`: the settings that make every tier its tutorial
#'   (plain SGD at a constant step on the raw columns, exactly `epochs` epochs),
#'   a named list to add to the tutorial's own `lr`, `epochs`, `batch_size` and
#'   `seed`.
#' @export
#' @examplesIf lrtiers:::python_ready()
#' lr_tiers()
#' str(lr_defaults()$defaults)
lr_defaults <- function() {
  if (is.null(.state$defaults)) {
    .state$defaults <- core_defaults()
    .state$defaults$tiers <- unlist(.state$defaults$tiers)
  }
  .state$defaults
}

#' @rdname lr_defaults
#' @export
lr_tiers <- function() lr_defaults()$tiers

#' @rdname lr_defaults
#' @export
#' @examplesIf lrtiers:::python_ready()
#' # seed 000's rTorch loop, bit for bit
#' do.call(lr_fit, c(
#'   list(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
#'     tier = "dataloader", batch_size = 5, lr = 1e-5, epochs = 100, seed = 0),
#'   lr_tutorial_settings()
#' ))
lr_tutorial_settings <- function() lr_defaults()$tutorial_settings

#' The settings a method was called with, as the core's keyword arguments.
#'
#' Only settings the caller supplied are returned, so the core's own defaults
#' apply to the rest. Here R-specific mistakes are caught and R numbers made
#' what Python expects (100 -> int); ranges and choices are the core's to check.
#' @noRd
collect_settings <- function(env, call, names = SETTING_NAMES) {
  out <- list()
  for (name in names) {
    supplied <- eval(call("missing", as.name(name)), env)
    if (supplied) next
    value <- get(name, envir = env)
    out[name] <- list(convert_setting(name, value, call))
  }
  out
}

convert_setting <- function(name, value, call) {
  nullable <- name %in% SETTING_NULLABLE
  if (nullable && is.null(value)) {
    return(NULL)
  }
  switch(SETTING_KINDS[[name]],
    string = check_string(value, name, call),
    whole = check_whole(value, name, call, null_ok = nullable),
    flag = check_flag(value, name, call),
    number = check_number(value, name, call, null_ok = nullable),
    auto_number = if (is.character(value)) check_string(value, name, call) else
      check_number(value, name, call, null_ok = FALSE),
    init = convert_init(value, call),
    validation = value, # converted by the interface (fraction or data)
    value
  )
}

convert_init <- function(init, call) {
  if (is.character(init)) {
    return(check_string(init, "init", call))
  }
  if (!is.list(init) || is.null(init$weight)) {
    abort(
      "`init` must be \"default\", \"zeros\" or a list with `weight` (q x p) and optionally `bias` (q).",
      call,
      class = "lrtiers_argument_error"
    )
  }
  weight <- init$weight
  if (!is.matrix(weight)) weight <- matrix(weight, nrow = 1L)
  storage.mode(weight) <- "double"
  out <- list(weight = reticulate::np_array(weight, dtype = "float64", order = "C"))
  if (!is.null(init$bias)) {
    bias <- as.double(init$bias)
    out$bias <- reticulate::np_array(array(bias, dim = length(bias)), dtype = "float64")
  }
  unknown <- setdiff(names(init), c("weight", "bias"))
  if (length(unknown)) {
    abort(sprintf("`init` has unknown element(s): %s.", paste(unknown, collapse = ", ")), call,
      class = "lrtiers_argument_error"
    )
  }
  reticulate::dict(out)
}
