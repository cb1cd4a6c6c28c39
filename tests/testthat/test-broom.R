# tidy(), glance(), augment() through the generics package.

test_that("tidy() matches broom's tidy() of lm(): columns and numbers", {
  skip_if_no_python()
  skip_if_not_installed("broom")
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", seed = 1)
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  expect_no_warning(td <- tidy(fit))
  want <- broom::tidy(ref)
  expect_s3_class(td, "tbl_df")
  expect_named(td, names(want))
  expect_equal(td, want, tolerance = 1e-7)
  expect_lm_digits(fit, ref)
  expect_equal(tidy(fit, conf.int = TRUE, conf.level = 0.9),
    broom::tidy(ref, conf.int = TRUE, conf.level = 0.9), tolerance = 1e-7)
  expect_error(tidy(fit, conf_int = TRUE), "unused argument")
})

test_that("glance() has broom's columns for lm() with lm()'s numbers, then lrtiers' own", {
  skip_if_no_python()
  skip_if_not_installed("broom")
  cases <- list(
    list(formula = mpg ~ wt + hp, data = mtcars),
    list(formula = mpg ~ wt + hp, data = mtcars, weights = quote(cyl)),
    list(formula = Sepal.Length ~ Species + Petal.Width, data = iris)
  )
  for (case in cases) {
    fit <- do.call(lr_fit, c(case, list(seed = 1)))
    want <- broom::glance(do.call(lm, case))
    gl <- glance(fit)
    expect_s3_class(gl, "tbl_df")
    expect_identical(names(gl)[seq_along(want)], names(want))
    expect_equal(gl[names(want)], want, tolerance = 1e-6, ignore_attr = TRUE)
    expect_true(all(c("converged", "epochs", "digits", "loss", "tier") %in% names(gl)))
    expect_true(gl$converged)
    expect_identical(gl$epochs, fit$epochs_run)
  }
})

test_that("augment() has broom's columns for lm() with lm()'s numbers", {
  skip_if_no_python()
  skip_if_not_installed("broom")
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  calls <- list(
    list(),
    list(se_fit = TRUE),
    list(interval = "confidence"),
    list(se_fit = TRUE, interval = "prediction"),
    list(data = mtcars),
    list(newdata = mtcars[1:5, ]),
    list(newdata = mtcars[1:5, c("wt", "hp")], se_fit = TRUE, interval = "confidence")
  )
  for (args in calls) {
    got <- suppressWarnings(do.call(augment, c(list(fit), args)))
    want <- suppressWarnings(do.call(broom::augment, c(list(ref), args)))
    label <- paste(names(args), collapse = ", ")
    expect_s3_class(got, "tbl_df")
    expect_identical(names(got), names(want), label = label)
    expect_equal(got, want, tolerance = 1e-6, ignore_attr = TRUE, label = label)
  }
  # conf.level as predict.lm()'s level (broom 1.0.3's augment.lm() ignores it)
  au <- augment(fit, interval = "confidence", conf.level = 0.9)
  expect_equal(au$.lower, unname(predict(ref, interval = "confidence", level = 0.9)[, "lwr"]),
    tolerance = 1e-7)
  weighted <- lr_fit(mpg ~ wt, data = mtcars, weights = cyl, seed = 1)
  expect_equal(augment(weighted), broom::augment(lm(mpg ~ wt, data = mtcars, weights = cyl)),
    tolerance = 1e-6, ignore_attr = TRUE)
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

test_that("augment() adds .fitted and .resid to the training data or newdata", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "numpy", seed = 1)
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  au <- augment(fit)
  expect_named(au, c(".rownames", "mpg", "wt", "hp", ".fitted", ".resid", ".hat", ".sigma",
    ".cooksd", ".std.resid"))
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
  expect_named(augment(xy), c(".rownames", "wt", "hp", "y", ".fitted", ".resid", ".hat", ".sigma",
    ".cooksd", ".std.resid"))
})
