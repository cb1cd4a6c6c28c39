# The core's settings: names and defaults are read from Python, never retyped.

#' lr_fit()'s settings, in the core's order (what lrtiers.defaults() lists).
#' The R formals repeat these names for the help page and completion; a test
#' checks them against lr_defaults() so that the two cannot drift.
#' @noRd
SETTING_NAMES <- c(
  "tier", "epochs", "lr", "batch_size", "shuffle", "seed", "intercept", "init",
  "dtype", "device", "standardize", "validation", "tol", "threads"
)

#' Tier names and lr_fit() defaults, as the Python core defines them
#'
#' The one source of truth for the tier names and the defaults of [lr_fit()]
#' is the Python core (`lrtiers.defaults()`); these functions read it. The
#' defaults shown in [lr_fit()]'s usage are the same values (a test keeps them
#' equal), and settings you do not supply are not sent to Python, so the core
#' applies its own defaults.
#'
#' @return `lr_defaults()`: a list with `tiers` (character), `tier_descriptions`
#'   (a named list, one line per tier) and `defaults` (a named list of lr_fit()
#'   settings, `NULL` for Python's `None`). `lr_tiers()`: the tier names, in the
#'   order the tutorials build them up.
#' @export
#' @examplesIf lrtiers:::python_ready()
#' lr_tiers()
#' str(lr_defaults()$defaults)
lr_defaults <- function() {
  if (is.null(.state$defaults)) {
    .state$defaults <- jsonlite::parse_json(
      py_json(core()$defaults()),
      simplifyVector = FALSE
    )
    .state$defaults$tiers <- unlist(.state$defaults$tiers)
  }
  .state$defaults
}

#' @rdname lr_defaults
#' @export
lr_tiers <- function() lr_defaults()$tiers

#' A Python object as JSON text (floats as Python's repr: they keep their bits)
#' @noRd
py_json <- function(object) {
  json <- reticulate::import("json", convert = FALSE)
  reticulate::py_to_r(json$dumps(object, allow_nan = FALSE))
}

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
  switch(name,
    tier = ,
    dtype = ,
    device = check_string(value, name, call),
    epochs = check_whole(value, name, call, null_ok = FALSE),
    batch_size = ,
    seed = ,
    threads = check_whole(value, name, call),
    shuffle = ,
    intercept = ,
    standardize = check_flag(value, name, call),
    tol = check_number(value, name, call),
    lr = if (is.character(value)) check_string(value, name, call) else
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
