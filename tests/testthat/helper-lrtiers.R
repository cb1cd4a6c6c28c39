# Helpers shared by the tests.

#' Skip when Python with torch is truly absent; never skip where
#' LRTIERS_TESTS_REQUIRE_PYTHON=1 (tools/check_r.sh, CI): fail instead.
skip_if_no_python <- function() {
  ready <- lrtiers:::python_ready()
  if (ready) {
    return(invisible(TRUE))
  }
  why <- tryCatch({
    lrtiers:::core()
    "?"
  }, error = conditionMessage)
  if (identical(Sys.getenv("LRTIERS_TESTS_REQUIRE_PYTHON"), "1")) {
    stop("Python with torch and the lrtiers core is required here but unusable:\n", why)
  }
  skip(paste("no usable Python with torch:", why))
}

#' Bitwise equality of doubles (identical() treats 0 and -0 alike, this does not)
expect_same_bits <- function(object, expected) {
  expect_identical(
    writeBin(as.double(as.vector(object)), raw()),
    writeBin(as.double(as.vector(expected)), raw())
  )
}

#' Run R code in a fresh Rscript process (the same library paths and Python);
#' returns list(status, output).
run_rscript <- function(code, env = character()) {
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script))
  writeLines(code, script)
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  out <- suppressWarnings(system2(
    file.path(R.home("bin"), "Rscript"), shQuote(script),
    stdout = TRUE, stderr = TRUE,
    env = c(sprintf("R_LIBS=%s", shQuote(libs)), env)
  ))
  list(status = attr(out, "status") %||% 0L, output = out)
}

`%||%` <- function(x, y) if (is.null(x)) y else x

py <- function() lrtiers:::core()
to_r <- function(x) reticulate::py_to_r(x)
