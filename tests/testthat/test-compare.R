# lr_compare(): the core's table as a data frame.

test_that("lr_compare() returns the closed form then one row per tier", {
  skip_if_no_python()
  # every tier runs exactly 300 epochs (stop_when_converged = FALSE) and converges
  tab <- lr_compare(mpg ~ wt + hp, data = mtcars, standardize = TRUE, epochs = 300, seed = 1,
    stop_when_converged = FALSE)
  expect_s3_class(tab, "data.frame")
  expect_equal(tab$tier, c("closed-form", lr_tiers()))
  expect_true(all(c("bias", "wt", "hp", "loss", "gap", "max_coef_diff", "epochs_run",
    "converged", "elapsed") %in% names(tab)))
  ref <- coef(lm(mpg ~ wt + hp, data = mtcars))
  expect_equal(unlist(tab[1, c("bias", "wt", "hp")]), ref, tolerance = 1e-10, ignore_attr = TRUE)
  expect_true(all(tab$converged))
  expect_equal(tab$epochs_run, c(0L, rep(300L, 5)))
  # the same numbers as lr_fit() with the same settings
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, tier = "optim", standardize = TRUE, epochs = 300,
    seed = 1, stop_when_converged = FALSE)
  expect_same_bits(unlist(tab[tab$tier == "optim", c("bias", "wt", "hp")]), coef(fit))
})

test_that("lr_compare() with the defaults: every tier reaches lm()'s answer and stops", {
  skip_if_no_python()
  expect_no_warning(tab <- lr_compare(mpg ~ wt + hp, data = mtcars, seed = 1))
  expect_equal(tab$tier, c("closed-form", lr_tiers()))
  expect_true(all(tab$converged))
  expect_true(all(tab$epochs_run[-1] >= 1L & tab$epochs_run[-1] < 1000L))
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  se <- coef(summary(ref))[, "Std. Error"]
  for (i in seq_len(nrow(tab))) {
    b <- unlist(tab[i, c("bias", "wt", "hp")])
    expect_true(all(abs(b - coef(ref)) <= 1e-7 * pmax(abs(coef(ref)), se)), label = tab$tier[[i]])
  }
  # the tutorial's settings: exactly the epochs asked for, and every tier says it has not
  # converged (a warning per tier)
  warned <- character()
  tut <- withCallingHandlers(
    do.call(lr_compare, c(
      list(mpg ~ wt + hp, data = mtcars, epochs = 20, seed = 1, tiers = c("numpy", "module")),
      lr_tutorial_settings()
    )),
    lrtiers_convergence_warning = function(w) {
      warned <<- c(warned, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  expect_equal(tut$epochs_run, c(0L, 20L, 20L))
  expect_equal(tut$converged, c(TRUE, FALSE, FALSE))
  expect_length(warned, 2L)
  expect_match(warned, "precondition = \"orthogonal\"")
})

test_that("lr_compare() takes x/y, a subset of tiers, and multi-output data", {
  skip_if_no_python()
  tab <- lr_compare(crop_yields[, 1:3], crop_yields[, 4:5], tiers = c("numpy", "module"),
    epochs = 5, seed = 1)
  expect_equal(tab$tier, c("closed-form", "numpy", "module"))
  expect_true(all(c("apples:bias", "oranges:humidity") %in% names(tab)))
  one <- lr_compare(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, tiers = "numpy", epochs = 2,
    seed = 1)
  expect_equal(nrow(one), 2L)
  expect_error(lr_compare(mpg ~ wt, data = mtcars, tiers = "nope", epochs = 2),
    "`tier` must be one of", class = "lrtiers_value_error")
  expect_error(lr_compare(mpg ~ wt, data = mtcars, tiers = 1), "`tiers` must be")
  expect_error(lr_compare("x"), "no method", class = "lrtiers_argument_error")
})
