# Runs the parity grid in R: the R half of tests/parity. Used two ways:
#  - sourced into an rpy2-embedded R (reticulate attaches to the test's own Python), and
#  - by `Rscript r_side.R DIR` in a separate process with its own Python.
# Data arrives as raw little-endian float64 (exact bits); each fit leaves as the core's
# JSON fit file written by lrtiers::lr_save(), which keeps every bit.
suppressPackageStartupMessages(library(lrtiers))

parity_read_matrix <- function(path, nrow) {
  values <- readBin(path, what = "double", n = file.size(path) / 8, endian = "little")
  matrix(values, nrow = nrow)  # column-major, as an R user's matrix is
}

parity_fit <- function(x, y, settings, out_path) {
  args <- c(list(x = x, y = y), settings)
  fit <- do.call(lrtiers::lr_fit, args)
  lrtiers::lr_save(fit, out_path)
  invisible(fit)
}

parity_run_grid <- function(dir) {
  cells <- jsonlite::fromJSON(file.path(dir, "cells.json"), simplifyVector = FALSE)
  for (i in seq_along(cells)) {
    cell <- cells[[i]]
    x <- parity_read_matrix(file.path(dir, cell$x_file), cell$n)
    y <- parity_read_matrix(file.path(dir, cell$y_file), cell$n)
    if (cell$y_vector) y <- y[, 1]
    settings <- lapply(cell$settings, function(v) if (is.null(v)) NULL else v)
    parity_fit(x, y, settings, file.path(dir, sprintf("r_%04d.json", i - 1L)))
  }
}

if (!interactive() && length(commandArgs(trailingOnly = TRUE)) == 1L &&
    identical(Sys.getenv("LRTIERS_PARITY_SOURCED"), "")) {
  parity_run_grid(commandArgs(trailingOnly = TRUE)[[1]])
}
