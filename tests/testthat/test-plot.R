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
  for (which in list("loss", 1, 2, 3, 4, 5, 6)) {
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

test_that("which means what it means for plot.lm(): 1 to 6 drawn by it, the loss as \"loss\"", {
  skip_if_no_python()
  skip_if_no_package("ggplot2")
  fit <- lr_fit(Ozone ~ Wind + Temp, airquality, na.action = na.exclude, seed = 1)
  ref <- lm(Ozone ~ Wind + Temp, airquality, na.action = na.exclude)
  # plot.lm() itself draws the diagnostics: the same calls on the device as for lm()
  drawn <- function(m, which) {
    grDevices::pdf(NULL)
    on.exit(grDevices::dev.off())
    grDevices::dev.control("enable")
    plot(m, which = which)
    # the numbers in the graphics calls' arguments (coordinates, limits, labels' places)
    numbers <- function(x) {
      if (inherits(x, "NativeSymbolInfo")) NULL else if (is.list(x) || is.pairlist(x)) {
        unlist(lapply(x, numbers))
      } else if (is.numeric(x)) unname(as.vector(x))
    }
    lapply(grDevices::recordPlot()[[1]], function(op) numbers(op[[2]]))
  }
  expect_gt(length(unlist(drawn(fit, 4))), 100) # the bars' coordinates are there
  for (which in 1:6) {
    expect_equal(drawn(fit, which), drawn(ref, which), tolerance = 1e-6,
      label = sprintf("which = %d", which))
  }
  grDevices::pdf(NULL)
  expect_invisible(plot(fit, which = "loss"))
  expect_invisible(plot(fit, which = c(4, "loss")))
  grDevices::dev.off()
  expect_error(plot(fit, which = 7), "from 1 to 6", class = "lrtiers_value_error")
  # under na.exclude Cook's distances sit at the rows' own numbers, hat values pad with 0
  bars <- ggplot2::ggplot_build(ggplot2::autoplot(fit, which = 4))$data[[1]]
  cooks <- cooks.distance(ref)
  expect_equal(bars$x, unname(which(!is.na(cooks))))
  expect_equal(bars$y, unname(cooks[!is.na(cooks)]), tolerance = 1e-9)
  expect_equal(hatvalues(fit), hatvalues(ref), tolerance = 1e-12)
  expect_identical(unname(hatvalues(fit)[5]), 0)
})

test_that("autoplot() draws the loss of a one-epoch fit from epoch 0, and which = 6", {
  skip_if_no_python()
  skip_if_not_installed("ggplot2")
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
  expect_identical(fit$epochs_run, 1L)
  built <- ggplot2::ggplot_build(ggplot2::autoplot(fit))
  line <- built$data[[1]]
  expect_identical(nrow(line), 2L)
  expect_equal(line$x, c(0, 1))
  expect_equal(10^line$y, c(fit$initial_loss, fit$history$loss), tolerance = 1e-12)
  p6 <- ggplot2::ggplot_build(ggplot2::autoplot(fit, which = 6))$data[[1]]
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  h <- hatvalues(ref)
  expect_equal(p6$x, unname(h / (1 - h)), tolerance = 1e-9)
  expect_equal(p6$y, unname(cooks.distance(ref)), tolerance = 1e-9)
})
