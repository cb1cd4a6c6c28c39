# lr_doctor(): which Python, torch and core lrtiers uses, and what is missing.

#' Which Python, torch, NumPy and reticulate lrtiers uses, and what is missing
#'
#' Starts Python the way [lr_fit()] would (LRTIERS_PYTHON, then
#' RETICULATE_PYTHON, then the virtualenv made by [install_lrtiers()], then
#' reticulate's default), imports the core and reports versions. Never fails:
#' problems are listed with the command that fixes them.
#'
#' @return A list of class `lrtiers_doctor`: `python` (path), `source` (why
#'   that Python), `versions` (a named character vector: R package, core,
#'   Python, torch, NumPy, pandas, threadpoolctl, reticulate; `NA` when
#'   missing), `core_path`, `torch_shielded` (whether torch keeps its own BLAS
#'   rather than bind to R's, see Details), `missing`
#'   (what is missing) and `fix` (commands that fix it), `ok` (`TRUE` when
#'   [lr_fit()] can run).
#' @details
#' In an R process R's own BLAS is already loaded when torch arrives, and
#' torch's calls to BLAS functions would bind to it instead of the MKL torch
#' carries, changing the last bits of some results compared with Python.
#' lrtiers therefore makes torch load with `RTLD_DEEPBIND` (Linux) whenever it
#' is imported after `library(lrtiers)`, by a fit or by your own
#' `reticulate::import("torch")`. If torch was imported before lrtiers was
#' loaded, the first fit warns (class `lrtiers_blas_warning`).
#' @export
#' @examples
#' \donttest{
#' lr_doctor()
#' }
lr_doctor <- function() {
  choice <- python_choice()
  versions <- c(
    lrtiers_r = as.character(utils::packageVersion("lrtiers")),
    lrtiers_core = NA_character_,
    python = NA_character_,
    torch = NA_character_,
    numpy = NA_character_,
    pandas = NA_character_,
    threadpoolctl = NA_character_,
    reticulate = as.character(utils::packageVersion("reticulate"))
  )
  out <- list(
    python = choice$python, source = choice$source, versions = versions,
    core_path = NA_character_, torch_shielded = NA, missing = character(),
    fix = character(), problems = character(), ok = FALSE
  )
  prepared <- tryCatch(python_prepare(), error = function(e) e)
  if (reticulate::py_available(initialize = FALSE)) {
    out$python <- reticulate::py_config()$python
    sys <- reticulate::import("sys")
    out$versions[["python"]] <- strsplit(sys$version, " ", fixed = TRUE)[[1]][[1]]
    metadata <- reticulate::import("importlib.metadata")
    for (pkg in c("torch", "numpy", "pandas", "threadpoolctl")) {
      out$versions[[pkg]] <- tryCatch(metadata$version(pkg), error = function(e) NA_character_)
    }
  }
  if (utils::packageVersion("reticulate") < "1.41") {
    out$missing <- c(out$missing, "reticulate >= 1.41")
    out$fix <- c(out$fix, "build reticulate 1.41 (see ENVIRONMENT.md / make setup)")
  }
  for (pkg in c("torch", "numpy", "threadpoolctl", "pandas")) {
    if (is.na(out$versions[[pkg]])) out$missing <- c(out$missing, pkg)
  }
  if (any(c("torch", "numpy", "threadpoolctl", "pandas") %in% out$missing)) {
    out$fix <- c(
      out$fix, "lrtiers::install_lrtiers()",
      if (!is.null(out$python)) pip_commands(out$python)
    )
  }
  pinned <- core_requirements()$torch_version
  if (!is.na(out$versions[["torch"]]) && !startsWith(out$versions[["torch"]], pinned)) {
    out$problems <- c(out$problems, sprintf(
      "torch %s is not the tested %s: results may differ in the last bits",
      out$versions[["torch"]], pinned
    ))
  }
  if (inherits(prepared, "error")) {
    out$problems <- c(out$problems, conditionMessage(prepared))
  } else {
    module <- tryCatch(core(), error = function(e) e)
    if (inherits(module, "error")) {
      out$problems <- c(out$problems, conditionMessage(module))
      if (!length(out$missing)) {
        out$missing <- c(out$missing, "the Python core lrtiers")
        out$fix <- c(out$fix, core_install_command(out$python %||% "python3"))
      }
    } else {
      out$versions[["lrtiers_core"]] <-
        reticulate::py_to_r(reticulate::py_get_attr(module, "__version__"))
      out$core_path <- core_path(module)
      out$torch_shielded <- shield_torch() %in% c("shielded", "unexposed")
    }
  }
  out$ok <- !length(out$missing) && !is.na(out$versions[["lrtiers_core"]])
  structure(out, class = "lrtiers_doctor")
}

#' @export
print.lrtiers_doctor <- function(x, ...) {
  v <- function(name) if (is.na(x$versions[[name]])) "MISSING" else x$versions[[name]]
  cat("lrtiers doctor\n")
  cat(sprintf("  %-14s %s (chosen by %s)\n", "Python", x$python %||% "none", x$source))
  rows <- c(
    "R package" = v("lrtiers_r"), "Python core" = v("lrtiers_core"),
    "Python version" = v("python"), "torch" = v("torch"), "NumPy" = v("numpy"),
    "pandas" = v("pandas"), "threadpoolctl" = v("threadpoolctl"),
    "reticulate" = v("reticulate")
  )
  cat(sprintf("  %-14s %s\n", names(rows), rows), sep = "")
  if (!is.na(x$core_path)) cat(sprintf("  %-14s %s\n", "core from", x$core_path))
  if (!is.na(x$torch_shielded)) {
    cat(sprintf("  %-14s %s\n", "torch BLAS", if (x$torch_shielded) {
      "its own (loaded with RTLD_DEEPBIND, or no other BLAS in the global scope)"
    } else {
      "torch was imported before lrtiers was loaded: its BLAS calls may bind to R's BLAS"
    }))
  }
  if (length(x$missing)) cat("Missing:", paste(x$missing, collapse = ", "), "\n")
  if (length(x$problems)) cat(paste0("Problem: ", x$problems, "\n"), sep = "")
  if (length(x$fix)) cat("Fix with:\n", paste0("  ", x$fix, "\n"), sep = "")
  if (x$ok) cat("Ready: lr_fit() can run.\n")
  invisible(x)
}
