# Methods: print, summary, coef, vcov, confint, predict, fitted, residuals, plot, nobs.

# every default but the tier: lm()'s answer
converged_fit <- function() {
  lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", seed = 1)
}

test_that("print shows the tier, call, coefficients and loss against the optimum", {
  skip_if_no_python()
  fit <- converged_fit()
  out <- capture.output(print(fit))
  expect_match(out[1], "lrtiers fit: tier \"numpy\", optimizer \"sgd\" (lr = ", fixed = TRUE)
  expect_match(out[1], sprintf(
    "precondition \"orthogonal\", %s (stopped: converged), full batch",
    epochs_phrase(fit$epochs_run)
  ), fixed = TRUE)
  expect_true(any(grepl("lr_fit(formula = mpg ~ wt + hp", out, fixed = TRUE)))
  expect_true(any(grepl("(Intercept)", out, fixed = TRUE)))
  expect_true(any(grepl("Training loss (MSE)", out, fixed = TRUE)))
  expect_true(any(grepl("^Converged: every coefficient agrees with lm\\(\\)'s", out)))
  expect_false(any(grepl("NOT converged", out)))
  capture.output(shown <- withVisible(print(fit)))
  expect_false(shown$visible)
  expect_identical(shown$value, fit)
})

test_that("summary: OLS inference at the estimate equals lm() at convergence", {
  skip_if_no_python()
  fit <- converged_fit()
  ref <- summary(lm(mpg ~ wt + hp, data = mtcars))
  expect_no_warning(s <- summary(fit))
  expect_s3_class(s, "summary.lr_fit")
  expect_lm_digits(fit, lm(mpg ~ wt + hp, data = mtcars))
  expect_equal(unname(s$coefficients), unname(coef(ref)), tolerance = 1e-7)
  expect_equal(dimnames(s$coefficients), dimnames(coef(ref)))
  expect_equal(unname(s$sigma), ref$sigma, tolerance = 1e-8)
  expect_equal(s$r.squared, ref$r.squared, tolerance = 1e-8)
  expect_lt(s$max_coef_distance, 1e-6)
  expect_true(s$converged)
  expect_gte(s$verdict$digits, 7)
  out <- capture.output(print(s))
  expect_true(any(grepl("Std. Error", out)))
  expect_true(any(grepl("Least squares (lm()): loss", out, fixed = TRUE)))
  stopped <- sprintf("after %s (stop: converged)", epochs_phrase(fit$epochs_run))
  expect_true(any(grepl(stopped, out, fixed = TRUE)))
  expect_true(any(grepl("trained on orthonormalised columns", out, fixed = TRUE)))
  expect_true(any(grepl("^Converged", out)))
  expect_false(any(grepl("NOT least squares", out, fixed = TRUE)))
})

test_that("summary warns when the fit has not converged", {
  skip_if_no_python()
  expect_unconverged(
    fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", epochs = 5, seed = 1,
      standardize = TRUE),
    "run more epochs"
  )
  expect_false(fit$converged)
  expect_warning(s <- summary(fit), "has not converged", class = "lrtiers_not_converged_warning")
  expect_warning(summary(fit), "has not converged", class = "lrtiers_convergence_warning")
  expect_output(print(s), "NOT converged: ")
  expect_output(print(s), "OLS standard errors at the fitted estimate (NOT least squares)",
    fixed = TRUE)
  expect_gt(s$loss_gap, 0)
})

test_that("summary of a multi-output fit has one table per response", {
  skip_if_no_python()
  fit <- lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
    tier = "numpy", seed = 0)
  s <- summary(fit)
  expect_lm_digits(fit, lm(cbind(apples, oranges) ~ temp + rainfall + humidity,
    data = crop_yields))
  ref <- summary(lm(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields))
  # summary.mlm()'s shape: one summary.lm() per response, named as lm()'s
  expect_named(s, names(ref))
  expect_equal(coef(s[["Response apples"]]), coef(ref[["Response apples"]]), tolerance = 1e-6)
  expect_equal(coef(s[["Response oranges"]]), coef(ref[["Response oranges"]]), tolerance = 1e-6)
  expect_output(print(s), "Response oranges:")
  expect_output(print(s), "^lrtiers fit: ")
})

test_that("coef, vcov, confint, nobs, formula agree with lm()", {
  skip_if_no_python()
  fit <- converged_fit()
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  expect_lm_digits(fit, ref)
  expect_equal(coef(fit), coef(ref), tolerance = 1e-8)
  expect_equal(vcov(fit), vcov(ref), tolerance = 1e-7)
  expect_equal(confint(fit), confint(ref), tolerance = 1e-7)
  expect_equal(confint(fit, "wt", level = 0.9), confint(ref, "wt", level = 0.9), tolerance = 1e-7)
  expect_equal(confint(fit, 2), confint(ref, 2), tolerance = 1e-7)
  expect_equal(nobs(fit), 32L)
  expect_equal(formula(fit), mpg ~ wt + hp, ignore_attr = TRUE)
  multi <- lr_fit(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields,
    tier = "numpy", seed = 0)
  v <- vcov(multi)
  vref <- vcov(lm(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields))
  # vcov.mlm(): the covariances between outputs too, from the residuals in memory
  expect_equal(v, vref, tolerance = 1e-6)
  expect_equal(confint(multi),
    confint(lm(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields)), tolerance = 1e-6)
})

test_that("predict, fitted and residuals", {
  skip_if_no_python()
  fit <- converged_fit()
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  expect_equal(fitted(fit), fitted(ref), tolerance = 1e-8)
  expect_equal(residuals(fit), residuals(ref), tolerance = 1e-7)
  expect_identical(predict(fit), fitted(fit))
  new <- data.frame(wt = c(2.5, 3, NA), hp = c(100, 150, 120))
  p <- predict(fit, newdata = new)
  expect_equal(p[1:2], predict(ref, newdata = new)[1:2], tolerance = 1e-8)
  expect_true(is.na(p[[3]]))
  expect_named(predict(fit, newdata = mtcars[1:3, ]), rownames(mtcars)[1:3])
  expect_error(predict(fit, newdata = data.frame(wt = 1)), "model matrix",
    class = "lrtiers_data_error")
  # factor levels come from the stored xlevels
  ff <- lr_fit(mpg ~ factor(cyl) + wt, data = mtcars, tier = "numpy", seed = 1)
  rf <- lm(mpg ~ factor(cyl) + wt, data = mtcars)
  expect_lm_digits(ff, rf)
  new <- data.frame(cyl = c(8, 4), wt = c(3, 2))
  expect_equal(predict(ff, newdata = new), predict(rf, newdata = new), tolerance = 1e-6)
  expect_error(predict(ff, newdata = data.frame(cyl = 5, wt = 3)), "new level",
    class = "lrtiers_data_error")
  # x/y fits: columns matched by name, or by position
  fx <- lr_fit(mtcars[, c("wt", "hp")], mtcars$mpg, tier = "numpy", seed = 1)
  expect_equal(predict(fx, newdata = mtcars[1:3, c("hp", "wt")]),
    predict(ref, newdata = mtcars[1:3, ]), tolerance = 1e-8)
  expect_equal(unname(predict(fx, newdata = c(wt = 3, hp = 100))),
    unname(predict(ref, newdata = data.frame(wt = 3, hp = 100))), tolerance = 1e-8)
  expect_equal(unname(predict(fx, newdata = matrix(c(3, 100), 1))),
    unname(predict(ref, newdata = data.frame(wt = 3, hp = 100))), tolerance = 1e-8)
  expect_error(predict(fx, newdata = mtcars[, "wt", drop = FALSE]), "lacks column")
  expect_error(predict(fx, newdata = matrix(1:3, 1)), "2 column")
  # multi-output predictions are a matrix
  multi <- lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
    tier = "numpy", seed = 0)
  pm <- predict(multi, newdata = data.frame(temp = 75, rainfall = 63, humidity = 44))
  expect_equal(dim(pm), c(1L, 2L))
  expect_equal(colnames(pm), c("apples", "oranges"))
  mref <- lm(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields)
  expect_equal(unname(pm), unname(predict(mref,
    newdata = data.frame(temp = 75, rainfall = 63, humidity = 44))), tolerance = 1e-6)
})

test_that("predictions come from the core, bit for bit", {
  skip_if_no_python()
  fit <- lr_fit(mtcars[, c("wt", "hp")], mtcars$mpg, tier = "module", seed = 3,
    standardize = TRUE)
  x <- as.matrix(mtcars[, c("wt", "hp")])
  pyfit <- py()$lr_fit(x, mtcars$mpg, tier = "module", seed = 3L, standardize = TRUE)
  expect_true(fit$converged)
  expect_identical(fit$epochs_run, to_r(pyfit$epochs_run))
  expect_same_bits(fitted(fit), to_r(pyfit$predict(x)))
  expect_same_bits(predict(fit, newdata = x[1:5, ]), to_r(pyfit$predict(x[1:5, ])))
})

test_that("plot draws the loss curve, with validation loss when present", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt, data = mtcars, validation = 0.25, epochs = 30, seed = 1,
    standardize = TRUE, tier = "numpy")
  file <- tempfile(fileext = ".pdf")
  grDevices::pdf(file)
  expect_invisible(plot(fit))
  plot(fit, which = "loss", log = "", main = "custom title")
  plot(fit, which = 1:6)
  grDevices::dev.off()
  expect_gt(file.size(file), 1000)
  expect_unconverged(none <- lr_fit(mpg ~ wt, data = mtcars, epochs = 0, tier = "numpy", seed = 1))
  expect_error(plot(none, which = "loss"), "no epochs")
  expect_error(plot(fit, which = 7), "from 1 to 6", class = "lrtiers_value_error")
  path <- withr::local_tempfile(fileext = ".json")
  lr_save(fit, path)
  expect_error(plot(lr_load(path), which = 1), "training data", class = "lrtiers_argument_error")
})

test_that("a fit that has not converged says so in every view", {
  skip_if_no_python()
  # the tutorial's settings for 50 epochs: raw columns, far from lm()'s answer
  expect_unconverged(
    fit <- lr_fit_tutorial(mpg ~ wt + hp, data = mtcars, epochs = 50, seed = 1),
    "precondition = \"orthogonal\""
  )
  expect_false(fit$converged)
  expect_equal(fit$settings$lr, "auto")
  # the advice fits the cause (the conditioning of the raw columns), in R's conventions,
  # and does not suggest what is already set
  w <- tryCatch(lr_fit_tutorial(mpg ~ wt + hp, data = mtcars, epochs = 50, seed = 1),
    lrtiers_convergence_warning = identity)
  expect_s3_class(w, "lrtiers_python_ConvergenceWarning")
  expect_match(conditionMessage(w), "has not converged")
  expect_match(conditionMessage(w), "precondition = \"orthogonal\"", fixed = TRUE)
  expect_no_match(conditionMessage(w), "lr = \"auto\"", fixed = TRUE)
  expect_no_match(conditionMessage(w), "[a-z_]='") # not Python's precondition='...'
  expect_equal(fit$verdict$cause, "conditioning")
  expect_lt(fit$verdict$digits, 7)
  expect_identical(fit$verdict$digits_required, 7L)
  # print() and summary() show the verdict, with the advice
  out <- capture.output(print(fit))
  expect_true(any(grepl("^NOT converged: ", out)))
  expect_true(any(grepl("precondition = \"orthogonal\"", out, fixed = TRUE)))
  expect_false(any(grepl("^Converged", out)))
  # every view that shows numbers warns
  expect_warning(s <- summary(fit), "has not converged", class = "lrtiers_convergence_warning")
  expect_output(print(s), "NOT converged")
  expect_warning(tidy(fit), "has not converged", class = "lrtiers_convergence_warning")
  expect_warning(confint(fit), "has not converged", class = "lrtiers_convergence_warning")
  expect_warning(predict(fit), "has not converged", class = "lrtiers_convergence_warning")
  expect_warning(predict(fit, newdata = mtcars[1:3, ]), "has not converged",
    class = "lrtiers_convergence_warning")
  gl <- glance(fit)
  expect_false(gl$converged)
  expect_lt(gl$digits, 7)
  # with an lr of its own far below 1/L the advice is lr = "auto"
  expect_unconverged(
    slow <- lr_fit_tutorial(mpg ~ wt + hp, data = mtcars, epochs = 50, lr = 1e-8, seed = 1),
    "lr = \"auto\""
  )
  expect_equal(slow$verdict$cause, "step_size")
})

test_that("a fit that has converged warns in no view", {
  skip_if_no_python()
  expect_no_warning(fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1))
  expect_true(fit$converged)
  expect_no_warning(capture.output(print(fit), print(summary(fit))))
  expect_no_warning(tidy(fit))
  expect_no_warning(confint(fit))
  expect_no_warning(predict(fit))
  expect_no_warning(predict(fit, newdata = mtcars[1:3, ]))
  expect_true(glance(fit)$converged)
})

test_that("an aliased column: every view shows it as lm() does", {
  skip_if_no_python()
  expect_no_warning(fit <- lr_fit(mpg ~ wt + I(2 * wt) + hp, data = mtcars, seed = 1))
  ref <- lm(mpg ~ wt + I(2 * wt) + hp, data = mtcars)
  expect_lm_digits(fit, ref)
  expect_true(fit$converged)
  expect_identical(fit$aliased, c(wt = FALSE, `I(2 * wt)` = TRUE, hp = FALSE))
  expect_identical(fit$rank, ref$rank)
  expect_identical(fit$df.residual, ref$df.residual)
  expect_identical(fit$df.residual, nrow(mtcars) - 3L)
  expect_true(is.na(coef(fit)[["I(2 * wt)"]]))
  # print and summary say what summary.lm() says
  expect_output(print(fit), "not defined because of singularities")
  s <- summary(fit)
  out <- capture.output(print(s))
  expect_true(any(grepl("(1 not defined because of singularities)", out, fixed = TRUE)))
  expect_true(any(grepl("^I\\(2 \\* wt\\) +NA +NA +NA +NA", out)))
  # the coefficient table holds the estimated rows only, as summary.lm()'s
  sref <- summary(ref)
  expect_identical(rownames(s$coefficients), rownames(coef(sref)))
  expect_equal(s$coefficients, coef(sref), tolerance = 1e-7)
  expect_identical(s$aliased, sref$aliased)
  expect_equal(unname(s$sigma), sref$sigma, tolerance = 1e-8)
  expect_equal(s$df[1:2], sref$df[1:2])
  # tidy(): an NA row; vcov() and confint(): NA rows (and columns), as lm()'s
  td <- tidy(fit)
  expect_equal(td$term, names(coef(ref)))
  expect_true(is.na(td$estimate[td$term == "I(2 * wt)"]))
  expect_true(all(is.na(unlist(td[td$term == "I(2 * wt)", -1]))))
  expect_equal(td$estimate[-3], unname(coef(ref)[-3]), tolerance = 1e-7)
  v <- vcov(fit)
  expect_identical(dimnames(v), dimnames(vcov(ref)))
  expect_true(all(is.na(v["I(2 * wt)", ])) && all(is.na(v[, "I(2 * wt)"])))
  expect_equal(v[-3, -3], vcov(ref)[-3, -3], tolerance = 1e-7)
  expect_equal(confint(fit), confint(ref), tolerance = 1e-7)
  expect_equal(glance(fit)$df, 2L)
  # predict(newdata) warns as predict.lm() does; the aliased column contributes nothing
  new <- data.frame(wt = c(2.2, 3.3, 5), hp = c(90, 150, 300), row.names = c("a", "b", "c"))
  expect_warning(p <- predict(fit, newdata = new), "prediction from a rank-deficient fit",
    class = "lrtiers_rank_deficiency_warning")
  p_lm <- suppressWarnings(predict(ref, newdata = new))
  expect_equal(p, p_lm, tolerance = 1e-10)
  expect_named(p, c("a", "b", "c"))
  # fitted values are lm()'s, with no warning (as fitted.lm())
  expect_no_warning(f <- fitted(fit))
  expect_equal(f, fitted(ref), tolerance = 1e-10)
})

# round-off (gaps of 1e-16 or 0, 14.3 digits) differs between BLAS builds: not part of the
# snapshot
mask_round_off <- function(lines) {
  lines <- gsub("gap (-?[0-9.]+e-[0-9]+|0)(;|$)", "gap <round-off>\\2", lines)
  lines <- gsub("distance ([0-9.]+e-[0-9]+|0)(;|$| )", "distance <round-off>\\2", lines)
  gsub("answer to 1[0-9][.][0-9]", "answer to <digits>", lines)
}

test_that("print() and summary() as users see them (snapshots)", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", seed = 1)
  expect_snapshot(print(fit), transform = mask_round_off)
  expect_snapshot(summary(fit), transform = mask_round_off)
  aliased <- lr_fit(mpg ~ wt + I(2 * wt) + hp, data = mtcars, tier = "numpy", seed = 1)
  expect_snapshot(summary(aliased), transform = mask_round_off)
  slow <- suppressWarnings(lr_fit(mpg ~ wt, data = mtcars, epochs = 3, precondition = "none",
    lr = 1e-5, tier = "numpy", seed = 1))
  expect_snapshot(print(slow), transform = mask_round_off)
  expect_snapshot(anova(fit), transform = mask_round_off)
})

test_that("print, summary and glance say which rule stopped a fit and the epoch put back", {
  skip_if_no_python()
  early <- suppressWarnings(lr_fit(mpg ~ wt + hp, data = mtcars, precondition = "scale",
    seed = 2, stop_when_converged = FALSE, early_stopping = TRUE, validation = 0.25))
  note <- sprintf("(stopped: early_stopping; epoch %d put back)", early$best_epoch)
  expect_match(paste(capture.output(print(early)), collapse = "\n"), note, fixed = TRUE)
  expect_match(paste(capture.output(suppressWarnings(print(summary(early)))), collapse = "\n"),
    note, fixed = TRUE)
  gl <- suppressWarnings(glance(early))
  expect_identical(gl$best_epoch, early$best_epoch)
  expect_identical(gl$stop_reason, "early_stopping")
  plain <- lr_fit(mpg ~ wt, data = mtcars, seed = 1)
  expect_true(is.na(glance(plain)$best_epoch))
  expect_false(grepl("put back", paste(capture.output(print(plain)), collapse = "\n")))
})
