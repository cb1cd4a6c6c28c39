# Seeds: same settings, same bits, in this session, in fresh R sessions, and in Python.

test_that("the same seed gives the same bits; R's RNG is neither used nor changed", {
  skip_if_no_python()
  set.seed(123)
  before <- .Random.seed
  expect_unconverged(
    a <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "dataloader", batch_size = 5, epochs = 20,
      seed = 42, standardize = TRUE)
  )
  expect_identical(.Random.seed, before)
  expect_unconverged(
    b <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "dataloader", batch_size = 5, epochs = 20,
      seed = 42, standardize = TRUE)
  )
  expect_same_bits(coef(a), coef(b))
  expect_same_bits(a$history$loss, b$history$loss)
  expect_unconverged(
    c <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "dataloader", batch_size = 5, epochs = 20,
      seed = 43, standardize = TRUE)
  )
  expect_false(identical(coef(a), coef(c)))
  # without a seed, one is drawn and recorded: re-running with it gives the same fit
  expect_unconverged(
    d <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "dataloader", batch_size = 5, epochs = 20,
      standardize = TRUE)
  )
  expect_unconverged(
    e <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "dataloader", batch_size = 5, epochs = 20,
      standardize = TRUE, seed = d$settings$seed)
  )
  expect_same_bits(coef(d), coef(e))
})

test_that("R and Python give identical results for every tier", {
  skip_if_no_python()
  x <- as.matrix(crop_yields[, c("temp", "rainfall", "humidity")])
  y <- as.matrix(crop_yields[, c("apples", "oranges")])
  np <- reticulate::import("numpy", convert = FALSE)
  for (tier in lr_tiers()) {
    batch <- if (tier == "dataloader") 5 else NULL
    expect_unconverged(
      fit <- lr_fit(x, y, tier = tier, epochs = 15, seed = 5, batch_size = batch,
        standardize = TRUE, threads = 1)
    )
    pyfit <- py_quietly(py()$lr_fit(
      np$array(unname(x), order = "C"), np$array(unname(y), order = "C"),
      tier = tier, epochs = 15L, seed = 5L, batch_size = if (!is.null(batch)) 5L,
      standardize = TRUE, threads = 1L
    ))
    expect_same_bits(t(coef(fit)[-1, ]), to_r(pyfit$weight))
    expect_same_bits(coef(fit)[1, ], to_r(pyfit$bias))
    expect_same_bits(fit$history$loss, unlist(to_r(pyfit$history)$loss))
    expect_identical(fit$verdict$digits, to_r(pyfit$verdict$digits))
  }
  # and with the defaults (orthogonal columns, stop once converged)
  for (tier in lr_tiers()) {
    expect_no_warning(fit <- lr_fit(x, y, tier = tier, seed = 5, threads = 1))
    pyfit <- py()$lr_fit(np$array(unname(x), order = "C"), np$array(unname(y), order = "C"),
      tier = tier, seed = 5L, threads = 1L)
    expect_true(fit$converged, label = tier)
    expect_identical(fit$epochs_run, to_r(pyfit$epochs_run))
    expect_same_bits(t(coef(fit)[-1, ]), to_r(pyfit$weight))
    expect_same_bits(coef(fit)[1, ], to_r(pyfit$bias))
    expect_same_bits(fit$history$loss, unlist(to_r(pyfit$history)$loss))
  }
})

test_that("two fresh R sessions give the same bits as this one", {
  skip_if_no_python()
  code <- c(
    "library(lrtiers)",
    "fit <- withCallingHandlers(",
    "  lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,",
    "    tier = 'dataloader', batch_size = 5, epochs = 30, seed = 9, standardize = TRUE),",
    "  lrtiers_convergence_warning = function(w) invokeRestart('muffleWarning'))",
    "cat(sprintf('%a', c(coef(fit), fit$history$loss)), sep = '\\n')"
  )
  one <- run_rscript(code)
  two <- run_rscript(code)
  expect_equal(one$status, 0L, info = paste(one$output, collapse = "\n"))
  expect_identical(one$output, two$output)
  expect_unconverged(
    fit <- lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
      tier = "dataloader", batch_size = 5, epochs = 30, seed = 9, standardize = TRUE)
  )
  expect_identical(one$output, sprintf("%a", c(coef(fit), fit$history$loss)))
})

test_that("saveRDS() / readRDS() in a fresh R session: predict() still works", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ factor(cyl) + wt, data = mtcars, tier = "module", seed = 2,
    standardize = TRUE)
  expect_true(fit$converged)
  # plain R data only: no Python object anywhere inside
  is_python <- function(x) {
    if (inherits(x, "python.builtin.object") || typeof(x) == "externalptr") return(TRUE)
    if (is.list(x)) return(any(vapply(x, is_python, logical(1))))
    FALSE
  }
  expect_false(is_python(unclass(fit)))
  path <- tempfile(fileext = ".rds")
  saveRDS(fit, path)
  new <- data.frame(cyl = c(4, 6, 8), wt = c(2, 3, 4))
  res <- run_rscript(c(
    "library(lrtiers)",
    sprintf("fit <- readRDS('%s')", path),
    "new <- data.frame(cyl = c(4, 6, 8), wt = c(2, 3, 4))",
    "cat(sprintf('%a', predict(fit, newdata = new)), sep = '\\n')",
    "invisible(summary(fit)); invisible(tidy(fit)); cat('methods ok\\n')",
    "cat('converged:', fit$converged, '\\n')"
  ))
  expect_equal(res$status, 0L, info = paste(res$output, collapse = "\n"))
  expect_identical(res$output[1:3], sprintf("%a", predict(fit, newdata = new)))
  expect_true("methods ok" %in% res$output)
  expect_true("converged: TRUE " %in% res$output)
  expect_false(any(grepl("Warning", res$output)), info = paste(res$output, collapse = "\n"))
})

test_that("R equals a separate Python process bit for bit (torch keeps its own BLAS)", {
  skip_if_no_python()
  set.seed(7)
  n <- 200
  x <- matrix(rnorm(n * 20), n)
  y <- cbind(x %*% rnorm(20) + rnorm(n), x %*% rnorm(20) + rnorm(n))
  dir <- tempfile("parity")
  dir.create(dir)
  writeBin(as.vector(x), file.path(dir, "x.bin"), endian = "little")
  writeBin(as.vector(y), file.path(dir, "y.bin"), endian = "little")
  cases <- list(
    list(tier = "numpy", batch_size = NULL), list(tier = "module", batch_size = NULL),
    list(tier = "dataloader", batch_size = 16), list(tier = "autograd", batch_size = 32)
  )
  # each with the defaults (orthogonal columns: the QR of X goes through BLAS too) and
  # with the tutorial's settings (5 full epochs on the raw columns)
  cases <- c(
    lapply(cases, function(c) c(c, tutorial = FALSE)),
    lapply(cases, function(c) c(c, tutorial = TRUE))
  )
  script <- file.path(dir, "fit.py")
  writeLines(c(
    "import json, sys, numpy as np, lrtiers",
    "d = sys.argv[1]",
    sprintf("x = np.fromfile(d + '/x.bin', '<f8').reshape(%d, %d, order='F')", n, 20),
    sprintf("y = np.fromfile(d + '/y.bin', '<f8').reshape(%d, 2, order='F')", n),
    "out = []",
    "import warnings; warnings.simplefilter('ignore')",
    "for tier, batch, tutorial in json.loads(sys.argv[2]):",
    "    extra = lrtiers.TUTORIAL_SETTINGS if tutorial else {}",
    "    f = lrtiers.lr_fit(x, y, tier=tier, batch_size=batch, epochs=5, seed=3, threads=1,",
    "                       **extra)",
    "    out.append([float(v).hex() for v in [*f.weight.ravel(), *f.bias,",
    "                *f.history['loss'], *f.history['grad_norm']]])",
    "print(json.dumps(out))"
  ), script)
  spec <- jsonlite::toJSON(lapply(cases, function(c) list(c$tier, c$batch_size, c$tutorial)),
    auto_unbox = TRUE, null = "null")
  python <- reticulate::py_config()$python
  core_dir <- dirname(lr_doctor()$core_path)
  out <- system2(python, c(shQuote(script), shQuote(dir), shQuote(spec)), stdout = TRUE,
    env = sprintf("PYTHONPATH=%s", shQuote(core_dir)))
  from_python <- jsonlite::parse_json(out[length(out)], simplifyVector = FALSE)
  expect_length(from_python, length(cases))
  for (i in seq_along(cases)) {
    args <- list(x, y, tier = cases[[i]]$tier, batch_size = cases[[i]]$batch_size,
      epochs = 5, seed = 3, threads = 1)
    if (cases[[i]]$tutorial) args <- c(args, lr_tutorial_settings())
    # mini-batches, and the tutorial's 5 epochs, do not converge: their warning is muffled
    fit <- withCallingHandlers(do.call(lr_fit, args),
      lrtiers_convergence_warning = function(w) invokeRestart("muffleWarning"))
    if (cases[[i]]$tutorial) expect_identical(fit$epochs_run, 5L)
    mine <- c(as.vector(coef(fit)[-1, ]), coef(fit)[1, ], fit$history$loss,
      fit$history$grad_norm)
    theirs <- as.numeric(unlist(from_python[[i]])) # C99 hex floats: exact
    expect_same_bits(mine, theirs)
  }
})

test_that("torch used from R after lr_core() keeps its own BLAS; no import hook is left", {
  skip_if_no_python()
  fit_code <- c(
    "set.seed(11); x <- matrix(rnorm(20000 * 20), ncol = 20)",
    "y <- drop(x %*% rnorm(20)) + rnorm(20000)",
    "fit <- lr_fit(x, y, tier = 'module', epochs = 2, seed = 1, threads = 1)",
    "cat('coef:', sprintf('%a', coef(fit)), '\\n')"
  )
  after <- run_rscript(c(
    "library(lrtiers)",
    "invisible(lr_core())  # lrtiers imports torch, with RTLD_DEEPBIND",
    "torch <- reticulate::import('torch')  # rTorch style, before any fit",
    "sys <- reticulate::import('sys', convert = FALSE)",
    "hooks <- vapply(reticulate::iterate(sys$meta_path, simplify = FALSE), reticulate::py_str, '')",
    "cat('hooks:', paste(hooks, collapse = ' '), '\\n')",
    "cat('dlopen flags:', reticulate::py_to_r(sys$getdlopenflags()), '\\n')",
    fit_code,
    "cat('shielded:', lr_doctor()$torch_shielded, '\\n')"
  ))
  out <- paste(after$output, collapse = "\n")
  expect_equal(after$status, 0L, info = out)
  expect_match(out, "shielded: TRUE")
  expect_false(grepl("Warning", out), info = out)
  # the flag was for that one import: no finder of lrtiers', and the default flags back
  expect_false(grepl("TorchShield|lrtiers_torch_shield", out), info = out)
  expect_match(out, sprintf("dlopen flags: %d", reticulate::import("sys")$getdlopenflags()))
  set.seed(11)
  x <- matrix(rnorm(20000 * 20), ncol = 20)
  y <- drop(x %*% rnorm(20)) + rnorm(20000)
  expect_no_warning(here <- lr_fit(x, y, tier = "module", epochs = 2, seed = 1, threads = 1))
  expect_match(out, paste("coef:", paste(sprintf("%a", coef(here)), collapse = " ")),
    fixed = TRUE
  )
})

test_that("torch imported before library(lrtiers) makes the first fit warn, once", {
  skip_if_no_python()
  res <- run_rscript(c(
    "torch <- reticulate::import('torch')",
    "library(lrtiers)",
    "fit_once <- function() withCallingHandlers(",
    "  lr_fit(mpg ~ wt, data = mtcars, epochs = 2, seed = 1),",
    "  lrtiers_blas_warning = function(w) {",
    "    cat('warned:', conditionMessage(w), '\\n'); invokeRestart('muffleWarning')",
    "  })",
    "invisible(fit_once()); invisible(fit_once())",
    "cat('shielded:', lr_doctor()$torch_shielded, '\\n')"
  ), env = sprintf("RETICULATE_PYTHON=%s", reticulate::py_config()$python))
  out <- paste(res$output, collapse = "\n")
  expect_equal(res$status, 0L, info = out)
  expect_equal(sum(grepl("^warned:", res$output)), 1L, info = out)
  expect_match(out, "call lrtiers::lr_core() (or fit) before", fixed = TRUE)
  expect_match(out, "shielded: FALSE")
})
