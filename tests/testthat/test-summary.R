# summary() as summary.lm()'s: its object (fstatistic, cov.unscaled, terms, ...), its
# warnings and its printed lines, with the training lines after them.

# The lines print.summary.lm() writes after the call: "Residuals:" to the F statistic
lm_lines <- function(s) {
  out <- capture.output(print(s))
  out <- out[grep("Residuals:$", out)[1L]:length(out)]
  out[seq_len(grep("^F-statistic|^Residual standard error", out)[1L] + 3L)]
}

test_that("summary()'s object is summary.lm()'s: fstatistic, cov.unscaled, terms", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp + factor(cyl), mtcars, seed = 1)
  ref <- lm(mpg ~ wt + hp + factor(cyl), mtcars)
  s <- summary(fit)
  sref <- summary(ref)
  expect_s3_class(s, c("summary.lr_fit", "summary.lm"), exact = TRUE)
  # issue 17 item 6: a named numeric, as lm()'s, so that users' code runs unchanged
  expect_type(s$fstatistic, "double")
  expect_named(s$fstatistic, c("value", "numdf", "dendf"))
  expect_equal(s$fstatistic[1], sref$fstatistic[1], tolerance = 1e-9)
  expect_equal(pf(s$fstatistic[1], s$fstatistic[2], s$fstatistic[3], lower.tail = FALSE),
    pf(sref$fstatistic[1], sref$fstatistic[2], sref$fstatistic[3], lower.tail = FALSE),
    tolerance = 1e-9)
  for (name in setdiff(names(sref), "call")) {
    expect_equal(s[[name]], sref[[name]], tolerance = 1e-9, label = name)
  }
  expect_identical(lm_lines(s), lm_lines(sref))
  expect_equal(summary(fit, correlation = TRUE)$correlation,
    summary(ref, correlation = TRUE)$correlation, tolerance = 1e-9)
})

test_that("weighted fits print \"Weighted Residuals:\", as summary.lm()", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, mtcars, weights = cyl, seed = 1)
  ref <- lm(mpg ~ wt + hp, mtcars, weights = cyl)
  out <- capture.output(print(summary(fit)))
  expect_true("Weighted Residuals:" %in% out)
  expect_identical(lm_lines(summary(fit)), lm_lines(summary(ref)))
})

test_that("an essentially perfect fit warns as lm(); a saturated one has ALL residuals 0", {
  skip_if_no_python()
  d <- data.frame(x = 1:10, z = c(3, 1, 4, 1, 5, 9, 2, 6, 5, 3))
  d$y <- 1 + 2 * d$x + 0.5 * d$z
  fit <- lr_fit(y ~ x + z, d, seed = 1)
  expect_warning(summary(fit), "essentially perfect fit")
  expect_warning(summary(lm(y ~ x + z, d)), "essentially perfect fit")

  e <- data.frame(x = c(1, 2, 4, 7, 8), y = c(2, 3, 1, 5, 4))
  fit <- lr_fit(y ~ x + I(x^2) + I(x^3) + I(x^4), e, seed = 1)
  ref <- lm(y ~ x + I(x^2) + I(x^3) + I(x^4), e)
  expect_true(fit$converged)
  s <- suppressWarnings(summary(fit))
  sref <- suppressWarnings(summary(ref))
  expect_output(print(s), "ALL 5 residuals are 0: no residual degrees of freedom!", fixed = TRUE)
  expect_identical(suppressWarnings(lm_lines(s)), suppressWarnings(lm_lines(sref)))
  expect_equal(s$sigma, sref$sigma)
})

test_that("the rows deleted for missingness are reported where summary.lm() reports them", {
  skip_if_no_python()
  fit <- lr_fit(Ozone ~ Wind + Temp, airquality, seed = 1)
  ref <- lm(Ozone ~ Wind + Temp, airquality)
  out <- capture.output(print(summary(fit)))
  at <- grep("observations deleted due to missingness", out)
  expect_length(at, 1L)
  expect_match(out[at - 1L], "^Residual standard error")
  expect_identical(lm_lines(summary(fit)), lm_lines(summary(ref)))
})

test_that("a fit without its rows (loaded) keeps summary.lm()'s names where it can", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, mtcars, seed = 1)
  path <- withr::local_tempfile(fileext = ".json")
  lr_save(fit, path)
  s <- summary(lr_load(path))
  ref <- summary(lm(mpg ~ wt + hp, mtcars))
  expect_equal(s$coefficients, coef(ref), tolerance = 1e-9)
  expect_equal(s$cov.unscaled, ref$cov.unscaled, tolerance = 1e-9)
  expect_equal(s$sigma, ref$sigma, tolerance = 1e-9)
  expect_null(s$fstatistic) # needs the rows
  expect_output(print(s), "Residual standard error: 2.593 on 29 degrees of freedom",
    fixed = TRUE)
})
