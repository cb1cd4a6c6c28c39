# lm()'s whole toolbox on an lr_fit (R/lm-parts.R): every generic an lm() user calls next,
# against the same call on lm(): the same numbers, the same printed form.

toolbox_pair <- function(formula = mpg ~ wt + hp + factor(cyl), data = mtcars, ...) {
  list(
    fit = lr_fit(formula, data, seed = 1, ...),
    ref = lm(formula, data, ...)
  )
}

# Each generic, called the same way on both; printed ones compared line for line
toolbox_calls <- list(
  pearson = function(m) residuals(m, type = "pearson"),
  working = function(m) residuals(m, type = "working"),
  response = function(m) residuals(m, type = "response"),
  partial = function(m) residuals(m, type = "partial"),
  deviance = function(m) residuals(m, type = "deviance"),
  rstandard_predictive = function(m) rstandard(m, type = "predictive"),
  predict_terms = function(m) predict(m, type = "terms"),
  predict_terms_new = function(m) predict(m, mtcars[1:4, ], type = "terms", se.fit = TRUE),
  dffits = function(m) dffits(m),
  influence_measures = function(m) influence.measures(m)$infmat,
  influence_flags = function(m) influence.measures(m)$is.inf,
  lm_influence = function(m) lm.influence(m),
  covratio = function(m) covratio(m),
  dfbetas = function(m) dfbetas(m),
  dfbeta = function(m) dfbeta(m),
  dummy_coef = function(m) unlist(dummy.coef(m)),
  effects = function(m) effects(m),
  kappa = function(m) kappa(m),
  kappa_exact = function(m) kappa(m, exact = TRUE),
  qr = function(m) qr(m)[c("qr", "qraux", "pivot", "rank")],
  proj = function(m) proj(m),
  extractAIC = function(m) extractAIC(m),
  extractAIC_k = function(m) extractAIC(m, k = log(32)),
  drop1 = function(m) as.data.frame(drop1(m, test = "F")),
  add1 = function(m) as.data.frame(add1(m, ~ . + qsec + disp, test = "F")),
  anova = function(m) as.data.frame(anova(m)),
  vcov = function(m) vcov(m),
  vcov_incomplete = function(m) vcov(m, complete = FALSE),
  labels = function(m) labels(m),
  case_names = function(m) case.names(m),
  variable_names = function(m) variable.names(m),
  simulate = function(m) {
    set.seed(7)
    simulate(m, nsim = 2)
  },
  confidence_partial = function(m) predict(m, mtcars[1:3, ], interval = "conf")
)

test_that("every generic of lm()'s toolbox gives lm()'s numbers", {
  skip_if_no_python()
  both <- toolbox_pair()
  expect_s3_class(both$fit, c("lr_fit", "lm"), exact = TRUE)
  expect_true(both$fit$converged)
  for (what in names(toolbox_calls)) {
    got <- toolbox_calls[[what]](both$fit)
    want <- toolbox_calls[[what]](both$ref)
    expect_equal(got, want, tolerance = 1e-9, label = what)
  }
})

test_that("the toolbox prints as lm()'s", {
  skip_if_no_python()
  both <- toolbox_pair()
  small <- lr_fit(mpg ~ wt, mtcars, seed = 1)
  small_ref <- lm(mpg ~ wt, mtcars)
  printed <- list(
    drop1 = function(m) drop1(m, test = "F"),
    add1 = function(m) add1(m, ~ . + qsec + disp, test = "F"),
    anova = function(m) anova(m),
    alias = function(m) alias(mpg ~ wt + I(2 * wt) + hp, mtcars),
    dummy_coef = function(m) dummy.coef(m),
    influence_summary = function(m) summary(influence.measures(m))
  )
  for (what in names(printed)) {
    got <- capture.output(printed[[what]](both$fit))
    want <- capture.output(printed[[what]](both$ref))
    calls <- grepl("^\t (lr_fit|lm)\\(", want) # the call it names: lr_fit(...) or lm(...)
    expect_identical(got[!calls], want[!calls], label = what)
  }
  # the nested tests anova.lm() runs: F by default, Chisq and Cp on request
  for (test in c("F", "Chisq", "Cp")) {
    got <- capture.output(anova(small, both$fit, test = test))
    want <- capture.output(anova(small_ref, both$ref, test = test))
    expect_identical(got[-(3:4)], want[-(3:4)], label = test) # the Model lines: lr_fit/lm
    expect_identical(got[3:4], want[3:4])
  }
  rank_deficient <- lr_fit(mpg ~ wt + I(2 * wt) + hp, mtcars, seed = 1)
  expect_identical(capture.output(alias(rank_deficient)),
    capture.output(alias(lm(mpg ~ wt + I(2 * wt) + hp, mtcars))))
})

test_that("step() walks the same models as on lm() and lands on the same formula", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp + qsec + drat + factor(cyl), mtcars, seed = 1)
  ref <- lm(mpg ~ wt + hp + qsec + drat + factor(cyl), mtcars)
  got <- step(fit, trace = 0)
  want <- step(ref, trace = 0)
  expect_s3_class(got, "lr_fit")
  expect_equal(formula(got), formula(want), ignore_attr = TRUE)
  expect_equal(got$anova, want$anova, tolerance = 1e-9)
  expect_equal(coef(got), coef(want), tolerance = 1e-9)
  both <- step(lr_fit(mpg ~ wt, mtcars, seed = 1), ~ wt + hp + qsec, direction = "both",
    trace = 0)
  expect_equal(formula(both),
    formula(step(lm(mpg ~ wt, mtcars), ~ wt + hp + qsec, direction = "both", trace = 0)),
    ignore_attr = TRUE)
})

test_that("weighted fits, zero weights and na.exclude: lm()'s rows, padding and numbers", {
  skip_if_no_python()
  cars_na <- mtcars
  cars_na$hp[c(3, 17)] <- NA
  zero <- ifelse(mtcars$am == 1, 0, mtcars$cyl)
  cases <- list(
    weighted = list(mpg ~ wt + hp, mtcars, weights = mtcars$cyl),
    zero_weights = list(mpg ~ wt + hp, mtcars, weights = zero),
    exclude = list(mpg ~ wt + hp, cars_na, na.action = na.exclude),
    exclude_weighted = list(mpg ~ wt + hp, cars_na, na.action = na.exclude,
      weights = mtcars$cyl)
  )
  calls <- list(
    coef = coef, residuals = residuals, fitted = fitted, weights = weights,
    hatvalues = hatvalues, rstandard = rstandard, rstudent = rstudent,
    cooks = cooks.distance, dffits = dffits, covratio = covratio, dfbetas = dfbetas,
    nobs = nobs, df.residual = df.residual, deviance = deviance, logLik = logLik, AIC = AIC,
    vcov = vcov, pearson = function(m) residuals(m, type = "pearson"),
    summary_coef = function(m) coef(summary(m)),
    summary_residuals = function(m) summary(m)$residuals,
    predict = function(m) predict(m, mtcars[1:5, ], interval = "prediction"),
    drop1 = function(m) as.data.frame(drop1(m)),
    extractAIC = extractAIC
  )
  for (name in names(cases)) {
    case <- cases[[name]]
    fit <- do.call(lr_fit, c(case, seed = 1))
    ref <- do.call(lm, case)
    expect_true(fit$converged, label = name)
    for (what in names(calls)) {
      got <- suppressWarnings(calls[[what]](fit))
      want <- suppressWarnings(calls[[what]](ref))
      expect_equal(got, want, tolerance = 1e-9, label = paste(name, what))
    }
    residual_lines <- function(m) {
      out <- capture.output(summary(m))
      out[grep("Residuals:$", out) + 0:2]
    }
    expect_identical(residual_lines(fit), residual_lines(ref), label = name)
  }
  # zero weights: those rows take no part in the fit, yet have residuals, as lm.wfit()
  fit <- lr_fit(mpg ~ wt + hp, mtcars, weights = zero, seed = 1)
  expect_identical(nobs(fit), sum(zero != 0))
  expect_length(residuals(fit), 32L)
  expect_identical(fit$n_train, sum(zero != 0))
  ref <- lm(mpg ~ wt + hp, mtcars, weights = zero)
  glanced <- glance(fit)
  skip_if_no_package("broom")
  for (column in c("r.squared", "adj.r.squared", "sigma", "statistic", "p.value", "logLik",
    "AIC", "BIC", "deviance", "df.residual", "nobs")) {
    expect_equal(glanced[[column]], as.numeric(broom::glance(ref)[[column]]), tolerance = 1e-9,
      label = column)
  }
})

test_that("calls lm() accepts: no data, y ~ 1, contrasts, x/y/model/qr, offsets in x/y fits", {
  skip_if_no_python()
  xx <- c(1.5, 2.7, 3.1, 4.8, 5.2, 6.9, 7.4, 8.8)
  yy <- c(2.1, 3.9, 4.2, 7.8, 8.1, 11.2, 11.8, 14.1)
  expect_equal(coef(lr_fit(yy ~ xx)), coef(lm(yy ~ xx)), tolerance = 1e-9)

  mean_fit <- lr_fit(mpg ~ 1, mtcars)
  mean_ref <- lm(mpg ~ 1, mtcars)
  expect_equal(coef(mean_fit), coef(mean_ref), tolerance = 1e-12)
  expect_equal(coef(summary(mean_fit)), coef(summary(mean_ref)), tolerance = 1e-9)
  expect_equal(predict(mean_fit, mtcars[1:3, ]), predict(mean_ref, mtcars[1:3, ]),
    tolerance = 1e-12)
  expect_equal(hatvalues(mean_fit), hatvalues(mean_ref), tolerance = 1e-12)
  path <- withr::local_tempfile(fileext = ".json")
  lr_save(mean_fit, path)
  expect_equal(predict(lr_load(path), mtcars[1:3, ]), predict(mean_ref, mtcars[1:3, ]),
    tolerance = 1e-12)

  contrasts <- list(`factor(cyl)` = "contr.sum")
  fit <- lr_fit(mpg ~ wt + factor(cyl), mtcars, contrasts = contrasts)
  ref <- lm(mpg ~ wt + factor(cyl), mtcars, contrasts = contrasts)
  expect_equal(coef(fit), coef(ref), tolerance = 1e-9)
  expect_identical(fit$contrasts, ref$contrasts)
  expect_equal(predict(fit, mtcars[c(1, 3, 5), ]), predict(ref, mtcars[c(1, 3, 5), ]),
    tolerance = 1e-9)
  expect_error(lr_fit(mpg ~ wt, mtcars, contrasts = "contr.sum"), "named list",
    class = "lrtiers_argument_error")
  path <- withr::local_tempfile(fileext = ".csv")
  utils::write.csv(mtcars, path, row.names = FALSE)
  expect_error(lr_fit(mpg ~ wt, path, x = TRUE), "`x` cannot be used",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(mpg ~ wt, path, contrasts = list(cyl = "contr.sum")),
    "`contrasts` cannot be used", class = "lrtiers_argument_error")

  # x = TRUE binds to the generic's x, as lm(formula, data, x = TRUE) reads
  fit <- lr_fit(mpg ~ wt + factor(cyl), mtcars, x = TRUE, y = TRUE)
  ref <- lm(mpg ~ wt + factor(cyl), mtcars, x = TRUE, y = TRUE)
  expect_identical(fit$x, ref$x)
  expect_identical(fit$y, ref$y)
  expect_null(lr_fit(mpg ~ wt, mtcars)$x)
  expect_identical(lr_fit(data = mtcars, weights = cyl, x = TRUE, formula = mpg ~ wt)$x,
    lm(data = mtcars, weights = cyl, x = TRUE, formula = mpg ~ wt)$x)
  no_model <- lr_fit(mpg ~ wt, mtcars, model = FALSE)
  expect_null(no_model$model)
  expect_equal(hatvalues(no_model), hatvalues(lm(mpg ~ wt, mtcars)), tolerance = 1e-12)
  expect_error(hatvalues(lr_fit(mpg ~ wt, mtcars, qr = FALSE)), "qr")

  expect_equal(predict(fit, mtcars[1:2, ], interval = "conf"),
    predict(ref, mtcars[1:2, ], interval = "conf"), tolerance = 1e-9)

  x <- as.matrix(mtcars[, c("wt", "hp")])
  offset <- mtcars$qsec / 4
  xy <- lr_fit(x, mtcars$mpg, offset = offset)
  ref <- lm.fit(cbind("(Intercept)" = 1, x), mtcars$mpg, offset = offset)
  expect_equal(coef(xy), coef(ref), tolerance = 1e-9)
  expect_equal(unname(fitted(xy)), unname(ref$fitted.values), tolerance = 1e-9)
  expect_equal(unname(predict(xy, x[1:3, ], offset = offset[1:3])),
    unname(ref$fitted.values[1:3]), tolerance = 1e-9)
  expect_error(predict(xy, x[1:3, ]), "offset", class = "lrtiers_argument_error")

  # an x/y fit's summary(), vcov() and intervals: lm()'s on the same columns
  xy <- lr_fit(x, mtcars$mpg)
  ref <- lm(mtcars$mpg ~ x)
  expect_equal(unname(vcov(xy)), unname(vcov(ref)), tolerance = 1e-9)
  expect_equal(unname(coef(summary(xy))), unname(coef(summary(ref))), tolerance = 1e-9)
  expect_equal(summary(xy)$fstatistic, summary(ref)$fstatistic, tolerance = 1e-9)
  expect_equal(unname(confint(xy)), unname(confint(ref)), tolerance = 1e-9)
  expect_equal(unname(predict(xy, x[1:2, ], interval = "confidence")),
    unname(predict(ref, interval = "confidence")[1:2, ]), tolerance = 1e-9)
})

test_that("labels(), case.names() and update() of a loaded fit, as lm()", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp + factor(cyl), mtcars, seed = 1)
  ref <- lm(mpg ~ wt + hp + factor(cyl), mtcars)
  expect_identical(labels(fit), labels(ref))
  expect_identical(case.names(fit), case.names(ref))
  path <- withr::local_tempfile(fileext = ".json")
  lr_save(fit, path)
  loaded <- lr_load(path)
  expect_equal(getCall(loaded), fit$call)
  smaller <- update(loaded, . ~ . - hp)
  expect_equal(coef(smaller), coef(lm(mpg ~ wt + factor(cyl), mtcars)), tolerance = 1e-9)
  expect_equal(extractAIC(loaded), extractAIC(ref), tolerance = 1e-9)
  expect_false(inherits(loaded, "lm")) # no rows: lm()'s methods that need them would fail
})

test_that("a fit that has not converged warns in every view of the toolbox", {
  skip_if_no_python()
  slow <- suppressWarnings(lr_fit(mpg ~ wt + hp, mtcars, epochs = 2, precondition = "none",
    lr = 1e-6, seed = 1))
  expect_false(slow$converged)
  views <- list(
    residuals = function(m) residuals(m, type = "pearson"),
    hatvalues = hatvalues, dffits = dffits, covratio = covratio, dfbetas = dfbetas,
    influence_measures = influence.measures, cooks = cooks.distance,
    drop1 = drop1, extractAIC = extractAIC, effects_print = function(m) print(proj(m)),
    anova = anova, summary = summary, confint = confint,
    predict_terms = function(m) predict(m, type = "terms"),
    simulate = function(m) simulate(m, seed = 1),
    plot = function(m) {
      grDevices::pdf(NULL)
      on.exit(grDevices::dev.off())
      plot(m, which = 1)
    }
  )
  for (what in names(views)) {
    expect_warning(capture.output(views[[what]](slow)), "has not converged",
      class = "lrtiers_convergence_warning", label = what)
  }
  # once per call of a view, though stats' methods read the residuals several times
  count <- function(expr) {
    n <- 0L
    withCallingHandlers(expr, lrtiers_convergence_warning = function(w) {
      n <<- n + 1L
      invokeRestart("muffleWarning")
    })
    n
  }
  expect_identical(count(influence.measures(slow)), 1L)
  expect_identical(count(influence.measures(slow)), 1L) # the next call warns again
  expect_identical(count(drop1(slow)), 1L)
})

test_that("influence measures from the QR: within 1e-9 of lm()'s on a nearly collinear design", {
  skip_if_no_python()
  x <- 10001:10030
  set.seed(3)
  d <- data.frame(x = x, y = 1 + 0.5 * x - 2e-5 * x^2 + rnorm(30))
  fit <- lr_fit(y ~ x + I(x^2), d, seed = 1)
  ref <- lm(y ~ x + I(x^2), d)
  expect_true(fit$converged)
  relative <- function(a, b) max(abs(a - b)) / max(abs(b))
  measures <- list(hatvalues = hatvalues, cooks = cooks.distance, rstandard = rstandard,
    rstudent = rstudent, dfbeta = dfbeta, sigma_i = function(m) influence(m)$sigma,
    vcov = vcov, se = function(m) coef(summary(m))[, 2],
    predict_se = function(m) predict(m, d[1:5, ], se.fit = TRUE)$se.fit)
  for (what in names(measures)) {
    expect_lt(relative(measures[[what]](fit), measures[[what]](ref)), 1e-9, label = what)
  }
})

test_that("multi-output fits answer where lm() (mlm) does", {
  skip_if_no_python()
  formula <- cbind(apples, oranges) ~ temp + rainfall + humidity
  fit <- lr_fit(formula, crop_yields, seed = 0)
  ref <- lm(formula, crop_yields)
  expect_s3_class(fit, c("lr_fit", "mlm", "lm"), exact = TRUE)
  calls <- list(
    coef = coef, vcov = vcov, hatvalues = hatvalues, residuals = residuals, fitted = fitted,
    rstandard = rstandard, cooks = cooks.distance, influence_hat = function(m) influence(m)$hat,
    confint = confint, anova = function(m) as.data.frame(anova(m)),
    summary = function(m) lapply(summary(m), coef), sigma = sigma, deviance = deviance,
    predict = function(m) predict(m, crop_yields[1:3, ]), effects = effects
  )
  for (what in names(calls)) {
    want <- tryCatch(calls[[what]](ref), error = function(e) e)
    if (inherits(want, "error")) {
      expect_error(calls[[what]](fit), label = what)
    } else {
      # anova.mlm()'s Pillai trace is near 1 here: its approx F amplifies the last digits
      expect_equal(calls[[what]](fit), want, tolerance = if (what == "anova") 1e-6 else 1e-8,
        label = what, ignore_attr = what == "predict")
    }
  }
})
