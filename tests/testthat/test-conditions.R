# One condition class per kind of mistake, messages in R's conventions: a table of
# mistakes, each with the class it must have; the messages are snapshots.

mistakes <- function() {
  x <- as.matrix(mtcars[, c("wt", "hp")])
  with_inf <- transform(mtcars, wt = ifelse(seq_along(wt) == 3, Inf, wt))
  list(
    # kind: argument
    list(quote(lr_fit(mpg ~ wt, mtcars, epoch = 10)), "lrtiers_argument_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, "numpy")), "lrtiers_argument_error"),
    list(quote(lr_fit(mpg ~ wt)), "lrtiers_formula_error"),
    list(quote(lr_fit(x)), "lrtiers_argument_error"),
    list(quote(lr_fit("a")), "lrtiers_argument_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, callback = 1)), "lrtiers_argument_error"),
    # kind: value (R's checks and the core's, in R's conventions)
    list(quote(lr_fit(mpg ~ wt, mtcars, standardize = "yes")), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, standardize = TRUE, precondition = "none")),
      "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, lr = "fast")), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, tier = "keras")), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, epochs = -1)), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, epochs = 1.5)), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, seed = 2^33)), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt + hp, mtcars, init = list(weight = 1:3))), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, optimizer = "lbfgs", tier = "numpy")),
      "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, weights = -cyl)), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt, mtcars, progress = NA)), "lrtiers_value_error"),
    list(quote(lr_fit(mpg ~ wt - 1, mtcars, intercept = TRUE)), "lrtiers_value_error"),
    # kind: data
    list(quote(lr_fit(mpg ~ wt, with_inf)), "lrtiers_data_error"),
    list(quote(lr_fit(mpg ~ x, data.frame(mpg = 1:3, x = NA_real_))), "lrtiers_data_error"),
    list(quote(lr_fit(y ~ x, data.frame(y = 1:3, x = c(1, NA, 3)), na.action = na.fail)),
      "lrtiers_data_error"),
    list(quote(lr_fit(mpg ~ nonesuch, mtcars)), "lrtiers_data_error"),
    list(quote(lr_fit(x, mtcars$mpg[-1])), "lrtiers_data_error"),
    list(quote(lr_fit(data.frame(a = letters[1:3]), 1:3)), "lrtiers_data_error"),
    list(quote(lr_fit(x, ifelse(seq_len(32) == 5, NA, mtcars$mpg))), "lrtiers_data_error"),
    # kind: divergence
    list(quote(suppressWarnings(lr_fit(mpg ~ wt + hp, mtcars, lr = 1, precondition = "none",
      epochs = 100, seed = 1))), "lrtiers_divergence_error")
  )
}

test_that("each kind of mistake has its class, and a message in R's conventions", {
  skip_if_no_python()
  env <- environment()
  local({
    x <- as.matrix(mtcars[, c("wt", "hp")])
    with_inf <- transform(mtcars, wt = ifelse(seq_along(wt) == 3, Inf, wt))
    for (mistake in mistakes()) {
      expect_error(eval(mistake[[1]]), class = mistake[[2]],
        label = deparse1(mistake[[1]]))
    }
  })
  # no Python spelling left in any message
  messages <- local({
    x <- as.matrix(mtcars[, c("wt", "hp")])
    with_inf <- transform(mtcars, wt = ifelse(seq_along(wt) == 3, Inf, wt))
    vapply(mistakes(), function(m) tryCatch({
      eval(m[[1]])
      ""
    }, error = conditionMessage), character(1))
  })
  for (python_spelling in c("=True", "=False", "=None", "='", "0-based", "**", "shape (",
    "got shape", "is empty")) {
    expect_false(any(grepl(python_spelling, messages, fixed = TRUE)), label = python_spelling)
  }
})

test_that("the messages, as users see them", {
  skip_if_no_python()
  x <- as.matrix(mtcars[, c("wt", "hp")])
  with_inf <- transform(mtcars, wt = ifelse(seq_along(wt) == 3, Inf, wt))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt, mtcars, epoch = 10))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt, mtcars, standardize = "yes"))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt, mtcars, standardize = TRUE,
    precondition = "none"))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt, mtcars, lr = "fast"))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt, mtcars, seed = 2^33))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt + hp, mtcars, init = list(weight = 1:3)))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt, with_inf))
  expect_snapshot(error = TRUE, lr_fit(x, ifelse(seq_len(32) %in% c(5, 9), NA, mtcars$mpg)))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ x, data.frame(mpg = 1:3, x = NA_real_)))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt, mtcars, weights = cyl - 6))
  expect_snapshot(error = TRUE, lr_fit(mpg ~ wt, mtcars, optimizer = "lbfgs", tier = "numpy"))
  fit <- lr_fit(x, mtcars$mpg, seed = 1)
  expect_snapshot(error = TRUE, predict(fit, data.frame(weight = 3, hp = 100)))
})

test_that("a one-row data frame fits as lm() fits it", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt, mtcars[1, ], seed = 1)
  expect_lm_digits(fit, lm(mpg ~ wt, mtcars[1, ]))
})

test_that("the core's errors are classified by their attributes, never by their messages", {
  skip_if_no_python()
  raise <- function(code) {
    tryCatch(lrtiers:::with_core_conditions(reticulate::py_run_string(paste0(
      "from lrtiers.errors import *\n", code
    ))), lrtiers_error = identity)
  }
  # a message that reads like a setting's, in an untyped error: not a value error
  plain <- raise("raise ValueError('epochs must be >= 0; got -1')")
  expect_s3_class(plain, "lrtiers_data_error")
  expect_false(inherits(plain, "lrtiers_value_error"))
  # a typed one, whatever its words
  typed <- raise("raise SettingError('epochs', 'no good')")
  expect_s3_class(typed, "lrtiers_value_error")
  expect_identical(typed$setting, "epochs")
  expect_identical(conditionMessage(typed), "no good.")
  expect_s3_class(raise("raise UnknownSettingError('epoch', 'what')"), "lrtiers_argument_error")
  expect_s3_class(raise("raise DataTypeError('text')"), "lrtiers_type_error")
  expect_s3_class(raise("raise DataTypeError('text')"), "lrtiers_data_error")
})

test_that("rows from the core are R's, 1-based, in the condition and its message", {
  skip_if_no_python()
  x <- as.matrix(mtcars[, c("wt", "hp")])
  x[c(4, 8), 2] <- NaN
  err <- tryCatch(lrtiers:::with_core_conditions(lrtiers:::core()$lr_fit(x, mtcars$mpg)),
    lrtiers_error = identity)
  expect_s3_class(err, "lrtiers_na_error")
  expect_s3_class(err, "lrtiers_data_error")
  expect_identical(err$rows, c(4L, 8L))
  expect_match(conditionMessage(err), "(rows 4, 8)", fixed = TRUE)
  expect_no_match(conditionMessage(err), "0-based")
  weights <- rep(1, 32)
  weights[c(1, 9)] <- 0
  err <- tryCatch(lrtiers:::with_core_conditions(
    lrtiers:::core()$lr_fit(as.matrix(mtcars[, "wt", drop = FALSE]), mtcars$mpg, weights = weights)
  ), lrtiers_error = identity)
  expect_s3_class(err, "lrtiers_value_error")
  expect_identical(err$setting, "weights")
  expect_identical(err$rows, c(1L, 9L))
  expect_match(conditionMessage(err), "^`weights` must be positive and finite; 2 are not \\(rows 1, 9\\)")
})

test_that("a non-finite value in a streamed file names R's row (the engine's StreamedValueError)", {
  skip_if_no_python()
  err <- tryCatch(lrtiers:::with_core_conditions(reticulate::py_run_string(paste0(
    "from lrtiers.errors import StreamedValueError\n",
    "raise StreamedValueError('/data/cars.parquet', 4, 'wt', float('nan'))"
  ))), lrtiers_error = identity)
  expect_s3_class(err, "lrtiers_na_error")
  expect_identical(err$rows, 5L)
  expect_identical(err$column, "wt")
  expect_identical(conditionMessage(err),
    "/data/cars.parquet: row 5, column \"wt\" holds nan: x and y must be finite numbers.")
})

test_that("init mistakes are value errors written from the InitError's part and shapes", {
  skip_if_no_python()
  err <- expect_error(lr_fit(mpg ~ wt + hp, mtcars, init = list(weight = matrix(1:2, 1),
    bias = c(1, 2))), class = "lrtiers_value_error")
  expect_identical(err$setting, "init")
  expect_identical(conditionMessage(err),
    "`init$bias` must have 1 value(s), one per output; got 2.")
  err <- expect_error(lr_fit(mpg ~ wt + hp, mtcars, init = list(weight = matrix(c(1, NaN), 1))),
    class = "lrtiers_value_error")
  expect_match(conditionMessage(err), "^`init\\$weight` must hold finite numbers")
})
