# Esc / Ctrl-C during the first fit of a session (Python start-up, the torch import,
# training) leaves R usable: a later fit works and R quits with status 0.

test_that("an interrupt at any moment of the first fit leaves the session usable", {
  skip_if_no_python()
  skip_on_os("windows")
  skip_if_not_installed("processx")
  script <- withr::local_tempfile(fileext = ".R")
  writeLines(c(
    "marker <- commandArgs(TRUE)[[1]]",
    "result <- commandArgs(TRUE)[[2]]",
    "library(lrtiers)",
    "file.create(marker)",
    "first <- tryCatch(",
    "  lr_fit(mpg ~ wt + hp, data = mtcars, precondition = 'none', lr = 1e-6,",
    "    epochs = 300000, stop_when_converged = FALSE, seed = 1),",
    "  interrupt = function(e) 'interrupt',",
    "  lrtiers_interrupted = function(e) 'lrtiers_interrupted',",
    "  error = function(e) paste('error:', conditionMessage(e)),",
    "  warning = function(w) 'fit')",
    "writeLines(if (is.character(first)) first else 'fit', result)",
    "second <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)",
    "write(sprintf('%.17g', coef(second)), result, append = TRUE)",
    "quit(status = 0)"
  ), script)
  want <- coef(lm(mpg ~ wt + hp, data = mtcars))
  libs <- paste(.libPaths(), collapse = .Platform$path.sep)
  # after entering lr_fit(): in Python's start-up, in the torch import, in training
  for (delay in c(0.05, 0.8, 2, 5)) {
    marker <- tempfile()
    result <- tempfile()
    child <- processx::process$new(
      file.path(R.home("bin"), "Rscript"), c(script, marker, result),
      stdout = "|", stderr = "2>&1", env = c("current", R_LIBS = libs)
    )
    waited <- 0
    while (!file.exists(marker) && child$is_alive() && waited < 60) {
      Sys.sleep(0.01)
      waited <- waited + 0.01
    }
    Sys.sleep(delay)
    child$interrupt()
    child$wait(120000)
    output <- child$read_all_output_lines()
    label <- sprintf("interrupted %.2f s into the first fit:\n%s", delay,
      paste(output, collapse = "\n"))
    expect_identical(child$get_exit_status(), 0L, label = label)
    lines <- if (file.exists(result)) readLines(result) else character()
    expect_length(lines, 4L)
    expect_true(isTRUE(lines[1] %in% c("interrupt", "lrtiers_interrupted", "fit")),
      label = paste(label, lines[1], sep = "\nfirst fit: "))
    expect_equal(as.numeric(lines[-1]), unname(want), tolerance = 1e-7, label = label)
    unlink(c(marker, result))
  }
})
