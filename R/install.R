# install_lrtiers(): a lasting virtualenv with the core's requirements, for those who want
# one rather than reticulate's cached environment (which needs nothing installed).

#' Install the Python side of lrtiers into a virtualenv
#'
#' Not needed: with no Python configured, reticulate provides one with lrtiers' requirements
#' the first time it is used (see [lr_doctor()]). This makes a lasting virtualenv instead
#' (by default `r-lrtiers`, where lrtiers looks for one), with the same requirements
#' ([reticulate::virtualenv_create()]); torch comes from PyTorch's CPU wheel index on Linux
#' without an NVIDIA driver. Restart R afterwards if Python was already running.
#'
#' @param envname Name of (or path to) the virtualenv.
#' @param python The Python to create it from (`NULL`: one reticulate finds, >= 3.10).
#' @param dry_run If `TRUE`, install nothing and return the plan.
#' @return The plan, invisibly unless `dry_run = TRUE`: a list of class
#'   `lrtiers_install_plan` with `envname`, `python`, `packages` (as pip takes them) and
#'   `index` (an extra index for torch, or `NULL`).
#' @export
#' @examples
#' install_lrtiers(dry_run = TRUE)
install_lrtiers <- function(envname = "r-lrtiers", python = NULL, dry_run = FALSE) {
  check_string(envname, "envname")
  check_flag(dry_run, "dry_run")
  if (!is.null(python)) check_string(python, "python")
  plan <- structure(
    list(envname = envname, python = python, packages = python_requirements(),
      index = torch_cpu_index(), dry_run = dry_run),
    class = "lrtiers_install_plan"
  )
  if (dry_run) {
    return(plan)
  }
  reticulate::virtualenv_create(envname, python = python, version = if (is.null(python)) ">=3.10",
    packages = NULL)
  reticulate::py_install(plan$packages, envname = envname,
    pip_options = if (!is.null(plan$index)) c("--extra-index-url", plan$index))
  invisible(plan)
}

#' @export
print.lrtiers_install_plan <- function(x, ...) {
  cat(if (isTRUE(x$dry_run)) "lrtiers install plan (dry run)\n" else "lrtiers install plan\n")
  cat("  virtualenv:", x$envname, "\n")
  cat("  packages:  ", paste(x$packages, collapse = ", "), "\n")
  if (!is.null(x$index)) cat("  torch from: ", x$index, "\n")
  invisible(x)
}
