# install_lrtiers(): the environment lands where lrtiers looks for it.

test_that("the dry run's commands name the expanded path, never a quoted '~'", {
  home <- path.expand("~")
  plan <- install_lrtiers(dry_run = TRUE, envname = "r-lrtiers", python = "/usr/bin/python3",
    core = "/src/lrtiers")
  root <- path.expand(reticulate::virtualenv_root())
  env <- file.path(root, "r-lrtiers")
  expect_identical(plan$path, env)
  expect_identical(plan$commands[[1]], sprintf("'/usr/bin/python3' -m venv '%s'", env))
  expect_identical(plan$commands[[2]],
    sprintf("'%s/bin/python' -m pip install --upgrade pip", env))
  expect_false(any(grepl("~", plan$commands, fixed = TRUE)))
  tilde <- install_lrtiers(dry_run = TRUE, envname = "~/venvs/lr", python = "/usr/bin/python3",
    core = "/src/lrtiers")
  expect_identical(tilde$path, file.path(home, "venvs", "lr"))
  expect_false(any(grepl("~", tilde$commands, fixed = TRUE)))
})

test_that("a real run creates the virtualenv where lrtiers finds it (HOME in a temp dir)", {
  skip_on_os("windows")
  home <- withr::local_tempdir()
  work <- withr::local_tempdir()
  core <- file.path(home, "core")
  dir.create(core)
  file.create(file.path(core, "pyproject.toml"))
  log <- file.path(home, "calls.log")
  # a stand-in Python: `-m venv PATH` makes PATH/bin/python (this script); other calls log
  stub <- file.path(home, "python3")
  writeLines(c(
    "#!/bin/sh",
    sprintf("echo \"$@\" >> '%s'", log),
    "if [ \"$1\" = -m ] && [ \"$2\" = venv ]; then",
    "  mkdir -p \"$3/bin\" && cp \"$0\" \"$3/bin/python\" && touch \"$3/pyvenv.cfg\"",
    "  cp \"$0\" \"$3/bin/activate\"",
    "fi"
  ), stub)
  Sys.chmod(stub, "0755")
  res <- run_rscript(c(
    "Sys.unsetenv(c('WORKON_HOME', 'LRTIERS_PYTHON', 'RETICULATE_PYTHON'))",
    sprintf("setwd('%s')", work),
    sprintf("plan <- lrtiers::install_lrtiers(python = '%s', core = '%s')", stub, core),
    "cat('PATH=', plan$path, '\\n', sep = '')",
    "cat('EXISTS=', reticulate::virtualenv_exists('r-lrtiers'), '\\n', sep = '')",
    "cat('FOUND=', lrtiers:::python_choice()$python, '\\n', sep = '')"
  ), env = sprintf("HOME=%s", home))
  expect_identical(res$status, 0L, label = paste(res$output, collapse = "\n"))
  env <- file.path(normalizePath(home), ".virtualenvs", "r-lrtiers")
  expect_true(file.exists(file.path(env, "bin", "python")))
  expect_false(dir.exists(file.path(work, "~")))
  expect_true(any(grepl("EXISTS=TRUE", res$output, fixed = TRUE)))
  expect_true(any(grepl(paste0("FOUND=", env, "/bin/python"), res$output, fixed = TRUE)))
  calls <- readLines(log)
  expect_identical(calls[[1]], paste("-m venv", env))
  expect_length(calls, 5L)
})
