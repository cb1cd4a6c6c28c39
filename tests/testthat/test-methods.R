# Methods: print, summary, coef, vcov, confint, predict, fitted, residuals, plot, nobs.

converged_fit <- function() {
  lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", standardize = TRUE, epochs = 3000,
    seed = 1)
}

test_that("print shows the tier, call, coefficients and loss against the optimum", {
  skip_if_no_python()
  fit <- converged_fit()
  out <- capture.output(print(fit))
  expect_match(out[1], "lrtiers fit: tier \"numpy\", 3000 epochs")
  expect_true(any(grepl("lr_fit(formula = mpg ~ wt + hp", out, fixed = TRUE)))
  expect_true(any(grepl("(Intercept)", out, fixed = TRUE)))
  expect_true(any(grepl("converged", out)))
  capture.output(shown <- withVisible(print(fit)))
  expect_false(shown$visible)
  expect_identical(shown$value, fit)
})

test_that("summary: OLS inference at the estimate equals lm() at convergence", {
  skip_if_no_python()
  fit <- converged_fit()
  ref <- summary(lm(mpg ~ wt + hp, data = mtcars))
  s <- summary(fit)
  expect_s3_class(s, "summary.lr_fit")
  expect_equal(unname(s$coefficients), unname(coef(ref)), tolerance = 1e-7)
  expect_equal(dimnames(s$coefficients), dimnames(coef(ref)))
  expect_equal(unname(s$sigma), ref$sigma, tolerance = 1e-8)
  expect_equal(s$r.squared, ref$r.squared, tolerance = 1e-8)
  expect_lt(s$max_coef_distance, 1e-6)
  expect_true(s$converged)
  out <- capture.output(print(s))
  expect_true(any(grepl("Std. Error", out)))
  expect_true(any(grepl("Closed-form least squares (lm)", out, fixed = TRUE)))
  expect_true(any(grepl("after 3000 epochs", out)))
  expect_true(any(grepl("Converged", out)))
})

test_that("summary warns when the fit has not converged", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", epochs = 5, seed = 1,
    standardize = TRUE)
  expect_false(fit$converged)
  expect_warning(s <- summary(fit), "has not converged", class = "lrtiers_not_converged_warning")
  expect_output(print(s), "not converged")
  expect_gt(s$loss_gap, 0)
})

test_that("summary of a multi-output fit has one table per response", {
  skip_if_no_python()
  fit <- lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
    tier = "numpy", epochs = 3000, standardize = TRUE, seed = 0)
  s <- summary(fit)
  ref <- summary(lm(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields))
  expect_named(s$coefficients, c("apples", "oranges"))
  expect_equal(unname(s$coefficients$apples), unname(coef(ref[[1]])), tolerance = 1e-6)
  expect_equal(unname(s$coefficients$oranges), unname(coef(ref[[2]])), tolerance = 1e-6)
  expect_output(print(s), "response oranges")
})

test_that("coef, vcov, confint, nobs, formula agree with lm()", {
  skip_if_no_python()
  fit <- converged_fit()
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  expect_equal(coef(fit), coef(ref), tolerance = 1e-8)
  expect_equal(vcov(fit), vcov(ref), tolerance = 1e-7)
  expect_equal(confint(fit), confint(ref), tolerance = 1e-7)
  expect_equal(confint(fit, "wt", level = 0.9), confint(ref, "wt", level = 0.9), tolerance = 1e-7)
  expect_equal(confint(fit, 2), confint(ref, 2), tolerance = 1e-7)
  expect_equal(nobs(fit), 32L)
  expect_equal(formula(fit), mpg ~ wt + hp, ignore_attr = TRUE)
  multi <- lr_fit(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields,
    tier = "numpy", epochs = 3000, standardize = TRUE, seed = 0)
  v <- vcov(multi)
  vref <- vcov(lm(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields))
  expect_equal(dimnames(v), dimnames(vref))
  blocks <- !is.na(v)
  expect_equal(v[blocks], vref[blocks], tolerance = 1e-6)
  expect_equal(sum(blocks), 2 * 9)
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
    class = "lrtiers_argument_error")
  # factor levels come from the stored xlevels
  ff <- lr_fit(mpg ~ factor(cyl) + wt, data = mtcars, tier = "numpy", epochs = 5000,
    standardize = TRUE, seed = 1)
  rf <- lm(mpg ~ factor(cyl) + wt, data = mtcars)
  new <- data.frame(cyl = c(8, 4), wt = c(3, 2))
  expect_equal(predict(ff, newdata = new), predict(rf, newdata = new), tolerance = 1e-6)
  expect_error(predict(ff, newdata = data.frame(cyl = 5, wt = 3)), "new level",
    class = "lrtiers_argument_error")
  # x/y fits: columns matched by name, or by position
  fx <- lr_fit(mtcars[, c("wt", "hp")], mtcars$mpg, tier = "numpy", epochs = 3000,
    standardize = TRUE, seed = 1)
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
    tier = "numpy", epochs = 3000, standardize = TRUE, seed = 0)
  pm <- predict(multi, newdata = data.frame(temp = 75, rainfall = 63, humidity = 44))
  expect_equal(dim(pm), c(1L, 2L))
  expect_equal(colnames(pm), c("apples", "oranges"))
  mref <- lm(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields)
  expect_equal(unname(pm), unname(predict(mref,
    newdata = data.frame(temp = 75, rainfall = 63, humidity = 44))), tolerance = 1e-6)
})

test_that("predictions come from the core, bit for bit", {
  skip_if_no_python()
  fit <- lr_fit(mtcars[, c("wt", "hp")], mtcars$mpg, tier = "module", epochs = 30, seed = 3,
    standardize = TRUE)
  x <- as.matrix(mtcars[, c("wt", "hp")])
  pyfit <- py()$lr_fit(x, mtcars$mpg, tier = "module", epochs = 30L, seed = 3L,
    standardize = TRUE)
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
  plot(fit, log = "", main = "custom title")
  grDevices::dev.off()
  expect_gt(file.size(file), 1000)
  none <- lr_fit(mpg ~ wt, data = mtcars, epochs = 0, tier = "numpy", seed = 1)
  expect_error(plot(none), "no epochs")
})
