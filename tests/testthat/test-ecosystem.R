# The packages users hand an lm() fit to, on an lr_fit: the same calls give lm()'s numbers
# (sandwich, lmtest, car, emmeans; Debian packages that make setup installs).

ecosystem_pair <- function() {
  list(
    fit = lr_fit(mpg ~ wt + hp + factor(cyl), mtcars, seed = 1),
    ref = lm(mpg ~ wt + hp + factor(cyl), mtcars)
  )
}

expect_same_call <- function(call, both, tolerance = 1e-9, label) {
  got <- call(both$fit)
  want <- call(both$ref)
  expect_equal(got, want, tolerance = tolerance, label = label)
}

test_that("sandwich: vcovHC, vcovCL, sandwich, vcovHAC give lm()'s covariances", {
  skip_if_no_python()
  skip_if_no_package("sandwich")
  both <- ecosystem_pair()
  calls <- list(
    vcovHC = function(m) sandwich::vcovHC(m),
    vcovHC0 = function(m) sandwich::vcovHC(m, type = "HC0"),
    vcovHC4 = function(m) sandwich::vcovHC(m, type = "HC4"),
    vcovCL = function(m) sandwich::vcovCL(m, cluster = ~gear, type = "HC1"),
    vcovCL_HC0 = function(m) sandwich::vcovCL(m, cluster = ~gear, type = "HC0"),
    sandwich = function(m) sandwich::sandwich(m),
    vcovHAC = function(m) sandwich::vcovHAC(m),
    estfun = function(m) sandwich::estfun(m),
    bread = function(m) sandwich::bread(m)
  )
  for (what in names(calls)) expect_same_call(calls[[what]], both, label = what)
  # sandwich's vcovCL() (meatCL()) chooses HC1 by default only when class(x)[1] is "lm":
  # an lr_fit gets HC0 unless type = "HC1" is given (documented in ?lr_fit-methods)
  expect_equal(sandwich::vcovCL(both$fit, cluster = ~gear),
    sandwich::vcovCL(both$ref, cluster = ~gear, type = "HC0"), tolerance = 1e-9)
})

test_that("lmtest: coeftest, bptest, dwtest, resettest, waldtest give lm()'s tests", {
  skip_if_no_python()
  skip_if_no_package("lmtest")
  skip_if_no_package("sandwich")
  both <- ecosystem_pair()
  test_numbers <- function(test) unlist(test[c("statistic", "parameter", "p.value")])
  calls <- list(
    coeftest = function(m) unclass(lmtest::coeftest(m)),
    coeftest_hc = function(m) unclass(lmtest::coeftest(m, vcov. = sandwich::vcovHC)),
    coefci = function(m) lmtest::coefci(m),
    bptest = function(m) test_numbers(lmtest::bptest(m)),
    bptest_studentize = function(m) test_numbers(lmtest::bptest(m, studentize = FALSE)),
    dwtest = function(m) test_numbers(lmtest::dwtest(m)),
    resettest = function(m) test_numbers(lmtest::resettest(m)),
    waldtest = function(m) as.data.frame(lmtest::waldtest(m, . ~ . - hp)),
    lrtest = function(m) as.data.frame(lmtest::lrtest(m, . ~ . - hp))
  )
  for (what in names(calls)) expect_same_call(calls[[what]], both, label = what)
  expect_identical(capture.output(lmtest::coeftest(both$fit)),
    capture.output(lmtest::coeftest(both$ref)))
})

test_that("car: vif, Anova, linearHypothesis (vcov(complete = )), ncvTest give lm()'s", {
  skip_if_no_python()
  skip_if_no_package("car")
  both <- ecosystem_pair()
  calls <- list(
    vif = function(m) car::vif(m),
    Anova2 = function(m) as.data.frame(car::Anova(m)),
    Anova3 = function(m) as.data.frame(car::Anova(m, type = 3)),
    Anova_hc = function(m) as.data.frame(car::Anova(m, white.adjust = "hc3")),
    linearHypothesis = function(m) as.data.frame(car::linearHypothesis(m, "wt = hp")),
    linearHypothesis2 = function(m) {
      as.data.frame(car::linearHypothesis(m, c("factor(cyl)6 = 0", "factor(cyl)8 = 0")))
    },
    ncvTest = function(m) unlist(car::ncvTest(m)[c("ChiSquare", "Df", "p")]),
    outlierTest = function(m) unlist(car::outlierTest(m)[c("rstudent", "p", "bonf.p")]),
    durbinWatson = function(m) car::durbinWatsonTest(m, simulate = FALSE)$dw,
    powerTransform = function(m) car::boxCox(m, plotit = FALSE)
  )
  for (what in names(calls)) expect_same_call(calls[[what]], both, label = what)
  expect_equal(vcov(both$fit, complete = FALSE), vcov(both$ref, complete = FALSE),
    tolerance = 1e-9)
})

test_that("emmeans: marginal means and contrasts as for lm()", {
  skip_if_no_python()
  skip_if_no_package("emmeans")
  both <- ecosystem_pair()
  calls <- list(
    emmeans = function(m) as.data.frame(emmeans::emmeans(m, ~cyl)),
    pairs = function(m) as.data.frame(pairs(emmeans::emmeans(m, ~cyl))),
    emtrends = function(m) as.data.frame(emmeans::emtrends(m, ~cyl, var = "wt")),
    ref_grid = function(m) as.data.frame(summary(emmeans::ref_grid(m)))
  )
  for (what in names(calls)) expect_same_call(calls[[what]], both, label = what)
})

test_that("drop1, add1 and step on a weighted fit give lm()'s numbers", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp + qsec, mtcars, weights = cyl, seed = 1)
  ref <- lm(mpg ~ wt + hp + qsec, mtcars, weights = cyl)
  expect_equal(as.data.frame(drop1(fit, test = "F")), as.data.frame(drop1(ref, test = "F")),
    tolerance = 1e-9)
  expect_equal(as.data.frame(add1(fit, ~ . + disp + drat, test = "Chisq")),
    as.data.frame(add1(ref, ~ . + disp + drat, test = "Chisq")), tolerance = 1e-9)
  expect_equal(step(fit, trace = 0)$anova, step(ref, trace = 0)$anova, tolerance = 1e-9)
})

test_that("a fit that has not converged warns in the packages' views too", {
  skip_if_no_python()
  skip_if_no_package("sandwich")
  skip_if_no_package("car")
  slow <- suppressWarnings(lr_fit(mpg ~ wt + hp, mtcars, epochs = 2, precondition = "none",
    lr = 1e-6, seed = 1))
  warned <- function(expr) { # other packages' functions may read the residuals twice
    n <- 0L
    withCallingHandlers(expr, lrtiers_convergence_warning = function(w) {
      n <<- n + 1L
      invokeRestart("muffleWarning")
    })
    n
  }
  expect_gte(warned(sandwich::vcovHC(slow)), 1L)
  expect_gte(warned(car::outlierTest(slow)), 1L)
  # bptest() refits by least squares from the model matrix and response: lm()'s numbers,
  # whatever the fit, and no view of its coefficients
  expect_identical(warned(lmtest::bptest(slow)), 0L)
})
