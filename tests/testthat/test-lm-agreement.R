# At convergence lr_fit() reaches lm()'s answer on real R datasets.

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
    fit <- lr_fit(case$formula, data = case$data, tier = "numpy", standardize = TRUE,
      lr = "auto", epochs = 3000, seed = 1)
    ref <- lm(case$formula, data = case$data)
    label <- deparse1(case$formula)
    expect_true(fit$converged, label = label)
    expect_equal(coef(fit), coef(ref), tolerance = 1e-6, label = label)
    expect_equal(fit$optimum$coefficients, coef(ref), tolerance = 1e-9, label = label)
    expect_equal(fit$optimum$loss, mean(residuals(ref)^2), tolerance = 1e-10, label = label)
  }
})

test_that("the torch tiers converge to lm() too", {
  skip_if_no_python()
  ref <- lm(mpg ~ wt + hp + qsec, data = mtcars)
  for (tier in c("autograd", "optim", "module")) {
    fit <- lr_fit(mpg ~ wt + hp + qsec, data = mtcars, tier = tier, standardize = TRUE,
      epochs = 1500, seed = 1)
    expect_true(fit$converged, label = tier)
    expect_equal(coef(fit), coef(ref), tolerance = 1e-6, label = tier)
  }
  mini <- lr_fit(dist ~ speed, data = cars, tier = "dataloader", batch_size = 10,
    standardize = TRUE, epochs = 300, lr = 0.05, seed = 1)
  expect_equal(coef(mini), coef(lm(dist ~ speed, data = cars)), tolerance = 0.05)
})
