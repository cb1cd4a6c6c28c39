# With the defaults lr_fit() reaches lm()'s answer on real R datasets: every coefficient
# to 7 significant digits relative to max(|b|, SE(b)), lm()'s own standard errors.

cases <- list(
  list(formula = mpg ~ wt + hp + qsec, data = mtcars),
  list(formula = dist ~ speed, data = cars),
  list(formula = Volume ~ Girth + Height, data = trees),
  list(formula = Fertility ~ ., data = swiss),
  list(formula = stack.loss ~ ., data = stackloss),
  list(formula = Sepal.Length ~ Petal.Length + Species, data = iris),
  list(formula = log(Volume) ~ log(Girth) + log(Height), data = trees)
)

test_that("every case converges to the lm() coefficients (numpy tier, lr = 'auto')", {
  skip_if_no_python()
  for (case in cases) {
    label <- deparse1(case$formula)
    expect_no_warning(fit <- lr_fit(case$formula, data = case$data, tier = "numpy",
      lr = "auto", seed = 1))
    ref <- lm(case$formula, data = case$data)
    expect_true(fit$converged, label = label)
    expect_equal(fit$stop_reason, "converged", label = label)
    expect_gte(fit$verdict$digits, 7)
    expect_lm_digits(fit, ref, label = label)
    expect_equal(fit$optimum$coefficients, coef(ref), tolerance = 1e-9, label = label)
    expect_equal(fit$optimum$loss, mean(residuals(ref)^2), tolerance = 1e-10, label = label)
  }
})

test_that("the scale preconditioner (standardize = TRUE) converges to lm() too, and stops", {
  skip_if_no_python()
  for (case in cases) {
    label <- deparse1(case$formula)
    expect_no_warning(fit <- lr_fit(case$formula, data = case$data, tier = "numpy",
      standardize = TRUE, epochs = 3000, seed = 1))
    expect_equal(fit$preconditioner$kind, "scale")
    expect_true(fit$converged, label = label)
    expect_lt(fit$epochs_run, 3000L)
    expect_lm_digits(fit, lm(case$formula, data = case$data), label = label)
  }
})

test_that("the torch tiers converge to lm() too", {
  skip_if_no_python()
  ref <- lm(mpg ~ wt + hp + qsec, data = mtcars)
  for (tier in c("autograd", "optim", "module", "dataloader")) {
    expect_no_warning(fit <- lr_fit(mpg ~ wt + hp + qsec, data = mtcars, tier = tier, seed = 1))
    expect_true(fit$converged, label = tier)
    expect_lm_digits(fit, ref, label = tier)
  }
  # plain SGD's mini-batches at a fixed step get near lm(), not to 7 digits: the fit says so
  expect_unconverged(
    mini <- lr_fit(dist ~ speed, data = cars, tier = "dataloader", batch_size = 10,
      standardize = TRUE, epochs = 300, lr = 0.05, seed = 1, variance_reduction = "none"),
    "variance_reduction = \"svrg\""
  )
  expect_equal(coef(mini), coef(lm(dist ~ speed, data = cars)), tolerance = 0.05)
  expect_equal(mini$verdict$cause, "mini_batch")
})

test_that("mini-batches at the defaults arrive at lm()'s answer on R's datasets", {
  skip_if_no_python()
  cases <- list(
    list(mpg ~ ., mtcars), list(stack.loss ~ ., stackloss), list(Fertility ~ ., swiss),
    list(Employed ~ ., longley), list(Volume ~ Girth + Height, trees)
  )
  for (case in cases) {
    ref <- lm(case[[1]], data = case[[2]])
    for (batch_size in c(1, 8, 32)) {
      label <- paste(deparse(case[[1]]), "batch", batch_size)
      expect_no_warning(fit <- lr_fit(case[[1]], data = case[[2]], tier = "dataloader",
        batch_size = batch_size, seed = 1))
      expect_true(fit$converged, label = label)
      expect_lte(fit$epochs_run, 150L, label = label)
      expect_lm_digits(fit, ref, label = label)
    }
  }
})
