# lm()'s method set (R/inference.R and predict/summary in R/methods.R), compared with lm()
# run live on R's datasets: weighted, with offsets, with factors, rank-deficient.

# Each case: the lr_fit() call and the lm() call on the same arguments.
lm_cases <- function() {
  list(
    mtcars = list(formula = mpg ~ wt + hp, data = mtcars),
    cars = list(formula = dist ~ speed, data = cars),
    longley = list(formula = Employed ~ ., data = longley),
    iris_factor = list(formula = Sepal.Length ~ Species + Petal.Width, data = iris),
    weighted = list(formula = mpg ~ wt + hp, data = mtcars, weights = quote(cyl)),
    offset_term = list(formula = mpg ~ wt + offset(qsec), data = mtcars),
    offset_arg = list(formula = mpg ~ wt, data = mtcars, offset = quote(qsec / 2)),
    no_intercept = list(formula = dist ~ speed - 1, data = cars),
    aliased = list(formula = mpg ~ wt + I(2 * wt) + hp, data = mtcars),
    weighted_factor = list(formula = Sepal.Length ~ Species * Petal.Width, data = iris,
      weights = quote(Petal.Length))
  )
}

fit_both <- function(case) {
  fit <- do.call(lr_fit, c(case, list(seed = 1)))
  ref <- do.call(stats::lm, case)
  list(fit = fit, ref = ref)
}

expect_lm_equal <- function(object, expected, what, case) {
  expect_equal(object, expected, tolerance = 1e-6, ignore_attr = TRUE,
    label = sprintf("%s (%s)", what, case))
}

test_that("lm()'s methods give lm()'s numbers on converged fits", {
  skip_if_no_python()
  for (name in names(lm_cases())) {
    both <- fit_both(lm_cases()[[name]])
    fit <- both$fit
    ref <- both$ref
    data <- lm_cases()[[name]]$data
    expect_true(fit$converged, label = name)
    checks <- list(
      coef = function(m) coef(m),
      sigma = function(m) sigma(m),
      deviance = function(m) deviance(m),
      logLik = function(m) as.numeric(logLik(m)),
      logLik_df = function(m) attr(logLik(m), "df"),
      AIC = function(m) AIC(m),
      BIC = function(m) BIC(m),
      nobs = function(m) nobs(m),
      df.residual = function(m) df.residual(m),
      fitted = function(m) fitted(m),
      residuals = function(m) residuals(m),
      weights = function(m) weights(m),
      vcov = function(m) vcov(m),
      confint = function(m) confint(m, level = 0.9),
      hatvalues = function(m) hatvalues(m),
      cooks.distance = function(m) cooks.distance(m),
      rstandard = function(m) rstandard(m),
      rstudent = function(m) rstudent(m),
      dfbeta = function(m) dfbeta(m),
      influence_sigma = function(m) influence(m)$sigma,
      influence_wt.res = function(m) influence(m)$wt.res,
      model.matrix = function(m) model.matrix(m),
      model.frame = function(m) model.frame(m),
      variable.names = function(m) variable.names(m),
      anova = function(m) as.data.frame(anova(m)),
      r.squared = function(m) summary(m)$r.squared,
      adj.r.squared = function(m) summary(m)$adj.r.squared,
      fstatistic = function(m) unlist(summary(m)$fstatistic),
      predict = function(m) predict(m, newdata = data[1:5, , drop = FALSE]),
      predict_se = function(m) {
        predict(m, newdata = data[c(2, 7), , drop = FALSE], se.fit = TRUE)
      },
      confidence = function(m) {
        predict(m, newdata = data[1:3, , drop = FALSE], interval = "confidence", level = 0.8)
      },
      prediction = function(m) suppressWarnings(predict(m, interval = "prediction"))
    )
    if (grepl("offset", name)) checks$r.squared <- checks$adj.r.squared <- checks$fstatistic <- NULL
    for (what in names(checks)) {
      got <- suppressWarnings(checks[[what]](fit)) # rank-deficient predictions warn, as lm()'s
      want <- suppressWarnings(checks[[what]](ref))
      if (what == "model.frame") want <- want[, names(got), drop = FALSE]
      expect_lm_equal(got, want, what, name)
    }
  }
})

test_that("summary() of an offset fit: R-squared as this R's summary.lm() has it", {
  skip_if_no_python()
  for (case in lm_cases()[c("offset_term", "offset_arg")]) {
    both <- fit_both(case)
    s <- summary(both$fit)
    ref <- summary(both$ref)
    expect_equal(s$r.squared, ref$r.squared, tolerance = 1e-6)
    expect_equal(s$adj.r.squared, ref$adj.r.squared, tolerance = 1e-6)
  }
})

test_that("anova() compares nested fits as anova.lm() does", {
  skip_if_no_python()
  small <- lr_fit(mpg ~ wt, data = mtcars, seed = 1)
  mid <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
  big <- lr_fit(mpg ~ wt + hp + qsec, data = mtcars, seed = 1)
  got <- anova(small, mid, big)
  want <- anova(lm(mpg ~ wt, mtcars), lm(mpg ~ wt + hp, mtcars), lm(mpg ~ wt + hp + qsec, mtcars))
  expect_equal(as.data.frame(got), as.data.frame(want), tolerance = 1e-6, ignore_attr = TRUE)
  expect_s3_class(got, "anova")
  expect_error(anova(small, lr_fit(mpg ~ wt, data = mtcars[1:20, ], seed = 1)), "same rows",
    class = "lrtiers_argument_error")
})

test_that("summary() prints like summary.lm(): residuals, R-squared, F, singularities", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + I(2 * wt) + hp, data = mtcars, seed = 1)
  out <- capture.output(print(summary(fit)))
  ref <- capture.output(print(summary(lm(mpg ~ wt + I(2 * wt) + hp, data = mtcars))))
  # lm()'s own lines, unchanged, in the same order
  shared <- c(
    grep("^Residuals:", ref), grep("^ +Min +1Q", ref), grep("not defined because", ref),
    grep("^\\(Intercept\\)|^wt|^I\\(2|^hp", ref), grep("^Residual standard error", ref),
    grep("^Multiple R-squared", ref), grep("^F-statistic", ref)
  )
  expect_length(shared, 10L)
  positions <- match(ref[sort(shared)], out)
  expect_false(anyNA(positions), label = paste(ref[sort(shared)][is.na(positions)], collapse = "|"))
  expect_false(is.unsorted(positions))
})

test_that("update() refits with a changed formula or settings", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
  smaller <- update(fit, . ~ . - hp)
  expect_s3_class(smaller, "lr_fit")
  expect_lm_digits(smaller, lm(mpg ~ wt, data = mtcars))
  other <- update(fit, tier = "numpy")
  expect_identical(other$tier, "numpy")
  expect_lm_digits(other, lm(mpg ~ wt + hp, data = mtcars))
})

test_that("predict(interval =, level =) and se.fit are checked", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
  bad <- list(
    list(args = list(interval = "both"), class = "lrtiers_argument_error", regexp = "interval"),
    list(args = list(level = 2), class = "lrtiers_argument_error", regexp = "level"),
    list(args = list(se.fit = NA), class = "lrtiers_error", regexp = "se.fit")
  )
  for (case in bad) {
    expect_error(do.call(predict, c(list(fit, newdata = mtcars[1:2, ]), case$args)),
      case$regexp, class = case$class)
  }
  multi <- lr_fit(cbind(apples, oranges) ~ temp + rainfall, data = crop_yields, seed = 0)
  expect_error(predict(multi, interval = "confidence"), "single-output",
    class = "lrtiers_argument_error")
})

test_that("a fit that has not converged warns in the new methods too", {
  skip_if_no_python()
  fit <- suppressWarnings(lr_fit(mpg ~ wt + hp, data = mtcars, epochs = 2,
    precondition = "none", lr = 1e-6, seed = 1))
  expect_false(fit$converged)
  expect_warning(anova(fit), class = "lrtiers_convergence_warning")
  expect_warning(predict(fit, mtcars[1:2, ], interval = "confidence"),
    class = "lrtiers_convergence_warning")
  expect_warning(suppressMessages(glance(fit)), NA) # glance carries `converged`
  expect_false(glance(fit)$converged)
})
