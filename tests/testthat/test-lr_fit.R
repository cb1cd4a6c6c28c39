# lr_fit(): interfaces, settings conversion, strict arguments, bad inputs.

test_that("the formula and x/y interfaces give the same fit, bit for bit", {
  skip_if_no_python()
  # standardize = TRUE (precondition = "scale") takes some 80 epochs to converge: a long
  # history to compare bit for bit
  f1 <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", seed = 1, standardize = TRUE)
  f2 <- lr_fit(mtcars[, c("wt", "hp")], mtcars$mpg, tier = "numpy", seed = 1,
    standardize = TRUE)
  f3 <- lr_fit(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, tier = "numpy", seed = 1,
    standardize = TRUE)
  expect_s3_class(f1, "lr_fit")
  expect_true(f1$converged)
  expect_gt(f1$epochs_run, 10L)
  expect_identical(f2$epochs_run, f1$epochs_run)
  expect_named(coef(f1), c("(Intercept)", "wt", "hp"))
  expect_same_bits(coef(f1), coef(f2))
  expect_same_bits(coef(f1), coef(f3))
  expect_same_bits(f1$history$loss, f2$history$loss)
  expect_equal(f1$feature_names, c("wt", "hp"))
  expect_equal(f1$target_names, "mpg")
  expect_equal(f2$target_names, "y")
  expect_identical(f1$call[[1]], as.name("lr_fit"))
})

test_that("R numbers need no L and arrive as Python expects", {
  skip_if_no_python()
  expect_unconverged(
    fit <- lr_fit(mpg ~ wt, data = mtcars, tier = "dataloader", epochs = 3, batch_size = 5,
      seed = 1, threads = 1, lr = 0.01, standardize = TRUE)
  )
  expect_identical(fit$settings$epochs, 3L)
  expect_identical(fit$settings$batch_size, 5L)
  expect_identical(fit$settings$seed, 1L)
  expect_identical(fit$settings$threads, 1L)
  expect_identical(fit$epochs_run, 3L)
  # seeds up to 2^32 - 1 do not fit an R integer: sent as whole doubles
  big <- lr_fit(mpg ~ wt, data = mtcars, epochs = 1, seed = 2^32 - 1, tier = "numpy")
  expect_equal(big$settings$seed, 2^32 - 1)
  expect_error(lr_fit(mpg ~ wt, data = mtcars, seed = 2^32), "below 2\\^32",
    class = "lrtiers_value_error")
  # integer data are sent as doubles
  xi <- matrix(as.integer(c(1, 2, 3, 4, 5, 7, 1, 9, 2, 4)), 5)
  fi <- lr_fit(xi, c(1L, 3L, 2L, 5L, 4L), tier = "numpy", epochs = 5, seed = 1)
  fd <- lr_fit(xi + 0, c(1, 3, 2, 5, 4), tier = "numpy", epochs = 5, seed = 1)
  expect_same_bits(coef(fi), coef(fd))
})

test_that("settings not given are the core's defaults; given ones are recorded", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt, data = mtcars, tier = "numpy", epochs = 2)
  defaults <- lr_defaults()$defaults
  not_given <- setdiff(lrtiers:::SETTING_NAMES, c("tier", "epochs", "seed", "threads"))
  expect_true(all(c("optimizer", "momentum", "schedule", "precondition", "stop_when_converged",
    "alias_tol") %in% not_given))
  for (name in not_given) {
    expect_identical(fit$settings[[name]], defaults[[name]], label = name)
  }
  expect_true(is.numeric(fit$settings$seed)) # resolved from None
  expect_true(fit$settings$threads >= 1)
})

test_that("multi-output fits: cbind() formula and matrix y", {
  skip_if_no_python()
  fit <- lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
    tier = "numpy", seed = 0)
  expect_true(fit$multi)
  expect_true(fit$converged)
  expect_equal(dim(coef(fit)), c(4L, 2L))
  expect_equal(dimnames(coef(fit)),
    list(c("(Intercept)", "temp", "rainfall", "humidity"), c("apples", "oranges")))
  expect_lm_digits(fit, lm(cbind(apples, oranges) ~ temp + rainfall + humidity,
    data = crop_yields))
  y <- as.matrix(crop_yields[, c("apples", "oranges")])
  fit2 <- lr_fit(crop_yields[, 1:3], y, tier = "numpy", seed = 0)
  expect_same_bits(coef(fit2), coef(fit))
  fit3 <- lr_fit(crop_yields[, 1:3], crop_yields[, 4:5], tier = "numpy", epochs = 10, seed = 0)
  expect_equal(colnames(coef(fit3)), c("apples", "oranges"))
  expect_equal(dim(fitted(fit)), c(15L, 2L))
})

test_that("factors, interactions and transformations go through model.matrix", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ factor(cyl) * wt + log(hp), data = mtcars, tier = "numpy", seed = 1)
  ref <- lm(mpg ~ factor(cyl) * wt + log(hp), data = mtcars)
  expect_named(coef(fit), names(coef(ref)))
  expect_lm_digits(fit, ref)
  iris_fit <- lr_fit(Sepal.Length ~ ., data = iris, tier = "numpy", seed = 1)
  expect_named(coef(iris_fit), names(coef(lm(Sepal.Length ~ ., data = iris))))
  expect_lm_digits(iris_fit, lm(Sepal.Length ~ ., data = iris))
  expect_equal(iris_fit$xlevels, list(Species = levels(iris$Species)))
})

test_that("the intercept follows the formula unless intercept is given", {
  skip_if_no_python()
  f0 <- lr_fit(mpg ~ wt - 1, data = mtcars, tier = "numpy", epochs = 200, seed = 1)
  expect_false(f0$settings$intercept)
  expect_named(coef(f0), "wt")
  expect_lm_digits(f0, lm(mpg ~ wt - 1, data = mtcars))
  fz <- lr_fit(mpg ~ 0 + wt, data = mtcars, tier = "numpy", epochs = 2, seed = 1)
  expect_false(fz$intercept)
  fa <- lr_fit(mpg ~ wt, data = mtcars, intercept = FALSE, tier = "numpy", epochs = 2, seed = 1)
  expect_named(coef(fa), "wt")
  # without an intercept a factor is coded with all its levels, as in lm()
  ff <- lr_fit(mpg ~ factor(cyl), data = mtcars, intercept = FALSE, tier = "numpy",
    epochs = 2, seed = 1)
  expect_named(coef(ff), names(coef(lm(mpg ~ factor(cyl) - 1, data = mtcars))))
  expect_lm_digits(ff, lm(mpg ~ factor(cyl) - 1, data = mtcars))
  expect_error(lr_fit(mpg ~ wt - 1, data = mtcars, intercept = TRUE), "conflicts",
    class = "lrtiers_value_error")
  fx <- lr_fit(mtcars[, "wt", drop = FALSE], mtcars$mpg, intercept = FALSE, tier = "numpy",
    epochs = 2, seed = 1)
  expect_named(coef(fx), "wt")
})

test_that("a numeric vector x is one feature", {
  skip_if_no_python()
  fit <- lr_fit(cars$speed, cars$dist, tier = "numpy", epochs = 2, seed = 1)
  expect_named(coef(fit), c("(Intercept)", "x"))
  expect_length(predict(fit, newdata = c(10, 20)), 2L)
})

test_that("na.action is followed and the rows dropped are reported", {
  skip_if_no_python()
  d <- mtcars
  d$wt[c(2, 5, 9)] <- NA
  fit <- lr_fit(mpg ~ wt, data = d, tier = "numpy", epochs = 5, seed = 1)
  expect_equal(fit$n_train, 29L)
  expect_length(fit$na.action, 3L)
  expect_output(print(fit), "3 observations deleted due to missingness")
  expect_output(print(suppressWarnings(summary(fit))), "3 observations deleted")
  expect_length(residuals(fit), 29L)
  fe <- lr_fit(mpg ~ wt, data = d, tier = "numpy", epochs = 5, seed = 1, na.action = na.exclude)
  expect_length(residuals(fe), 32L)
  expect_true(all(is.na(fitted(fe)[c(2, 5, 9)])))
  expect_error(lr_fit(mpg ~ wt, data = d, na.action = na.fail),
    "missing values in 3 of 32 rows \\(in wt\\)", class = "lrtiers_na_error")
  expect_error(lr_fit(as.matrix(d[, c("wt", "hp")]), d$mpg),
    "missing values \\(NA\\) in 3 of 32 rows \\(rows 2, 5, 9\\)", class = "lrtiers_na_error")
  expect_error(lr_fit(d$mpg, d$wt), "`y` has missing values", class = "lrtiers_na_error")
  # NA_integer_ is caught in R, not sent as -2147483648
  xi <- matrix(c(1:4, NA_integer_, 6:10), 5)
  expect_error(lr_fit(xi, 1:5), "missing values", class = "lrtiers_na_error")
})

test_that("subset works like lm()", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt, data = mtcars, subset = cyl == 4, tier = "numpy", seed = 1)
  expect_equal(fit$n_train, sum(mtcars$cyl == 4))
  expect_lm_digits(fit, lm(mpg ~ wt, data = mtcars, subset = cyl == 4))
})

test_that("a misspelt or unnamed argument is an error, not ignored", {
  skip_if_no_python()
  expect_error(lr_fit(mpg ~ wt, data = mtcars, penlaty = 0), "unknown argument `penlaty`",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, epoch = 10), "did you mean `epochs`",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(mtcars[, 2:3], mtcars$mpg, standardise = TRUE),
    "did you mean `standardize`", class = "lrtiers_argument_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, "module"), "unnamed argument",
    class = "lrtiers_argument_error")
  expect_error(lr_compare(mpg ~ wt, data = mtcars, penlaty = 0), "unknown argument `penlaty`",
    class = "lrtiers_argument_error")
  expect_error(predict(lr_fit(mpg ~ wt, data = mtcars, tier = "numpy", epochs = 1),
    newdata = mtcars, typo = "response"), "unused argument `typo`")
})

test_that("bad formulas and data give clear errors", {
  skip_if_no_python()
  expect_error(lr_fit(mpg ~ nonexistent, data = mtcars), "could not evaluate the formula",
    class = "lrtiers_formula_error")
  expect_error(lr_fit(~wt, data = mtcars), "two-sided formula", class = "lrtiers_formula_error")
  expect_error(lr_fit(mpg ~ 0, data = mtcars), "no predictors", class = "lrtiers_formula_error")
  # without data the variables come from the formula's environment, as lm(): not found here
  expect_error(lr_fit(mpg ~ wt), "object 'mpg' not found", class = "lrtiers_formula_error")
  expect_error(lr_fit(mpg ~ wt, data = "mtcars"), "`data` must be a data frame",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(Species ~ Sepal.Length, data = iris), "must be numeric",
    class = "lrtiers_type_error")
  bad <- data.frame(a = 1:3, b = c("x", "y", "z"), f = factor(1:3), l = c(TRUE, FALSE, TRUE))
  expect_error(lr_fit(bad, 1:3), "non-numeric: b \\(character\\), f \\(factor\\), l \\(logical\\)",
    class = "lrtiers_type_error")
  expect_error(lr_fit(matrix(c(TRUE, FALSE, TRUE, TRUE), 2), 1:2), "logical matrix",
    class = "lrtiers_type_error")
  expect_error(lr_fit(matrix(letters[1:4], 2), 1:2), "character matrix",
    class = "lrtiers_type_error")
  expect_error(lr_fit(list(1, 2), 1:2), "no method for `x` of class list",
    class = "lrtiers_argument_error")
  expect_error(lr_fit("a", 1), "no method", class = "lrtiers_argument_error")
  expect_error(lr_fit(mtcars[, 2:3], factor(mtcars$cyl)), "must be numeric",
    class = "lrtiers_type_error")
  expect_error(lr_fit(mtcars[, 2:3]), "`y` is missing", class = "lrtiers_argument_error")
  expect_error(lr_fit(mtcars[, 2:3], 1:3), "same number of rows",
    class = "lrtiers_data_error")
})

test_that("bad settings: value errors from R's checks and the core's, as R conditions", {
  skip_if_no_python()
  expect_error(lr_fit(mpg ~ wt, data = mtcars, lr = -1), "`lr` must be a number > 0",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, lr = 0), "`lr` must be a number > 0",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, lr = "fast"), "or \"auto\"; got \"fast\"",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, tier = "nope"), "`tier` must be one of",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, epochs = 1.5), "whole number",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, epochs = NA), "whole number",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, epochs = -1), "`epochs` must be >= 0",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, batch_size = 0), "`batch_size` must be >= 1",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, tier = c("numpy", "module")),
    "single string", class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, standardize = "yes"), "TRUE or FALSE",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, dtype = "float16"), "`dtype` must be one of",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, device = "tpu"), "`device` must be",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, validation = 1.5), "`validation` must be a fraction",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, validation = "x"), "validation",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, init = "random"), "`init` must be one of",
    class = "lrtiers_value_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, init = list(w = 1)), "`init` must be",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, callback = 1), "`callback` must be",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, progress = NA), "TRUE or FALSE",
    class = "lrtiers_value_error")
  err <- tryCatch(lr_fit(mpg ~ wt, data = mtcars, lr = -1), error = identity)
  expect_identical(conditionCall(err)[[1]], as.name("lr_fit"))
  expect_identical(err$python_class, "lrtiers.errors.SettingError")
  expect_identical(err$setting, "lr")
})

test_that("divergence is an R error with its details; a too-large step warns", {
  skip_if_no_python()
  expect_warning(
    err <- tryCatch(lr_fit_tutorial(mpg ~ wt + hp, data = mtcars, lr = 1, epochs = 200, seed = 1),
      error = identity),
    "above the largest stable step", class = "lrtiers_step_size_warning"
  )
  expect_s3_class(err, "lrtiers_divergence_error")
  expect_match(conditionMessage(err), "diverged")
  expect_true(is.numeric(err$epoch) && is.numeric(err$lr_max))
  expect_equal(err$tier, "module")
})

test_that("explicit init, float32 and tol are passed through", {
  skip_if_no_python()
  expect_unconverged(
    f <- lr_fit(mpg ~ wt, data = mtcars, init = list(weight = -5, bias = 37), epochs = 0,
      tier = "numpy"),
    "epochs = 0 runs no training"
  )
  expect_equal(unname(coef(f)), c(37, -5))
  expect_unconverged(
    fm <- lr_fit(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields, epochs = 0,
      init = list(weight = matrix(1:4, 2), bias = c(0, 1)), tier = "numpy")
  )
  expect_equal(unname(coef(fm)), rbind(c(0, 1), c(1, 2), c(3, 4)))
  f32 <- lr_fit(mpg ~ wt, data = mtcars, dtype = "float32", epochs = 10, seed = 1,
    standardize = TRUE)
  expect_equal(f32$settings$dtype, "float32")
  expect_true(f32$converged) # to float32's 3 digits
  expect_equal(f32$verdict$digits_required, 3L)
  # tol stops the tutorial's slow descent long before lm()'s answer: it warns, and says so
  expect_unconverged(
    ft <- lr_fit_tutorial(mpg ~ wt, data = mtcars, tol = 1e-3, epochs = 10000, seed = 1,
      tier = "numpy"),
    "tol = 0.001 stopped it"
  )
  expect_equal(ft$stop_reason, "tol")
  expect_lt(ft$epochs_run, 10000L)
  expect_equal(ft$verdict$cause, "stopped")
})

test_that("validation: a fraction, a data frame, or list(x, y)", {
  skip_if_no_python()
  f <- lr_fit(mpg ~ wt, data = mtcars, validation = 0.25, epochs = 20, seed = 1,
    stop_when_converged = FALSE, tier = "numpy")
  expect_equal(f$n_val, 8L)
  expect_true(f$converged)
  expect_equal(f$epochs_run, 20L)
  expect_length(f$history$val_loss, 20L)
  expect_named(f$history, c("epoch", "loss", "grad_norm", "val_loss"))
  # seeds at or above 2^31 (half of those seed = NULL draws) are no R integers: the split
  # of the rows still follows them
  big <- lr_fit(mpg ~ wt, data = mtcars, validation = 0.25, seed = 3e9)
  expect_identical(big$settings$seed, 3e9)
  expect_equal(big$n_val, 8L)
  expect_length(residuals(big), 24L)
  for (i in 1:3) expect_equal(lr_fit(mpg ~ wt, data = mtcars, validation = 0.25)$n_val, 8L)
  fd <- lr_fit(mpg ~ wt + factor(cyl), data = mtcars[1:20, ], validation = mtcars[21:32, ],
    epochs = 20, seed = 1, stop_when_converged = FALSE, tier = "numpy")
  expect_equal(fd$n_val, 12L)
  fx <- lr_fit(as.matrix(mtcars[1:20, c("wt", "hp")]), mtcars$mpg[1:20],
    validation = list(as.matrix(mtcars[21:32, c("wt", "hp")]), mtcars$mpg[21:32]),
    epochs = 20, seed = 1, stop_when_converged = FALSE, tier = "numpy")
  expect_equal(fx$n_val, 12L)
  expect_length(fx$history$val_loss, 20L)
})

test_that("stopping without the answer: tol with patience, grad_tol, early_stopping", {
  skip_if_no_python()
  base <- list(mpg ~ wt + hp, data = mtcars, precondition = "scale", seed = 2,
    stop_when_converged = FALSE, epochs = 300)
  fit <- function(...) {
    args <- base
    args[names(list(...))] <- list(...)
    suppressWarnings(do.call(lr_fit, args))
  }
  # early stopping: the epoch of the lowest validation loss is put back, as epochs = best
  early <- fit(early_stopping = TRUE, validation = 0.25)
  expect_equal(early$stop_reason, "early_stopping")
  best <- early$best_epoch
  expect_type(best, "integer")
  expect_equal(early$epochs_run, best + 5L) # the default n_iter_no_change, 5
  expect_equal(which.min(early$history$val_loss), best)
  again <- fit(validation = 0.25, epochs = best)
  expect_identical(coef(early), coef(again))
  expect_identical(early$loss, again$loss)
  expect_identical(deviance(early), deviance(again))
  expect_false(early$converged)
  expect_match(early$verdict$advice, sprintf("put back the parameters of epoch %d", best))
  expect_unconverged(lr_fit(mpg ~ wt + hp, data = mtcars, precondition = "scale", seed = 2,
    stop_when_converged = FALSE, early_stopping = TRUE, validation = 0.25),
    "use early_stopping = FALSE")
  # validation as a data frame
  held <- fit(data = mtcars[1:22, ], validation = mtcars[23:32, ], early_stopping = TRUE,
    n_iter_no_change = 2L)
  expect_true(held$stop_reason %in% c("early_stopping", "epochs"))
  expect_equal(which.min(held$history$val_loss), held$best_epoch)
  # the fit file keeps the epoch put back
  path <- tempfile(fileext = ".json")
  lr_save(early, path)
  expect_identical(lr_load(path)$best_epoch, best)
  # tol: patience 1 stops at the first epoch without a relative gain of tol, 5 later
  one <- fit(tol = 1e-2, n_iter_no_change = 1L)
  five <- fit(tol = 1e-2)
  expect_equal(c(one$stop_reason, five$stop_reason), c("tol", "tol"))
  expect_gt(five$epochs_run, one$epochs_run)
  expect_true(is.na(one$best_epoch))
  # the gradient's norm, relative to the starting values'
  g <- fit(grad_tol = 0.01)
  expect_equal(g$stop_reason, "grad_tol")
  expect_lt(g$epochs_run, 300L)
  expect_unconverged(lr_fit(mpg ~ wt + hp, data = mtcars, precondition = "scale", seed = 2,
    stop_when_converged = FALSE, grad_tol = 0.01), "grad_tol = 0.01 stopped it at epoch")
})

test_that("the stopping settings refuse bad values in R's spelling", {
  skip_if_no_python()
  expect_error(lr_fit(mpg ~ wt, data = mtcars, early_stopping = TRUE),
    "early_stopping = TRUE needs validation rows", class = "lrtiers_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, early_stopping = NA),
    "`early_stopping` must be TRUE or FALSE", class = "lrtiers_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, n_iter_no_change = 0),
    "`n_iter_no_change` must be >= 1", class = "lrtiers_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, n_iter_no_change = 1.5),
    "`n_iter_no_change` must be a whole number", class = "lrtiers_error")
  expect_error(lr_fit(mpg ~ wt, data = mtcars, grad_tol = -1),
    "`grad_tol` must be >= 0 or NULL", class = "lrtiers_error")
})

test_that("callback: called every epoch, FALSE stops, errors are reported", {
  skip_if_no_python()
  seen <- integer()
  f <- lr_fit(mpg ~ wt, data = mtcars, epochs = 7, tier = "numpy", seed = 1,
    stop_when_converged = FALSE, callback = function(epoch, loss) {
      seen <<- c(seen, epoch)
      TRUE
    })
  expect_equal(seen, 1:7)
  expect_unconverged(
    fs <- lr_fit(mpg ~ wt, data = mtcars, epochs = 100, tier = "numpy", batch_size = 8,
      seed = 1, callback = function(epoch, loss) epoch < 4),
    "your callback stopped it at epoch 4"
  )
  expect_equal(fs$stop_reason, "callback")
  expect_equal(fs$epochs_run, 4L)
  # the tutorial's settings: the defaults would converge (and stop) before epoch 5. The
  # core's "not converged" warning about the abandoned fit is muffled here (reported: it
  # precedes the error, and names epoch 6)
  expect_error(
    withCallingHandlers(
      lr_fit_tutorial(mpg ~ wt, data = mtcars, epochs = 30, seed = 1,
        callback = function(epoch, loss) if (epoch == 5) stop("boom") else TRUE),
      lrtiers_convergence_warning = function(w) invokeRestart("muffleWarning")
    ),
    "`callback` failed at epoch 5; the fit was stopped:\nboom",
    class = "lrtiers_callback_error"
  )
})

test_that("an interrupt stops the fit cleanly and the session stays usable", {
  skip_if_no_python()
  skip_if_not_installed("rlang")
  err <- tryCatch(
    lr_fit_tutorial(mpg ~ wt, data = mtcars, epochs = 1000, seed = 1, tier = "module",
      callback = function(epoch, loss) if (epoch == 5) rlang::interrupt() else TRUE),
    error = identity
  )
  expect_s3_class(err, "lrtiers_interrupted")
  expect_match(conditionMessage(err), "interrupted")
  expect_match(conditionMessage(err), "epoch 5 of 1000")
  after <- lr_fit(mpg ~ wt, data = mtcars, epochs = 3, seed = 1, tier = "module",
    stop_when_converged = FALSE)
  expect_equal(after$epochs_run, 3L)
  expect_true(after$converged)
})

test_that("the progress bar shows on request and is off when not interactive", {
  skip_if_no_python()
  expect_false(formals(lrtiers:::lr_fit.formula)$progress |> eval())
  old <- options(lrtiers.progress_delay = 0)
  on.exit(options(old))
  out <- capture.output(
    fit <- lr_fit(mpg ~ wt, data = mtcars, epochs = 200, tier = "numpy", seed = 1,
      standardize = TRUE, stop_when_converged = FALSE, progress = TRUE),
    type = "message"
  )
  expect_true(any(grepl("epoch 200/200", out)))
  expect_true(any(grepl("100%", out)))
  quiet <- capture.output(
    fit <- lr_fit(mpg ~ wt, data = mtcars, epochs = 20, tier = "numpy", seed = 1),
    type = "message"
  )
  expect_length(quiet, 0L)
})
