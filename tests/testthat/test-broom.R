# tidy(), glance(), augment() through the generics package.

test_that("tidy() matches broom's columns and lm()'s numbers", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", standardize = TRUE,
    epochs = 3000, seed = 1)
  ref <- summary(lm(mpg ~ wt + hp, data = mtcars))
  td <- tidy(fit)
  expect_s3_class(td, "data.frame")
  expect_named(td, c("term", "estimate", "std.error", "statistic", "p.value"))
  expect_equal(td$term, c("(Intercept)", "wt", "hp"))
  expect_equal(unname(as.matrix(td[, -1])), unname(coef(ref)), tolerance = 1e-7)
  tc <- tidy(fit, conf.int = TRUE, conf.level = 0.9)
  expect_equal(unname(as.matrix(tc[, c("conf.low", "conf.high")])),
    unname(confint(lm(mpg ~ wt + hp, data = mtcars), level = 0.9)), tolerance = 1e-7)
  expect_identical(generics::tidy(fit), td)
  expect_error(tidy(fit, conf_int = TRUE), "unused argument")
})

test_that("tidy() and glance() of a multi-output fit have a response column", {
  skip_if_no_python()
  fit <- lr_fit(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields,
    tier = "numpy", epochs = 10, seed = 0)
  td <- tidy(fit)
  expect_equal(nrow(td), 6L)
  expect_equal(unique(td$response), c("apples", "oranges"))
  gl <- suppressWarnings(glance(fit))
  expect_equal(nrow(gl), 2L)
  expect_equal(gl$response, c("apples", "oranges"))
})

test_that("glance() has one row with fit statistics", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", standardize = TRUE,
    epochs = 3000, seed = 1)
  ref <- summary(lm(mpg ~ wt + hp, data = mtcars))
  gl <- glance(fit)
  expect_equal(nrow(gl), 1L)
  expect_equal(gl$r.squared, ref$r.squared, tolerance = 1e-8)
  expect_equal(gl$adj.r.squared, ref$adj.r.squared, tolerance = 1e-8)
  expect_equal(gl$sigma, ref$sigma, tolerance = 1e-8)
  expect_equal(gl$df, 2)
  expect_equal(gl$df.residual, 29L)
  expect_equal(gl$nobs, 32L)
  expect_true(gl$converged)
  expect_equal(gl$tier, "numpy")
  expect_equal(gl$epochs, 3000L)
})

test_that("augment() adds .fitted and .resid to the training data or newdata", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", standardize = TRUE,
    epochs = 3000, seed = 1)
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  au <- augment(fit)
  expect_named(au, c("mpg", "wt", "hp", ".fitted", ".resid"))
  expect_equal(au$.fitted, unname(fitted(ref)), tolerance = 1e-8)
  expect_equal(au$.resid, unname(residuals(ref)), tolerance = 1e-7)
  an <- augment(fit, newdata = mtcars[1:4, ])
  expect_equal(nrow(an), 4L)
  expect_equal(an$.resid, unname(residuals(ref)[1:4]), tolerance = 1e-7)
  ad <- augment(fit, data = mtcars)
  expect_true(all(c("cyl", ".fitted", ".resid") %in% names(ad)))
  an2 <- augment(fit, newdata = data.frame(wt = 3, hp = 100))
  expect_false(".resid" %in% names(an2))
  multi <- lr_fit(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields,
    tier = "numpy", epochs = 10, seed = 0)
  am <- augment(multi)
  expect_true(all(c("apples", "oranges", ".fitted_apples", ".resid_oranges") %in% names(am)))
  xy <- lr_fit(mtcars[, c("wt", "hp")], mtcars$mpg, tier = "numpy", epochs = 10, seed = 1)
  expect_named(augment(xy), c("wt", "hp", "y", ".fitted", ".resid"))
})
