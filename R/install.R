# install_lrtiers(): the Python side in a virtualenv where lrtiers looks for it.

#' Install the Python side of lrtiers into a virtualenv
#'
#' Creates a Python virtualenv (by default `r-lrtiers`, in
#' [reticulate::virtualenv_root()], where this package looks for it) and
#' installs, in this order: torch on its own, at the exact version the bundled
#' core pins (any other specification makes pip download several GB of CUDA
#' packages), then NumPy, pandas and threadpoolctl as the core requires them,
#' then the Python core `lrtiers` (by default
#' the copy bundled with this R package). Like `keras3::install_keras()` and
#' `rTorch::install_pytorch()`.
#'
#' Restart R afterwards if Python was already running in this session.
#'
#' @param envname Name of (or path to) the virtualenv.
#' @param python The Python used to create the virtualenv; by default
#'   [reticulate::virtualenv_starter()] finds one (Python >= 3.10 is needed).
#' @param core Where to install the Python core from: a directory with a
#'   `pyproject.toml` (a source checkout, or the bundled copy, the default).
#' @param dry_run If `TRUE`, install nothing and return the plan.
#' @return The plan, invisibly unless `dry_run = TRUE`: a list of class
#'   `lrtiers_install_plan` with `envname`, `path`, `python`, `core` and
#'   `commands` (the shell commands, in order).
#' @export
#' @examples
#' plan <- install_lrtiers(dry_run = TRUE)
#' plan$commands
install_lrtiers <- function(envname = DEFAULT_ENVNAME, python = NULL, core = NULL,
                            dry_run = FALSE) {
  check_string(envname, "envname")
  check_flag(dry_run, "dry_run")
  # expanded here: the commands quote the path, and a quoted "~" is a folder named "~"
  path <- if (grepl("/", envname, fixed = TRUE)) {
    normalizePath(path.expand(envname), mustWork = FALSE)
  } else {
    file.path(path.expand(reticulate::virtualenv_root()), envname)
  }
  if (is.null(python)) {
    python <- tryCatch(reticulate::virtualenv_starter("3.10"), error = function(e) NULL)
    python <- python %||% unname(Sys.which("python3"))
    if (!nzchar(python)) python <- "python3"
  }
  check_string(python, "python")
  core <- core %||% bundled_core() %||% "<path to the lrtiers source checkout>"
  check_string(core, "core")
  env_python <- file.path(path, "bin", "python")
  commands <- c(
    sprintf("%s -m venv %s", shQuote(python), shQuote(path)),
    sprintf("%s -m pip install --upgrade pip", shQuote(env_python)),
    sprintf("%s -m pip install %s", shQuote(env_python), core_requirements()$torch),
    sprintf(
      "%s -m pip install %s", shQuote(env_python),
      paste(shQuote(core_requirements()$others), collapse = " ")
    ),
    sprintf("%s -m pip install --no-deps %s", shQuote(env_python), shQuote(core))
  )
  plan <- structure(
    list(
      envname = envname, path = path, python = python, core = core,
      commands = commands, dry_run = dry_run
    ),
    class = "lrtiers_install_plan"
  )
  if (dry_run) {
    return(plan)
  }
  if (!file.exists(file.path(core, "pyproject.toml"))) {
    stop(lrtiers_condition(
      c(
        sprintf("core = %s has no pyproject.toml: it is not an installable Python project.", core),
        "Pass core = the path to an lrtiers source checkout (the folder with pyproject.toml),",
        "or install the R package from a tarball built by tools/check_r.sh (it bundles the core)."
      ),
      class = "lrtiers_error"
    ))
  }
  for (command in commands) {
    message("+ ", command)
    status <- system(command)
    if (!identical(status, 0L)) {
      stop(lrtiers_condition(
        sprintf("install_lrtiers(): `%s` failed with status %s.", command, status),
        class = "lrtiers_error"
      ))
    }
  }
  message(
    "lrtiers: Python set up in ", path, ". ",
    if (reticulate::py_available(initialize = FALSE)) {
      "Restart R to use it (Python is already running in this session)."
    } else {
      "lrtiers will use it in new sessions unless LRTIERS_PYTHON or RETICULATE_PYTHON is set."
    }
  )
  invisible(plan)
}

#' @export
print.lrtiers_install_plan <- function(x, ...) {
  cat(if (isTRUE(x$dry_run)) "lrtiers install plan (dry run)\n" else "lrtiers install plan\n")
  cat("  virtualenv:", x$path, "\n")
  cat("  commands:\n")
  cat(paste0("    ", x$commands, "\n"), sep = "")
  invisible(x)
}

# -------------------------------------------------------------- lr_doctor()
