# What prediction needs is kept in the fit and in its file (terms with predvars, factor
# levels, contrasts, offsets); weights and offsets as lm() has them; x/y new data matched by
# name; validation fits' fitted values for the training rows. Compared with lm() live.

prediction_cases <- function() {
  list(
    poly = list(formula = mpg ~ poly(hp, 2) + wt, data = mtcars, rows = c(1, 15, 20)),
    scale = list(formula = mpg ~ scale(hp) + wt, data = mtcars, rows = 1),
    ns = list(formula = mpg ~ splines::ns(hp, 3) + wt, data = mtcars, rows = c(1, 15, 20)),
    log_factor = list(formula = mpg ~ log(disp) + factor(cyl), data = mtcars, rows = c(3, 5)),
    contrast_fun = list(formula = Sepal.Length ~ C(Species, contr.sum) + Petal.Width,
      data = iris, rows = c(1, 51, 101)),
    contrast_matrix = list(formula = Sepal.Length ~ C(Species, contr.helmert) * Petal.Width,
      data = iris, rows = c(2, 60, 140)),
    offset_term = list(formula = mpg ~ wt + offset(log(qsec)), data = mtcars, rows = 4:6),
    offset_arg = list(formula = mpg ~ wt, data = mtcars, offset = quote(qsec / 3), rows = 4:6),
    weighted = list(formula = mpg ~ wt + hp, data = mtcars, weights = quote(1 / cyl),
      rows = 7:9)
  )
}

test_that("a fit and the fit read back from its file predict as lm() does", {
  skip_if_no_python()
  for (name in names(prediction_cases())) {
    case <- prediction_cases()[[name]]
    rows <- case$rows
    case$rows <- NULL
    new <- case$data[rows, , drop = FALSE]
    fit <- suppressWarnings(do.call(lr_fit, c(case, list(seed = 1))))
    want <- suppressWarnings(predict(do.call(lm, case), new))
    expect_equal(suppressWarnings(predict(fit, new)), want, tolerance = 1e-7, label = name)
    path <- withr::local_tempfile(fileext = ".json")
    lr_save(fit, path)
    back <- lr_load(path)
    expect_identical(suppressWarnings(predict(back, new)), suppressWarnings(predict(fit, new)),
      label = paste(name, "read back"))
  }
})

test_that("a fit made under options(contrasts =) keeps its coding after the option changes", {
  skip_if_no_python()
  withr::with_options(list(contrasts = c("contr.sum", "contr.poly")), {
    fit <- lr_fit(Sepal.Length ~ Species + Petal.Width, iris, seed = 1)
    ref <- lm(Sepal.Length ~ Species + Petal.Width, iris)
  })
  new <- iris[c(1, 51, 101), ]
  expect_equal(predict(fit, new), predict(ref, new), tolerance = 1e-7)
  path <- withr::local_tempfile(fileext = ".json")
  lr_save(fit, path)
  expect_identical(predict(lr_load(path), new), predict(fit, new))
})

test_that("the formula section survives Python's load and save verbatim", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ poly(hp, 2) + wt, data = mtcars, seed = 1)
  path <- withr::local_tempfile(fileext = ".json")
  again <- withr::local_tempfile(fileext = ".json")
  lr_save(fit, path)
  py()$load_fit(path)$save(again)
  section <- function(p) jsonlite::parse_json(paste(readLines(p), collapse = "\n"))$formula
  expect_identical(section(again), section(path))
  expect_true(all(c("formula", "predvars", "xlevels", "contrasts") %in% names(section(path))))
  expect_identical(predict(lr_load(again), mtcars[1:3, ]), predict(fit, mtcars[1:3, ]))
})

test_that("weights: weighted least squares in every tier, as lm(weights = )", {
  skip_if_no_python()
  ref <- lm(mpg ~ wt + hp, data = mtcars, weights = cyl)
  for (tier in lr_tiers()) {
    fit <- lr_fit(mpg ~ wt + hp, data = mtcars, weights = cyl, tier = tier, seed = 1)
    expect_lm_digits(fit, ref, label = tier)
    expect_equal(weights(fit), weights(ref), ignore_attr = TRUE)
    expect_equal(summary(fit)$coefficients, coef(summary(ref)), tolerance = 1e-6)
  }
  xy <- lr_fit(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, weights = mtcars$cyl, seed = 1)
  expect_lm_digits(xy, lm(mpg ~ wt + hp, data = mtcars, weights = cyl))
  # the same bits from R and from Python
  py_fit <- py()$lr_fit(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg,
    weights = mtcars$cyl, seed = 1L)
  expect_same_bits(coef(xy), c(to_r(py_fit$bias), to_r(py_fit$weight)))
})

test_that("weights and offsets are checked", {
  skip_if_no_python()
  cases <- list(
    list(args = list(weights = quote(cyl - 5)), class = "lrtiers_value_error",
      regexp = "finite and not negative; 11 are not"),
    list(args = list(weights = quote(cyl * 0)), class = "lrtiers_value_error",
      regexp = "all 0"),
    list(args = list(weights = quote(cyl * Inf)), class = "lrtiers_value_error",
      regexp = "finite and not negative; 32 are not \\(rows 1, 2, 3, 4, 5, ...\\)"),
    list(args = list(weights = quote(as.character(cyl))), class = "lrtiers_type_error",
      regexp = "numeric vector"),
    list(args = list(offset = quote(c(1, 2))), class = "lrtiers_formula_error",
      regexp = "offset")
  )
  for (case in cases) {
    expect_error(do.call(lr_fit, c(list(mpg ~ wt, data = mtcars), case$args)), case$regexp,
      class = case$class)
  }
  expect_error(lr_fit(mtcars[, c("wt", "hp")], mtcars$mpg, weights = 1:3),
    "one value per row \\(32\\)", class = "lrtiers_value_error")
})

test_that("x/y fits match newdata's columns by name, and say so when they differ", {
  skip_if_no_python()
  fit <- lr_fit(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, seed = 1)
  ref <- lm(mpg ~ wt + hp, data = mtcars)
  swapped <- mtcars[1:3, c("hp", "wt")]
  expect_equal(predict(fit, swapped), predict(ref, mtcars[1:3, ]), tolerance = 1e-7)
  expect_error(predict(fit, data.frame(a = 1, b = 2)), "lacks columns used in the fit: wt, hp",
    class = "lrtiers_data_error")
  expect_error(predict(fit, data.frame(wt = 1, b = 2)), "lacks column used in the fit: hp",
    class = "lrtiers_data_error")
  unnamed <- unname(as.matrix(mtcars[1:3, c("wt", "hp")]))
  expect_equal(unname(predict(fit, unnamed)), unname(predict(ref, mtcars[1:3, ])),
    tolerance = 1e-7)
})

test_that("a validation fit's fitted values and residuals cover its training rows", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1, validation = 0.2)
  expect_identical(nobs(fit), 25L)
  expect_length(fitted(fit), 25L)
  expect_length(residuals(fit), 25L)
  expect_identical(nrow(augment(fit)), 25L)
  rows <- names(fitted(fit))
  ref <- lm(mpg ~ wt + hp, data = mtcars[rows, ])
  expect_lm_digits(fit, ref)
  expect_equal(fitted(fit), fitted(ref), tolerance = 1e-7)
  expect_equal(summary(fit)$r.squared, summary(ref)$r.squared, tolerance = 1e-7)
  xy <- lr_fit(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg, seed = 1, validation = 0.2)
  expect_length(fitted(xy), 25L)
  expect_equal(unname(fitted(xy)), unname(fitted(fit)), tolerance = 1e-10)
})

test_that("predict() costs the same after 10 epochs and after 20,000", {
  skip_if_no_python()
  short <- suppressWarnings(lr_fit(mpg ~ wt + hp, data = mtcars, epochs = 10,
    stop_when_converged = FALSE, seed = 1))
  long <- suppressWarnings(lr_fit(mpg ~ wt + hp, data = mtcars, epochs = 20000,
    stop_when_converged = FALSE, seed = 1))
  new <- mtcars[1:3, ]
  suppressWarnings({
    predict(short, new)
    predict(long, new) # the first call builds the predictor
  })
  time_of <- function(fit) {
    median(vapply(1:20, function(i) {
      system.time(suppressWarnings(predict(fit, new)))[["elapsed"]]
    }, numeric(1)))
  }
  expect_lt(time_of(long), 0.05) # about 3 ms here; lrtiers 0.2.0 took 3 s
  expect_lt(time_of(long), time_of(short) + 0.01)
  expect_null(long$core$history) # the history is kept once, as a data frame
  expect_identical(nrow(long$history), 20000L)
})
