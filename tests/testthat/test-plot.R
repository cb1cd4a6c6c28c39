# plot(): lm()'s diagnostics and the loss curve; autoplot() with ggplot2.

test_that("plot() draws every diagnostic and the loss curve to a device", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, weights = cyl, seed = 1)
  path <- withr::local_tempfile(fileext = ".png")
  grDevices::png(path, width = 900, height = 600)
  graphics::par(mfrow = c(2, 3))
  expect_invisible(plot(fit, which = 1:6))
  grDevices::dev.off()
  expect_gt(file.size(path), 10000)
  multi <- lr_fit(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields, seed = 0)
  expect_error(plot(multi, which = 1), "single-output", class = "lrtiers_argument_error")
  # by default, a fit without diagnostics draws its loss curve
  grDevices::png(path)
  expect_invisible(plot(multi))
  grDevices::dev.off()
})

test_that("autoplot() gives ggplot objects for the loss and each diagnostic", {
  skip_if_no_python()
  skip_if_not_installed("ggplot2")
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
  for (which in list("loss", 1, 2, 3, 4, 5)) {
    p <- ggplot2::autoplot(fit, which = which)
    expect_s3_class(p, "ggplot")
    expect_no_error(ggplot2::ggplot_build(p))
  }
  expect_error(ggplot2::autoplot(fit, which = 9), "from 1 to 6", class = "lrtiers_value_error")
  # the diagnostics plot lm()'s standardized residuals
  built <- ggplot2::ggplot_build(ggplot2::autoplot(fit, which = 5))$data[[1]]
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  expect_equal(built$x, unname(hatvalues(ref)), tolerance = 1e-7)
  expect_equal(built$y, unname(rstandard(ref)), tolerance = 1e-6)
})
