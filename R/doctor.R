# lr_doctor(): which Python lrtiers uses, why, and what it lacks.

#' Which Python, torch and core lrtiers uses, and what is missing
#'
#' Starts Python as [lr_fit()] would and reports what reticulate chose, the versions, the
#' state of torch's BLAS and what is missing. Never fails: problems are listed.
#'
#' Which Python: `LRTIERS_PYTHON` when set; else reticulate's choice (`RETICULATE_PYTHON`,
#' `use_python()`, an active virtualenv, a `.venv` in the working directory, the
#' `r-lrtiers` virtualenv of [install_lrtiers()]); with none of those, reticulate makes an
#' environment with lrtiers' requirements (`reticulate::py_require()`, shown by
#' `reticulate::py_require()` without arguments) the first time Python starts, with uv,
#' and keeps it cached: nothing needs installing.
#'
#' @return A list of class `lrtiers_doctor`: `python` (path), `versions` (a named
#'   character vector: R package, core, Python, torch, NumPy, pandas, threadpoolctl,
#'   reticulate; `NA` when missing), `core_path`, `torch_shielded` (whether torch keeps
#'   its own BLAS, see Details), `problems` and `ok` (`TRUE` when [lr_fit()] can run).
#' @details
#' In an R process R's own BLAS is already loaded when torch arrives, and torch's calls to
#' BLAS functions would bind to it instead of the MKL torch carries, changing the last bits
#' of some results compared with Python. lrtiers therefore imports torch itself, with
#' `RTLD_DEEPBIND` (Linux), when Python starts for it. If torch was imported before (say by
#' your own `reticulate::import("torch")`), the first fit warns (class
#' `lrtiers_blas_warning`): call [lr_core()] first.
#' @export
#' @examples
#' \donttest{
#' lr_doctor()
#' }
lr_doctor <- function() {
  versions <- c(
    lrtiers_r = as.character(utils::packageVersion("lrtiers")), lrtiers_core = NA,
    python = NA, torch = NA, numpy = NA, pandas = NA, threadpoolctl = NA,
    reticulate = as.character(utils::packageVersion("reticulate"))
  )
  out <- list(python = NA_character_, versions = versions, core_path = NA_character_,
    torch_shielded = NA, problems = character(), ok = FALSE)
  module <- tryCatch(core(), error = function(e) e)
  if (reticulate::py_available(initialize = FALSE)) {
    config <- reticulate::py_config()
    out$python <- config$python
    out$versions[["python"]] <- strsplit(reticulate::import("sys")$version, " ")[[1]][[1]]
    metadata <- reticulate::import("importlib.metadata")
    for (pkg in c("torch", "numpy", "pandas", "threadpoolctl")) {
      out$versions[[pkg]] <- tryCatch(metadata$version(pkg), error = function(e) NA_character_)
    }
  }
  if (inherits(module, "error")) {
    out$problems <- conditionMessage(module)
  } else {
    out$versions[["lrtiers_core"]] <-
      reticulate::py_to_r(reticulate::py_get_attr(module, "__version__"))
    out$core_path <- core_path(module)
    out$torch_shielded <- torch_state() %in% c("shielded", "unexposed")
    out$ok <- TRUE
  }
  torch <- out$versions[["torch"]]
  if (!is.na(torch) && !startsWith(torch, tested_torch())) {
    out$problems <- c(out$problems, sprintf(
      "torch %s is not the tested %s: results may differ in the last bits", torch,
      tested_torch()
    ))
  }
  structure(out, class = "lrtiers_doctor")
}

#' @export
print.lrtiers_doctor <- function(x, ...) {
  v <- function(name) if (is.na(x$versions[[name]])) "MISSING" else x$versions[[name]]
  cat("lrtiers doctor\n")
  rows <- c(
    "Python" = if (is.na(x$python)) "none" else x$python,
    "R package" = v("lrtiers_r"), "Python core" = v("lrtiers_core"),
    "Python version" = v("python"), "torch" = v("torch"), "NumPy" = v("numpy"),
    "pandas" = v("pandas"), "threadpoolctl" = v("threadpoolctl"),
    "reticulate" = v("reticulate"),
    "core from" = if (!is.na(x$core_path)) x$core_path,
    "torch BLAS" = if (!is.na(x$torch_shielded)) {
      if (x$torch_shielded) "its own (RTLD_DEEPBIND)" else "may bind to R's (torch was imported before lrtiers started it)"
    }
  )
  cat(sprintf("  %-14s %s\n", names(rows), rows), sep = "")
  if (length(x$problems)) cat(paste0("Problem: ", x$problems, "\n"), sep = "")
  if (x$ok) cat("Ready: lr_fit() can run.\n")
  invisible(x)
}
