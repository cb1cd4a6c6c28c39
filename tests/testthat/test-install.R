# Installed the R way: the requirements reticulate is given (py_require() in .onLoad), the
# environment it provisions for a user with no Python configured, install_lrtiers().

test_that("the requirements come from the core's requirements.txt, as >= specifications", {
  file <- withr::local_tempfile(lines = c(
    "# a comment", "torch==2.13.0", "", "numpy>=1.26  # trailing comment",
    "pandas >= 2.0", "--extra-index-url https://example.org/simple",
    "pyarrow>=14; extra == \"parquet\""
  ))
  expect_identical(lrtiers:::python_requirements(file),
    c("torch>=2.13.0", "numpy>=1.26", "pandas >= 2.0"))
  declared <- lrtiers:::python_requirements()
  expect_true(any(startsWith(declared, "torch>=")))
  expect_false(any(grepl("==", declared, fixed = TRUE)))
  # what reticulate was told when the package loaded
  expect_true(all(declared %in% reticulate::py_require()$packages))
  expect_match(lrtiers:::tested_torch(), "^[0-9]+\\.[0-9]+")
})

test_that("install_lrtiers(dry_run = TRUE) returns the plan", {
  plan <- install_lrtiers(dry_run = TRUE, envname = "r-lrtiers-test")
  expect_s3_class(plan, "lrtiers_install_plan")
  expect_identical(plan$envname, "r-lrtiers-test")
  expect_identical(plan$packages, lrtiers:::python_requirements())
  expect_output(print(plan), "dry run")
  expect_error(install_lrtiers(dry_run = "yes"), "TRUE or FALSE", class = "lrtiers_value_error")
})

test_that("PyTorch's CPU index only where no uv index is configured and there is no GPU", {
  withr::local_envvar(UV_INDEX = NA, UV_DEFAULT_INDEX = NA, UV_INDEX_URL = NA,
    UV_EXTRA_INDEX_URL = NA, UV_FIND_LINKS = NA)
  linux_cpu <- identical(Sys.info()[["sysname"]], "Linux") &&
    !file.exists("/proc/driver/nvidia/version")
  expect_identical(lrtiers:::torch_cpu_index(),
    if (linux_cpu) "https://download.pytorch.org/whl/cpu")
  withr::local_envvar(UV_INDEX = "file:///somewhere/simple")
  expect_null(lrtiers:::torch_cpu_index())
  withr::local_options(lrtiers.torch_index = "https://example.org/whl")
  expect_identical(lrtiers:::torch_cpu_index(), "https://example.org/whl")
})

#' uv for the fresh-HOME test: RETICULATE_UV, on PATH, or beside the Python of the tests
#' (make setup installs it there from requirements-dev.txt); reticulate 1.41 needs < 0.8
find_uv <- function() {
  python <- Sys.getenv("LRTIERS_PYTHON", Sys.getenv("RETICULATE_PYTHON"))
  candidates <- c(Sys.getenv("RETICULATE_UV"), Sys.which("uv"),
    if (nzchar(python)) file.path(dirname(python), "uv"))
  for (uv in candidates[nzchar(candidates) & file.exists(candidates)]) {
    version <- suppressWarnings(system2(uv, "--version", stdout = TRUE, stderr = TRUE))
    version <- numeric_version(sub("^uv ([0-9.]+).*", "\\1", version[[1]]), strict = FALSE)
    if (!is.na(version) && version >= "0.6.1" && version < "0.8") return(unname(uv))
  }
  NULL
}

#' This machine's pip settings as uv's environment variables: uv does not read pip's
#' configuration. Test-environment plumbing (a user's machine has its own settings).
pip_settings_for_uv <- function(python) {
  config <- suppressWarnings(system2(python, c("-m", "pip", "config", "list"), stdout = TRUE,
    stderr = FALSE))
  value <- function(key) {
    line <- grep(sprintf("^[^=]*\\.%s=", key), config, value = TRUE)
    if (!length(line)) return(NULL)
    trimws(gsub("'", "", sub("^[^=]*=", "", line[[length(line)]])))
  }
  c(
    UV_DEFAULT_INDEX = value("index-url"),
    UV_INDEX = value("extra-index-url"),
    UV_FIND_LINKS = value("find-links"),
    # reticulate 1.41 passes --python-preference only-managed itself, which wins; the
    # interpreter is then named as a path (below), which uv always accepts
    UV_PYTHON_PREFERENCE = "only-system"
  )
}

test_that("a fresh HOME with no Python configured: R CMD INSTALL, library(), lr_fit() = lm()", {
  skip_on_cran()
  skip_on_os(c("windows", "mac"))
  python <- Sys.getenv("LRTIERS_PYTHON", Sys.getenv("RETICULATE_PYTHON"))
  uv <- find_uv()
  if (is.null(uv) || !nzchar(python)) {
    why <- "no uv (>= 0.6.1, < 0.8) or no Python to read pip's settings from"
    if (identical(Sys.getenv("LRTIERS_TESTS_REQUIRE_PYTHON"), "1")) stop(why, ": run make setup")
    skip(why)
  }
  home <- withr::local_tempdir("home")
  work <- withr::local_tempdir("work") # no .venv here
  # the package, installed the R way into a private library: from the source tree when
  # the tests run in one, else the installed copy's library (R CMD check)
  source <- normalizePath(test_path("..", ".."), mustWork = FALSE)
  library_dir <- if (file.exists(file.path(source, "DESCRIPTION")) &&
    file.exists(file.path(source, "inst", "python", "lrtiers", "__init__.py"))) {
    lib <- withr::local_tempdir("lib")
    out <- suppressWarnings(system2(file.path(R.home("bin"), "R"),
      c("CMD", "INSTALL", "--no-test-load", "-l", shQuote(lib), shQuote(source)),
      stdout = TRUE, stderr = TRUE))
    expect_null(attr(out, "status"), label = paste(out, collapse = "\n"))
    lib
  } else {
    dirname(find.package("lrtiers"))
  }
  # The base interpreter of the tests' venv, named as a path (reticulate would otherwise
  # ask uv to download one, which this machine cannot), and torch pinned to the tested
  # release: on this machine any other torch is a CUDA build of several GB. Both are the
  # user's own py_require() calls, in the fresh HOME's .Rprofile.
  base <- system2(python, c("-c", shQuote("import sys; print(sys._base_executable)")),
    stdout = TRUE)
  writeLines(sprintf("reticulate::py_require(\"torch==%s\", python_version = \"%s\")",
    lrtiers:::tested_torch(), base), file.path(home, ".Rprofile"))
  script <- file.path(work, "fit.R")
  writeLines(c(
    "library(lrtiers)",
    "started <- Sys.time()",
    "fit <- lr_fit(mpg ~ wt, mtcars)",
    "cat('seconds:', format(as.numeric(Sys.time() - started, units = 'secs')), '\\n')",
    "cat('coef:', sprintf('%.10g', coef(fit)), '\\n')",
    "cat('python:', reticulate::py_config()$python, '\\n')",
    "cat('torch:', lr_doctor()$versions[['torch']], '\\n')",
    "cat('shielded:', lr_doctor()$torch_shielded, '\\n')"
  ), script)
  env <- c(pip_settings_for_uv(python),
    HOME = home, R_LIBS = library_dir, R_LIBS_USER = file.path(home, "R"), RETICULATE_UV = uv,
    # R CMD check points R_PROFILE_USER elsewhere: the fresh HOME's own profile, as a user's
    R_PROFILE_USER = file.path(home, ".Rprofile"),
    RETICULATE_PYTHON = NA, LRTIERS_PYTHON = NA, VIRTUAL_ENV = NA, PYTHONPATH = NA,
    RETICULATE_PYTHON_FALLBACK = NA, XDG_CACHE_HOME = NA, XDG_CONFIG_HOME = NA,
    R_USER_CACHE_DIR = NA, R_USER_CONFIG_DIR = NA, R_USER_DATA_DIR = NA)
  withr::local_dir(work)
  out <- withr::with_envvar(env, suppressWarnings(system2(
    file.path(R.home("bin"), "Rscript"), shQuote(script), stdout = TRUE, stderr = TRUE
  )))
  text <- paste(out, collapse = "\n")
  expect_null(attr(out, "status"), label = text)
  expect_match(text, sprintf("coef: %s", paste(sprintf("%.10g", coef(lm(mpg ~ wt, mtcars))),
    collapse = " ")), fixed = TRUE)
  # reticulate's cached environment in the fresh HOME, with the tested torch
  expect_match(text, sprintf("python: %s/", normalizePath(home)), fixed = TRUE)
  expect_match(text, sprintf("torch: %s", lrtiers:::tested_torch()), fixed = TRUE)
  expect_match(text, "shielded: TRUE", fixed = TRUE)
  seconds <- as.numeric(sub("^seconds: ", "", grep("^seconds:", out, value = TRUE)))
  message(sprintf("fresh HOME: the first fit (uv provisioning included) took %.1f s", seconds))
})

test_that("install_lrtiers()'s virtualenv (r-lrtiers) is the Python reticulate picks for lrtiers", {
  skip_on_os("windows")
  home <- withr::local_tempdir("home")
  envs <- withr::local_tempdir("virtualenvs")
  base <- Sys.which("python3")
  skip_if(!nzchar(base), "no python3 to make a virtualenv from")
  status <- system2(base, c("-m", "venv", "--without-pip", shQuote(file.path(envs, "r-lrtiers"))))
  skip_if(status != 0L, "cannot create a virtualenv")
  script <- withr::local_tempfile(fileext = ".R")
  writeLines("library(lrtiers); cat('python:', reticulate::py_config()$python, '\\n')", script)
  withr::local_dir(home)
  out <- withr::with_envvar(
    c(HOME = home, WORKON_HOME = envs, R_LIBS = paste(.libPaths(), collapse = ":"),
      RETICULATE_PYTHON = NA, LRTIERS_PYTHON = NA, VIRTUAL_ENV = NA, PYTHONPATH = NA),
    suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), shQuote(script),
      stdout = TRUE, stderr = TRUE))
  )
  expect_match(paste(out, collapse = "\n"),
    sprintf("python: %s", file.path(normalizePath(envs), "r-lrtiers", "bin", "python")),
    fixed = TRUE)
})
