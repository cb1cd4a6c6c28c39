# lr_save() / lr_load(): the core's JSON fit file, both directions, every bit kept.

test_that("the JSON writer keeps the bits of any double", {
  set.seed(42)
  x <- c(
    rnorm(20000) * 10^runif(20000, -300, 300), runif(5000), rnorm(5000), 0.1, 1 / 3, 2^53 + 2,
    .Machine$double.xmin, .Machine$double.xmax, 5e-324, -0.0, 0, 1e16, 123456789012345678,
    100, -2.5e-8
  )
  text <- lrtiers:::json_encode(as.list(x))
  back <- vapply(jsonlite::parse_json(text), as.numeric, numeric(1))
  expect_same_bits(back, x)
  # Python reads the same bits
  skip_if_no_python()
  json <- reticulate::import("json", convert = FALSE)
  np <- reticulate::import("numpy", convert = FALSE)
  from_py <- to_r(np$array(json$loads(text), dtype = "float64"))
  expect_same_bits(from_py, x)
  # and R reads Python's repr exactly
  py_text <- to_r(json$dumps(np$array(x)$tolist()))
  expect_same_bits(vapply(jsonlite::parse_json(py_text), as.numeric, numeric(1)), x)
})

test_that("the JSON writer handles the fit record's shapes", {
  enc <- lrtiers:::json_encode
  expect_equal(enc(NULL), "null")
  expect_equal(enc(structure(list(), names = character())), "{}")
  expect_equal(enc(list()), "[]")
  expect_equal(enc(list(1.5)), "[1.5]")
  expect_equal(enc(TRUE), "true")
  expect_equal(enc(3L), "3")
  expect_equal(enc("a \"quoted\" \u00e9"), "\"a \\\"quoted\\\" \u00e9\"")
  expect_equal(enc(NaN), "null")
  expect_equal(enc(-0), "-0.0")
  expect_equal(enc(0.1), "0.1")
  rec <- list(a = list(list(1, 2), list(3, 4)), b = NULL, c = list(x = "y"))
  expect_equal(jsonlite::parse_json(enc(rec)), rec)
})

test_that("an R fit saved by lr_save() opens in Python with the same bits", {
  skip_if_no_python()
  # mini-batches for 20 epochs: a fit with every part (validation, history) that has not
  # converged, which the file keeps too
  expect_unconverged(
    fit <- lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
      tier = "dataloader", batch_size = 5, epochs = 20, seed = 7, standardize = TRUE,
      validation = 0.2, variance_reduction = "none"),
    "mini-batch"
  )
  path <- tempfile(fileext = ".json")
  expect_identical(lr_save(fit, path), path)
  loaded <- py()$load_fit(path)
  expect_same_bits(to_r(loaded$weight), t(coef(fit)[-1, ]))
  expect_same_bits(to_r(loaded$bias), coef(fit)[1, ])
  expect_same_bits(unlist(to_r(loaded$history)$loss), fit$history$loss)
  expect_same_bits(unlist(to_r(loaded$history)$val_loss), fit$history$val_loss)
  expect_same_bits(to_r(loaded$xtx_inv), fit$xtx_inv)
  expect_equal(to_r(loaded$tier), "dataloader")
  expect_false(to_r(loaded$verdict$converged))
  new <- as.matrix(data.frame(temp = 75, rainfall = 63, humidity = 44))
  expect_unconverged(
    p <- predict(fit, newdata = data.frame(temp = 75, rainfall = 63, humidity = 44))
  )
  expect_same_bits(to_r(loaded$predict(new)), p)
  # Python's own writer and R's give the same values
  py_path <- tempfile(fileext = ".json")
  loaded$save(py_path)
  a <- jsonlite::parse_json(paste(readLines(path), collapse = "\n"))
  b <- jsonlite::parse_json(paste(readLines(py_path), collapse = "\n"))
  expect_equal(setdiff(names(a), names(b)), character())
  for (key in setdiff(names(a), "extra")) expect_identical(a[[key]], b[[key]], label = key)
})

test_that("a fit saved by Python opens in R with the same bits", {
  skip_if_no_python()
  x <- as.matrix(mtcars[, c("wt", "hp", "qsec")])
  # 25 epochs of the scale preconditioner: not converged (Python warns, in Python)
  pyfit <- py_quietly(
    py()$lr_fit(x, mtcars$mpg, tier = "optim", epochs = 25L, seed = 11L,
      standardize = TRUE, feature_names = list("wt", "hp", "qsec"), target_names = list("mpg"))
  )
  path <- tempfile(fileext = ".json")
  pyfit$save(path)
  fit <- lr_load(path)
  expect_s3_class(fit, "lr_fit")
  expect_equal(fit$interface, "file")
  expect_named(coef(fit), c("(Intercept)", "wt", "hp", "qsec"))
  expect_same_bits(coef(fit)[-1], to_r(pyfit$weight))
  expect_same_bits(coef(fit)[1], to_r(pyfit$bias))
  expect_same_bits(fit$history$loss, unlist(to_r(pyfit$history)$loss))
  expect_same_bits(fit$loss, to_r(pyfit$loss))
  expect_false(fit$converged)
  expect_identical(fit$verdict$digits, to_r(pyfit$verdict$digits))
  expect_unconverged(p <- predict(fit, newdata = x))
  expect_same_bits(p, to_r(pyfit$predict(x)))
  expect_equal(fit$settings$seed, 11L)
  expect_error(fitted(fit), "does not carry")
  # summary works from the file alone
  expect_s3_class(suppressWarnings(summary(fit)), "summary.lr_fit")
  # R writes back what it read, and Python reads it again unchanged
  again <- tempfile(fileext = ".json")
  lr_save(fit, again)
  expect_identical(jsonlite::parse_json(paste(readLines(again), collapse = "\n")),
    jsonlite::parse_json(paste(readLines(path), collapse = "\n")))
  expect_same_bits(to_r(py()$load_fit(again)$weight), to_r(pyfit$weight))
})

test_that("a formula fit keeps its formula and factor levels through the file", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ factor(cyl) + log(hp), data = mtcars, tier = "numpy", seed = 1)
  expect_true(fit$converged)
  path <- tempfile(fileext = ".json")
  lr_save(fit, path)
  loaded <- lr_load(path)
  expect_true(loaded$converged)
  expect_equal(loaded$verdict, fit$verdict)
  new <- data.frame(cyl = c(6, 4, 8), hp = c(110, 90, 200))
  expect_same_bits(predict(loaded, newdata = new), predict(fit, newdata = new))
  expect_equal(coef(loaded), coef(fit))
  expect_equal(formula(loaded), formula(fit), ignore_attr = TRUE)
})

test_that("lr_load() rejects files that are not fits", {
  path <- tempfile(fileext = ".json")
  writeLines('{"format": "something-else"}', path)
  expect_error(lr_load(path), "not an lrtiers fit file", class = "lrtiers_io_error")
  writeLines('{"format": "lrtiers-fit", "format_version": 99}', path)
  expect_error(lr_load(path), "newer than this lrtiers reads", class = "lrtiers_io_error")
  writeLines("not json", path)
  expect_error(lr_load(path), "not a JSON file", class = "lrtiers_io_error")
  expect_error(lr_load(tempfile()), "no such file", class = "lrtiers_io_error")
  expect_error(lr_save(list(), path), "must be an lr_fit")
})

test_that("an aliased column stays NA through the file: null in the JSON, same predictions", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + I(2 * wt) + hp, data = mtcars, seed = 1)
  ref <- lm(mpg ~ wt + I(2 * wt) + hp, data = mtcars)
  expect_lm_digits(fit, ref)
  path <- tempfile(fileext = ".json")
  lr_save(fit, path)
  json <- jsonlite::parse_json(paste(readLines(path), collapse = "\n"))
  expect_identical(json$format_version, lrtiers:::FIT_FORMAT_VERSION)
  expect_identical(json$format_version, 2L)
  expect_length(json$weight[[1]], 3L)
  expect_null(json$weight[[1]][[2]]) # I(2 * wt): lm()'s NA
  expect_null(json$optimum$weight[[1]][[2]])
  expect_false(is.null(json$weight[[1]][[1]]) || is.null(json$weight[[1]][[3]]))
  expect_identical(unlist(json$aliased), c(FALSE, TRUE, FALSE))
  expect_identical(json$rank, 3L)
  expect_no_match(paste(readLines(path), collapse = "\n"), "NaN|Infinity")

  loaded <- lr_load(path)
  expect_identical(names(coef(loaded)), names(coef(fit)))
  expect_true(is.na(coef(loaded)[["I(2 * wt)"]]))
  expect_identical(is.na(coef(loaded)), is.na(coef(ref)))
  expect_same_bits(coef(loaded)[-3], coef(fit)[-3])
  expect_identical(loaded$aliased, c(wt = FALSE, `I(2 * wt)` = TRUE, hp = FALSE))
  expect_identical(loaded$rank, 3L)
  expect_identical(loaded$df.residual, 29L)
  expect_true(loaded$converged)
  new <- data.frame(wt = c(2.5, 3.1, 4), hp = c(100, 180, 240))
  expect_warning(p_loaded <- predict(loaded, newdata = new),
    class = "lrtiers_rank_deficiency_warning")
  expect_warning(p_fit <- predict(fit, newdata = new), class = "lrtiers_rank_deficiency_warning")
  expect_same_bits(p_loaded, p_fit)
  expect_equal(p_loaded, suppressWarnings(predict(ref, newdata = new)), tolerance = 1e-10)
  # Python reads the null as NaN and predicts the same
  pyfit <- py()$load_fit(path)
  expect_true(is.nan(to_r(pyfit$weight)[1, 2]))
  expect_same_bits(
    py_quietly(to_r(pyfit$predict(cbind(new$wt, 2 * new$wt, new$hp)))),
    p_loaded
  )
})

test_that("a version-1 file (lrtiers 0.1) still loads: nothing aliased, full rank", {
  # written by lrtiers 0.1's Python core: numpy tier, 50 epochs, standardize = True, on
  # mtcars' wt and hp (fixtures/fit-v1.json)
  fit <- lr_load(test_path("fixtures", "fit-v1.json"))
  expect_s3_class(fit, "lr_fit")
  expect_named(coef(fit), c("(Intercept)", "wt", "hp"))
  expect_identical(fit$aliased, c(wt = FALSE, hp = FALSE))
  expect_identical(fit$rank, 3L)
  expect_identical(fit$df.residual, 29L)
  expect_identical(fit$epochs_run, 50L)
  expect_true(fit$converged) # version 1 judged the loss only, and said so
  expect_identical(fit$optimizer$name, "sgd")
  expect_equal(coef(fit), coef(lm(mpg ~ wt + hp, data = mtcars)), tolerance = 1e-5)
  expect_output(print(fit), "Converged")
  expect_s3_class(summary(fit), "summary.lr_fit")
  expect_equal(nrow(tidy(fit)), 3L)
  skip_if_no_python()
  x <- as.matrix(mtcars[1:4, c("wt", "hp")])
  expect_equal(predict(fit, newdata = x), drop(cbind(1, x) %*% coef(fit)), tolerance = 1e-12,
    ignore_attr = TRUE)
  # Python reads it too
  expect_same_bits(to_r(py()$load_fit(test_path("fixtures", "fit-v1.json"))$weight),
    coef(fit)[-1])
})

test_that("a record whose fields do not fit together is refused, naming the field", {
  skip_if_no_python()
  fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
  path <- withr::local_tempfile(fileext = ".json")
  lr_save(fit, path)
  record <- jsonlite::parse_json(paste(readLines(path), collapse = "\n"))
  broken <- list(
    list(change = function(r) { r$weight[[1]] <- r$weight[[1]][1]; r }, regexp = "weight is not 1 x 2"),
    list(change = function(r) { r$xtx_inv <- r$xtx_inv[1:2]; r }, regexp = "xtx_inv is not 3 x 3"),
    list(change = function(r) { r$sse <- NULL; r }, regexp = "lacks sse")
  )
  for (case in broken) {
    writeLines(lrtiers:::json_encode(case$change(record)), path)
    expect_error(lr_load(path), case$regexp, class = "lrtiers_io_error")
  }
})
