# lr_fit() on a file path: the core streams the rows (lrtiers.scan + lr_fit); R gets an
# ordinary lr_fit without the rows, and every method that needs them says so.

skip_if_no_streaming <- function() {
  skip_if_no_python()
  skip_if_not(reticulate::py_module_available("pyarrow"), "pyarrow is not installed")
}

#' A data frame as a Parquet file (pyarrow, without R's row names)
write_parquet <- function(data, path = withr::local_tempfile(fileext = ".parquet",
                                                          .local_envir = parent.frame())) {
  pa <- reticulate::import("pyarrow")
  pq <- reticulate::import("pyarrow.parquet")
  columns <- lapply(as.list(data), function(col) reticulate::np_array(col, dtype = "float64"))
  pq$write_table(pa$table(reticulate::dict(columns)), path)
  path
}

#' A numeric matrix as a 2-D .npy file (row-major), columns V1..Vk
write_npy <- function(m, path = withr::local_tempfile(fileext = ".npy",
                                                   .local_envir = parent.frame())) {
  np <- reticulate::import("numpy")
  np$save(path, np$ascontiguousarray(reticulate::np_array(unname(m), dtype = "float64")))
  path
}

cars <- function() mtcars[c("mpg", "wt", "hp", "qsec", "disp")]

test_that("a streamed Parquet fit is lm()'s answer and the in-memory fit's", {
  skip_if_no_streaming()
  path <- write_parquet(cars())
  fit <- lr_fit(mpg ~ wt + hp, data = path, seed = 1)
  ref <- lm(mpg ~ wt + hp, mtcars)
  mem <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
  expect_s3_class(fit, "lr_fit")
  expect_true(fit$converged)
  expect_equal(coef(fit), coef(ref), tolerance = 1e-7)
  expect_equal(coef(fit), coef(mem), tolerance = 1e-10)
  expect_equal(vcov(fit), vcov(mem), tolerance = 1e-10)
  expect_equal(confint(fit), confint(ref), tolerance = 1e-7)
  expect_equal(sigma(fit), sigma(ref), tolerance = 1e-7)
  expect_equal(deviance(fit), deviance(ref), tolerance = 1e-7)
  expect_equal(df.residual(fit), df.residual(ref))
  expect_equal(nobs(fit), 32L)
  expect_equal(as.numeric(logLik(fit)), as.numeric(logLik(ref)), tolerance = 1e-7)
  expect_equal(AIC(fit), AIC(ref), tolerance = 1e-7)
  expect_equal(BIC(fit), BIC(ref), tolerance = 1e-7)
  expect_equal(summary(fit)$coefficients, coef(summary(ref)), tolerance = 1e-6)
  expect_equal(formula(fit), mpg ~ wt + hp, ignore_attr = TRUE)
  expect_identical(fit$source$path, normalizePath(path))
  expect_identical(fit$source$kind, "parquet")
  expect_identical(fit$source$n_rows, 32)
  expect_null(fit$fitted.values)
  expect_null(fit$residuals)

  new <- mtcars[c(1, 10, 20), ]
  expect_equal(predict(fit, newdata = new), predict(ref, new), tolerance = 1e-7)
  expect_equal(predict(fit, newdata = new, interval = "prediction"),
    predict(ref, new, interval = "prediction"), tolerance = 1e-6)
  expect_equal(augment(fit, newdata = new)$.fitted, unname(predict(ref, new)), tolerance = 1e-7)

  tidied <- tidy(fit, conf.int = TRUE)
  expect_equal(tidied$estimate, unname(coef(ref)), tolerance = 1e-7)
  glanced <- glance(fit)
  expect_equal(glanced$sigma, sigma(ref), tolerance = 1e-7)
  expect_equal(glanced$nobs, 32L)
  expect_true(is.na(glanced$r.squared)) # needs the rows: NA, never a wrong number
})

test_that("y ~ ., no intercept, . - column and several outputs follow lm()", {
  skip_if_no_streaming()
  data <- cars()
  path <- write_parquet(data)
  dot <- lr_fit(mpg ~ ., data = path, seed = 1)
  expect_equal(coef(dot), coef(lm(mpg ~ ., data)), tolerance = 1e-7)
  expect_identical(names(coef(dot)), c("(Intercept)", "wt", "hp", "qsec", "disp"))

  no_int <- lr_fit(mpg ~ wt + hp - 1, data = path, seed = 1)
  expect_equal(coef(no_int), coef(lm(mpg ~ wt + hp - 1, data)), tolerance = 1e-7)
  expect_false(no_int$intercept)
  expect_equal(coef(lr_fit(mpg ~ 0 + wt, data = path, seed = 1)), coef(lm(mpg ~ 0 + wt, data)),
    tolerance = 1e-7)
  expect_equal(coef(lr_fit(mpg ~ . - disp, data = path, seed = 1)),
    coef(lm(mpg ~ . - disp, data)), tolerance = 1e-7)
  expect_equal(coef(lr_fit(mpg ~ wt + hp, data = path, intercept = FALSE, seed = 1)),
    coef(lm(mpg ~ wt + hp - 1, data)), tolerance = 1e-7)

  multi <- lr_fit(cbind(mpg, qsec) ~ wt + hp, data = path, seed = 1)
  ref <- lm(cbind(mpg, qsec) ~ wt + hp, data)
  expect_true(multi$multi)
  expect_equal(coef(multi), coef(ref), tolerance = 1e-7)
  expect_equal(predict(multi, newdata = data[1:3, ]), predict(ref, data[1:3, ]),
    tolerance = 1e-7)
  expect_equal(coef(lr_fit(cbind(mpg, qsec) ~ ., data = path, seed = 1)),
    coef(lm(cbind(mpg, qsec) ~ ., data)), tolerance = 1e-7)
})

test_that(".npy files: columns V1..Vk, the formula and the path/y forms", {
  skip_if_no_streaming()
  m <- as.matrix(cars())
  path <- write_npy(m)
  named <- as.data.frame(unname(m)) # V1 = mpg, V2 = wt, V3 = hp, V4 = qsec, V5 = disp
  fit <- lr_fit(V1 ~ V2 + V3, data = path, seed = 1)
  expect_identical(fit$source$kind, "npy")
  expect_equal(unname(coef(fit)), unname(coef(lm(mpg ~ wt + hp, mtcars))), tolerance = 1e-7)
  expect_equal(predict(fit, newdata = named[1:2, ]), predict(lm(V1 ~ V2 + V3, named), named[1:2, ]),
    tolerance = 1e-7)
  xy <- lr_fit(path, y = "V1", seed = 1)
  expect_identical(coef(xy), coef(lr_fit(V1 ~ ., data = path, seed = 1)))
  expect_equal(coef(xy), coef(lm(V1 ~ ., named)), tolerance = 1e-7)
  two <- lr_fit(path, y = c("V1", "V4"), seed = 1)
  expect_equal(coef(two), coef(lm(cbind(V1, V4) ~ ., named)), tolerance = 1e-7)
  # the same rows from Parquet and from .npy, the same bits
  expect_identical(unname(coef(fit)),
    unname(coef(lr_fit(mpg ~ wt + hp, data = write_parquet(cars()), seed = 1))))
})

test_that("R and Python give the same bits for the same file and settings", {
  skip_if_no_streaming()
  path <- write_parquet(cars())
  settings <- list(seed = 7, tier = "dataloader", batch_size = 8, epochs = 30,
    precondition = "scale", block_rows = 16)
  fit <- suppressWarnings(do.call(lr_fit, c(list(mpg ~ wt + hp + qsec, data = path), settings)))
  source <- py()$scan(path, x = list("wt", "hp", "qsec"), y = "mpg")
  python <- py_quietly(do.call(py()$lr_fit, c(list(source), settings)))
  expect_identical(unname(coef(fit)[-1]), as.vector(to_r(python$weight)))
  expect_identical(unname(coef(fit)[[1]]), as.vector(to_r(python$bias)))
  expect_identical(fit$history$loss, as.numeric(to_r(python$history$loss)))
  # chunk_rows sets what is read at a time, never the values
  small <- suppressWarnings(do.call(lr_fit,
    c(list(mpg ~ wt + hp + qsec, data = path, chunk_rows = 5), settings)))
  expect_identical(coef(small), coef(fit))
})

test_that("print() and summary() say the rows were streamed from the file", {
  skip_if_no_streaming()
  path <- write_parquet(cars())
  fit <- lr_fit(mpg ~ wt + hp, data = path, seed = 1)
  shown <- normalizePath(path)
  expect_output(print(fit), sprintf("32 rows streamed from %s", shown), fixed = TRUE)
  expect_output(print(summary(fit)), "rows streamed from", fixed = TRUE)
  expect_output(print(summary(fit)), "Std. Error", fixed = TRUE)
})

test_that("every method that needs the rows stops with lrtiers_data_not_in_memory", {
  skip_if_no_streaming()
  path <- write_parquet(cars())
  fit <- lr_fit(mpg ~ wt + hp, data = path, seed = 1)
  needs_rows <- list(
    fitted = function() fitted(fit),
    residuals = function() residuals(fit),
    resid = function() resid(fit),
    predict = function() predict(fit),
    predict_se = function() predict(fit, se.fit = TRUE),
    hatvalues = function() hatvalues(fit),
    cooks = function() cooks.distance(fit),
    rstandard = function() rstandard(fit),
    rstudent = function() rstudent(fit),
    influence = function() influence(fit),
    dfbeta = function() dfbeta(fit),
    model.frame = function() model.frame(fit),
    model.matrix = function() model.matrix(fit),
    anova = function() anova(fit),
    augment = function() augment(fit),
    augment_data = function() augment(fit, data = mtcars),
    plot = function() plot(fit, which = 1),
    plot_all = function() plot(fit, which = 1:6)
  )
  for (name in names(needs_rows)) {
    err <- expect_error(needs_rows[[name]](), class = "lrtiers_data_not_in_memory", label = name)
    expect_match(conditionMessage(err), normalizePath(path), fixed = TRUE, label = name)
    expect_match(conditionMessage(err), "32 rows", fixed = TRUE, label = name)
    expect_match(conditionMessage(err), "predict(fit, newdata = )", fixed = TRUE, label = name)
    expect_s3_class(err, "lrtiers_argument_error")
  }
  if (requireNamespace("ggplot2", quietly = TRUE)) {
    expect_error(ggplot2::autoplot(fit, which = 1), class = "lrtiers_data_not_in_memory")
    expect_s3_class(ggplot2::autoplot(fit, which = "loss"), "ggplot")
  }
  # what needs no rows still works: the loss curve, nested anova on the fits' RSS
  pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_invisible(plot(fit))
  expect_invisible(plot(fit, which = "loss"))
  small <- lr_fit(mpg ~ wt, data = path, seed = 1)
  expect_equal(anova(small, fit)$F, anova(lm(mpg ~ wt, mtcars), lm(mpg ~ wt + hp, mtcars))$F,
    tolerance = 1e-6)
  # update() reads the file again
  expect_equal(coef(update(fit, . ~ . + qsec)), coef(lm(mpg ~ wt + hp + qsec, mtcars)),
    tolerance = 1e-7)
})

test_that("a streamed fit saved and read back keeps its source, and still refuses", {
  skip_if_no_streaming()
  path <- write_parquet(cars())
  fit <- lr_fit(mpg ~ wt + hp, data = path, seed = 1)
  file <- withr::local_tempfile(fileext = ".json")
  lr_save(fit, file)
  back <- lr_load(file)
  expect_identical(back$source, fit$source)
  expect_identical(coef(back), coef(fit))
  expect_identical(predict(back, newdata = mtcars[1:3, ]), predict(fit, newdata = mtcars[1:3, ]))
  expect_error(fitted(back), "streamed from", class = "lrtiers_data_not_in_memory")
  # saveRDS keeps everything too
  rds <- withr::local_tempfile(fileext = ".rds")
  saveRDS(fit, rds)
  expect_error(residuals(readRDS(rds)), class = "lrtiers_data_not_in_memory")
})

test_that("what needs R to evaluate the rows is refused, naming it", {
  skip_if_no_streaming()
  path <- write_parquet(cars())
  refused <- function(expr, regexp, class) {
    expect_error(expr, regexp, class = class, fixed = TRUE)
  }
  refused(lr_fit(mpg ~ log(wt), data = path), "`log(wt)` is not a column", "lrtiers_formula_error")
  refused(lr_fit(mpg ~ wt + I(hp^2), data = path), "`I(hp^2)` is not a column",
    "lrtiers_formula_error")
  refused(lr_fit(mpg ~ wt * hp, data = path), "`wt:hp` is not a column", "lrtiers_formula_error")
  refused(lr_fit(mpg ~ factor(wt), data = path), "`factor(wt)`", "lrtiers_formula_error")
  refused(lr_fit(log(mpg) ~ wt, data = path), "the response `log(mpg)` is not a column",
    "lrtiers_formula_error")
  refused(lr_fit(mpg ~ wt + offset(hp), data = path), "`offset(hp)` cannot be used in the formula",
    "lrtiers_argument_error")
  refused(lr_fit(mpg ~ wt, data = path, weights = hp), "`weights` cannot be used",
    "lrtiers_argument_error")
  refused(lr_fit(mpg ~ wt, data = path, subset = hp > 100), "`subset` cannot be used",
    "lrtiers_argument_error")
  refused(lr_fit(mpg ~ wt, data = path, offset = hp), "`offset` cannot be used",
    "lrtiers_argument_error")
  refused(lr_fit(mpg ~ wt, data = path, na.action = na.omit), "`na.action` cannot be used",
    "lrtiers_argument_error")
  refused(lr_fit(path, y = "mpg", weights = mtcars$wt), "`weights` cannot be used",
    "lrtiers_argument_error")
  refused(lr_fit(mpg ~ wt + mpg, data = path), "mpg on both sides", "lrtiers_formula_error")
  refused(lr_fit(mpg ~ 1, data = path), "has no predictors", "lrtiers_formula_error")
  refused(lr_fit(mpg ~ wt, data = path, validation = mtcars), "can only be a fraction",
    "lrtiers_value_error")
  refused(lr_fit(mpg ~ wt, data = mtcars, chunk_rows = 10), "`chunk_rows` is for data given as a file path",
    "lrtiers_argument_error")
  refused(lr_fit(mpg ~ wt, data = path, chunk_rows = 0.5), "`chunk_rows` must be a whole number",
    "lrtiers_value_error")
})

test_that("missing files, unknown and non-numeric columns are errors in R's terms", {
  skip_if_no_streaming()
  path <- write_parquet(cars())
  missing <- file.path(tempdir(), "no-such-file.parquet")
  expect_error(lr_fit(mpg ~ wt, data = missing), "no file or directory \"[^\"]*no-such-file",
    class = "lrtiers_io_error")
  expect_error(lr_fit(missing, y = "mpg"), "`x` must be numeric features or the path of a file",
    class = "lrtiers_io_error")
  expect_error(lr_fit(mpg ~ wt, data = "mtcars"), "give the data frame itself, data = mtcars",
    fixed = TRUE, class = "lrtiers_argument_error")
  err <- expect_error(lr_fit(mpg ~ wgt + hp, data = path), class = "lrtiers_data_error")
  expect_match(conditionMessage(err), "has no column \"wgt\"", fixed = TRUE)
  expect_match(conditionMessage(err), sprintf("the file \"%s\"", normalizePath(path)), fixed = TRUE)
  expect_match(conditionMessage(err), "did you mean \"wt\"", fixed = TRUE)
  expect_no_match(conditionMessage(err), "^x:")
  expect_error(lr_fit(mileage ~ wt, data = path), "has no column \"mileage\"",
    class = "lrtiers_data_error")
  expect_error(lr_fit(path, y = "mileage"), "has no column \"mileage\"",
    class = "lrtiers_data_error")
  expect_error(lr_fit(c("a.parquet", "b.parquet"), y = "mpg"), "for data in a file, give its path",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(path), "`y` is missing", class = "lrtiers_argument_error")
  expect_error(lr_fit(path, y = 1), "response column name", class = "lrtiers_argument_error")
  expect_error(lr_fit(mpg ~ wt, data = c(path, path)), "one file path",
    class = "lrtiers_argument_error")
  # a string column is refused when used, and not in the way when not
  pa <- reticulate::import("pyarrow")
  pq <- reticulate::import("pyarrow.parquet")
  with_text <- withr::local_tempfile(fileext = ".parquet")
  pq$write_table(pa$table(reticulate::dict(
    name = as.list(rownames(mtcars)), mpg = mtcars$mpg, wt = mtcars$wt
  )), with_text)
  expect_equal(coef(lr_fit(mpg ~ wt, data = with_text, seed = 1)), coef(lm(mpg ~ wt, mtcars)),
    tolerance = 1e-7)
  expect_error(lr_fit(mpg ~ name + wt, data = with_text), "column \"name\"",
    class = "lrtiers_data_error")
})

test_that("`~` in the path is expanded; a directory of Parquet files is one table", {
  skip_if_no_streaming()
  home <- withr::local_tempdir()
  withr::local_envvar(HOME = home)
  skip_if_not(path.expand("~") == home, "path.expand() does not follow HOME here")
  write_parquet(cars(), file.path(home, "cars.parquet"))
  fit <- lr_fit(mpg ~ wt, data = "~/cars.parquet", seed = 1)
  expect_identical(fit$source$path, normalizePath(file.path(home, "cars.parquet")))
  parts <- file.path(home, "parts")
  dir.create(parts)
  write_parquet(cars()[1:16, ], file.path(parts, "a.parquet"))
  write_parquet(cars()[17:32, ], file.path(parts, "b.parquet"))
  whole <- lr_fit(mpg ~ wt + hp, data = parts, seed = 1)
  expect_identical(whole$source$n_rows, 32)
  expect_equal(coef(whole), coef(lm(mpg ~ wt + hp, mtcars)), tolerance = 1e-7)
})

test_that("the file-path method's formals show the core's defaults", {
  skip_if_no_python()
  f <- formals(lrtiers:::lr_fit.character)
  for (name in names(lr_defaults()$defaults)) {
    expect_equal(eval(f[[name]]), lr_defaults()$defaults[[name]], label = name)
  }
  expect_true("chunk_rows" %in% names(formals(lrtiers:::lr_fit.formula)))
})

test_that("a logical column of a file is named as lm() names it (flagTRUE), and predicts", {
  skip_if_no_streaming()
  data <- transform(cars(), flag = hp > 120)
  pa <- reticulate::import("pyarrow")
  path <- withr::local_tempfile(fileext = ".parquet")
  columns <- lapply(as.list(data), function(col) {
    if (is.logical(col)) pa$array(col, type = pa$bool_()) else pa$array(col, type = pa$float64())
  })
  reticulate::import("pyarrow.parquet")$write_table(pa$table(reticulate::dict(columns)), path)
  fit <- lr_fit(mpg ~ wt + flag, data = path, seed = 1)
  ref <- lm(mpg ~ wt + flag, data = data)
  expect_identical(names(coef(fit)), names(coef(ref)))
  expect_identical(names(coef(fit))[[3]], "flagTRUE")
  expect_lm_digits(fit, ref)
  new <- data.frame(wt = c(2.5, 3), flag = c(TRUE, TRUE))
  expect_equal(predict(fit, newdata = new), predict(ref, newdata = new), tolerance = 1e-6)
  # CSV: true/false read as booleans
  csv <- withr::local_tempfile(fileext = ".csv")
  utils::write.csv(transform(data, flag = tolower(flag)), csv, row.names = FALSE, quote = FALSE)
  expect_identical(names(coef(lr_fit(mpg ~ wt + flag, data = csv, seed = 1))), names(coef(ref)))
})
