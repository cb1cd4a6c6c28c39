# Finding Python, the bundled core, install_lrtiers(), lr_doctor(), the core's defaults.

test_that("the formals show the core's defaults (lrtiers.defaults()), for every method", {
  skip_if_no_python()
  core_defaults <- lr_defaults()$defaults
  expect_setequal(names(core_defaults), lrtiers:::SETTING_NAMES)
  expect_identical(names(core_defaults), lrtiers:::SETTING_NAMES)
  methods <- list(
    lrtiers:::lr_fit.formula, lrtiers:::lr_fit.matrix, lrtiers:::lr_fit.data.frame,
    lrtiers:::lr_fit.numeric
  )
  for (method in methods) {
    f <- formals(method)
    expect_true(all(names(core_defaults) %in% names(f)))
    for (name in names(core_defaults)) {
      expect_equal(eval(f[[name]]), core_defaults[[name]], label = name)
    }
  }
  expect_identical(lr_tiers(), c("numpy", "autograd", "optim", "module", "dataloader"))
  expect_identical(lr_tiers(), to_r(py()$defaults())$tiers)
  expect_named(lr_defaults()$tier_descriptions, lr_tiers())
})

test_that("the generated R side of the settings matches the core's one declaration", {
  skip_if_no_python()
  settings <- lr_defaults()$settings
  names <- vapply(settings, `[[`, "", "name")
  expect_identical(names, lrtiers:::SETTING_NAMES)
  expect_identical(names, names(lr_defaults()$defaults))
  kinds <- vapply(settings, `[[`, "", "kind")
  expect_identical(unname(lrtiers:::SETTING_KINDS[names]), kinds)
  expect_identical(names(lrtiers:::SETTING_KINDS), names)
  nullable <- names[vapply(settings, function(s) is.null(s$default), logical(1))]
  expect_setequal(lrtiers:::SETTING_NULLABLE, nullable)
  result <- reticulate::import("lrtiers.result")
  expect_identical(lrtiers:::FIT_FORMAT_VERSION, as.integer(to_r(result$FORMAT_VERSION)))
  expect_identical(lrtiers:::FIT_FORMAT, to_r(result$FORMAT))
  # the new settings and their defaults: lm()'s answer
  defaults <- lr_defaults()$defaults
  expect_identical(defaults$optimizer, "sgd")
  expect_identical(defaults$precondition, "orthogonal")
  expect_identical(defaults$schedule, "auto")
  expect_identical(defaults$momentum, "auto")
  expect_identical(defaults$lr, "auto")
  expect_true(defaults$stop_when_converged)
  expect_identical(defaults$alias_tol, 1e-7)
  expect_equal(defaults$epochs, 1000)
  expect_setequal(unlist(lr_defaults()$preconditioners), c("orthogonal", "scale", "none"))
  expect_setequal(names(lr_defaults()$optimizers), c("sgd", "momentum", "nesterov", "adam", "lbfgs"))
})

test_that("lr_tutorial_settings() is exactly the five settings that make the tutorials", {
  skip_if_no_python()
  tut <- lr_tutorial_settings()
  expect_identical(names(tut), c(
    "optimizer", "precondition", "schedule", "variance_reduction", "stop_when_converged"
  ))
  expect_identical(tut, list(
    optimizer = "sgd", precondition = "none", schedule = "constant",
    variance_reduction = "none", stop_when_converged = FALSE
  ))
  expect_identical(tut, to_r(py()$TUTORIAL_SETTINGS)[names(tut)])
  expect_true(all(names(tut) %in% names(formals(lrtiers:::lr_fit.formula))))
})

test_that("every setting is documented in ?lr_fit", {
  skip_if_no_python()
  rd <- tools::Rd_db("lrtiers")[["lr_fit.Rd"]]
  expect_false(is.null(rd))
  text <- paste(as.character(rd), collapse = "")
  arguments <- Filter(function(section) identical(attr(section, "Rd_tag"), "\\arguments"), rd)
  expect_length(arguments, 1L)
  items <- Filter(function(item) identical(attr(item, "Rd_tag"), "\\item"), arguments[[1]])
  documented <- list()
  for (item in items) {
    description <- trimws(paste(unlist(item[[2]]), collapse = ""))
    for (name in trimws(strsplit(paste(unlist(item[[1]]), collapse = ""), ",")[[1]])) {
      documented[[name]] <- description
    }
  }
  for (setting in lr_defaults()$settings) {
    name <- setting$name
    expect_true(grepl(sprintf("\\item{%s}", name), text, fixed = TRUE), label = name)
    expect_true(nzchar(documented[[name]] %||% ""), label = sprintf("the description of %s", name))
  }
  # and every other argument of the methods too
  methods <- c(names(formals(lrtiers:::lr_fit.formula)), names(formals(lrtiers:::lr_fit.matrix)))
  expect_setequal(setdiff(unique(methods), names(documented)), character())
})

test_that("the core's version matches the R package's", {
  skip_if_no_python()
  expect_identical(to_r(py()$`__version__`), as.character(packageVersion("lrtiers")))
  expect_identical(lr_core(), lr_core())
})

test_that("lr_doctor() reports the Python in use and versions", {
  skip_if_no_python()
  doc <- lr_doctor()
  expect_s3_class(doc, "lrtiers_doctor")
  expect_true(doc$ok)
  expect_equal(normalizePath(doc$python), normalizePath(reticulate::py_config()$python))
  expect_equal(unname(doc$versions[["lrtiers_core"]]), as.character(packageVersion("lrtiers")))
  expect_false(is.na(doc$versions[["torch"]]))
  expect_false(is.na(doc$versions[["numpy"]]))
  expect_equal(unname(doc$versions[["reticulate"]]), as.character(packageVersion("reticulate")))
  expect_length(doc$problems, 0L)
  out <- capture.output(print(doc))
  # the versions found, not only the labels (which are always printed)
  expect_true(sprintf("  %-14s %s", "torch", doc$versions[["torch"]]) %in% out)
  expect_true(sprintf("  %-14s %s", "NumPy", doc$versions[["numpy"]]) %in% out)
  expect_false(any(grepl("MISSING", out)))
  expect_identical(utils::tail(out, 1L), "Ready: lr_fit() can run.")
})

test_that("library(lrtiers) imports nothing; LRTIERS_PYTHON picks the Python", {
  skip_if_no_python()
  python <- reticulate::py_config()$python
  res <- run_rscript(c(
    "library(lrtiers)",
    "cat('initialised after library():', reticulate::py_available(), '\\n')",
    "fit <- lr_fit(mpg ~ wt, data = mtcars, tier = 'numpy', epochs = 2, seed = 1)",
    "cat('python:', reticulate::py_config()$python, '\\n')",
    "cat('env after:', Sys.getenv('RETICULATE_PYTHON'), '\\n')"
  ), env = c(sprintf("LRTIERS_PYTHON=%s", python), "RETICULATE_PYTHON=/nonexistent/python"))
  expect_equal(res$status, 0L, info = paste(res$output, collapse = "\n"))
  expect_true(any(grepl("initialised after library(): FALSE", res$output, fixed = TRUE)))
  expect_true(any(grepl(paste("python:", python), res$output, fixed = TRUE)))
  expect_true(any(grepl("env after: /nonexistent/python", res$output, fixed = TRUE)))
})

test_that("a missing Python or torch is an R error with the command that fixes it", {
  skip_if_no_python()
  res <- run_rscript(c(
    "library(lrtiers)",
    "e <- tryCatch(lr_fit(mpg ~ wt, data = mtcars), error = identity)",
    "cat(class(e)[1], '\\n'); cat(conditionMessage(e), '\\n')"
  ), env = c("LRTIERS_PYTHON=/nonexistent/bin/python", "RETICULATE_PYTHON="))
  expect_true(any(grepl("lrtiers_python_error", res$output)), info = paste(res$output, collapse = "\n"))
  expect_true(any(grepl("LRTIERS_PYTHON is /nonexistent/bin/python, which does not exist", res$output)))
  expect_true(any(grepl("reticulate then provides one", res$output, fixed = TRUE)))
  lacks_torch <- function(python) {
    nzchar(python) && file.exists(python) && !identical(suppressWarnings(system2(python,
      c("-c", shQuote("import torch")), stdout = FALSE, stderr = FALSE)), 0L)
  }
  candidates <- c("/usr/bin/python3.11", "/usr/bin/python3", Sys.which("python3"))
  candidates <- Filter(lacks_torch, candidates)
  skip_if(!length(candidates), "no Python without torch to test with")
  system_python <- candidates[[1]]
  res <- run_rscript(c(
    "library(lrtiers)",
    "e <- tryCatch(lr_fit(mpg ~ wt, data = mtcars), error = identity)",
    "cat(class(e)[1], '\\n'); cat(conditionMessage(e), '\\n')",
    "d <- lr_doctor(); print(d); cat('ok:', d$ok, '\\n')"
  ), env = c(sprintf("LRTIERS_PYTHON=%s", system_python), "RETICULATE_PYTHON="))
  out <- paste(res$output, collapse = "\n")
  expect_match(out, "lrtiers_python_error")
  expect_match(out, "lacks torch")
  expect_match(out, lrtiers:::python_requirements()[[1]], fixed = TRUE)
  expect_match(out, "ok: FALSE")
})

test_that("a Python with torch but no lrtiers module uses the bundled core", {
  skip_if_no_python()
  bundled <- lrtiers:::bundled_core()
  skip_if(is.null(bundled), "this installation has no bundled core (not built by check_r.sh)")
  python <- reticulate::py_config()$python
  site <- dirname(dirname(to_r(reticulate::import("torch")$`__file__`)))
  # a venv whose only extra path is the main venv's site-packages, without running
  # its .pth files: torch and NumPy import, an (editable) lrtiers install does not
  venv <- file.path(tempfile("venv"))
  status <- system2(python, c("-m", "venv", "--without-pip", shQuote(venv)))
  skip_if(status != 0L, "cannot create a virtualenv")
  venv_site <- Sys.glob(file.path(venv, "lib", "python3*", "site-packages"))
  writeLines(site, file.path(venv_site, "main-venv.pth"))
  venv_python <- file.path(venv, "bin", "python")
  # (PYTHONPATH emptied: a developer's may point at a core checkout)
  probe <- suppressWarnings(system2(venv_python, c("-c", shQuote("import torch, lrtiers")),
    stdout = FALSE, stderr = FALSE, env = "PYTHONPATH="))
  skip_if(identical(probe, 0L), "lrtiers is importable without .pth files here")
  res <- run_rscript(c(
    "library(lrtiers)",
    "fit <- lr_fit(mpg ~ wt, data = mtcars, tier = 'module', epochs = 3, seed = 1)",
    "cat('core from:', lr_doctor()$core_path, '\\n')",
    "cat('loss:', sprintf('%a', fit$loss), '\\n')"
  ), env = c(sprintf("LRTIERS_PYTHON=%s", venv_python), sprintf("RETICULATE_PYTHON=%s", venv_python),
    "PYTHONPATH="))
  out <- paste(res$output, collapse = "\n")
  expect_equal(res$status, 0L, info = out)
  expect_match(out, paste("core from:", file.path(bundled, "lrtiers")), fixed = TRUE)
  here <- lr_fit(mpg ~ wt, data = mtcars, tier = "module", epochs = 3, seed = 1)
  expect_match(out, paste("loss:", sprintf("%a", here$loss)), fixed = TRUE)
})
