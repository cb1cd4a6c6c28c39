# lr_fit(recipe, data): hardhat molds a recipes::recipe(); predict() forges new data with the
# fit's blueprint, also after lr_save()/lr_load(). Against lm() on the baked data.

crop_recipe <- function() {
  recipes::recipe(mpg ~ wt + hp + cyl, data = mtcars) |>
    recipes::step_mutate(cyl = factor(cyl)) |>
    recipes::step_dummy(cyl) |>
    recipes::step_normalize(recipes::all_numeric_predictors())
}

test_that("a recipe fit is lm() on the baked data, and predicts through the blueprint", {
  skip_if_no_python()
  skip_if_no_package("recipes")
  skip_if_no_package("hardhat")
  rec <- crop_recipe()
  fit <- lr_fit(rec, mtcars, seed = 1)
  prepped <- recipes::prep(rec, mtcars)
  ref <- lm(mpg ~ ., recipes::bake(prepped, new_data = NULL))
  expect_true(fit$converged)
  expect_s3_class(fit, c("lr_fit", "lm"), exact = TRUE)
  expect_s3_class(fit$blueprint, "recipe_blueprint")
  expect_equal(coef(fit), coef(ref), tolerance = 1e-9)
  new <- mtcars[c(1, 5, 20), ]
  expect_equal(unname(predict(fit, new)),
    unname(predict(ref, recipes::bake(prepped, new))), tolerance = 1e-9)
  for (what in list(hatvalues, cooks.distance, rstandard, vcov)) {
    expect_equal(unname(what(fit)), unname(what(ref)), tolerance = 1e-9)
  }
  expect_equal(summary(fit)$r.squared, summary(ref)$r.squared, tolerance = 1e-9)
  expect_equal(coef(summary(fit)), coef(summary(ref)), tolerance = 1e-9, ignore_attr = TRUE)
  # new data go through the same steps: the training means and levels, not new data's
  expect_error(predict(fit, mtcars[1:2, c("wt", "hp")]), "recipe",
    class = "lrtiers_data_error")
})

test_that("the blueprint survives lr_save() and lr_load()", {
  skip_if_no_python()
  skip_if_no_package("recipes")
  skip_if_no_package("hardhat")
  fit <- lr_fit(crop_recipe(), mtcars, seed = 1)
  path <- withr::local_tempfile(fileext = ".json")
  lr_save(fit, path)
  loaded <- lr_load(path)
  expect_s3_class(loaded$blueprint, "recipe_blueprint")
  new <- mtcars[c(2, 9, 31), ]
  expect_identical(predict(loaded, new), predict(fit, new))
  # Python reads the file (the blueprint rides in `extra`, kept verbatim)
  core <- lrtiers:::core()
  py_fit <- core$load_fit(path)
  expect_identical(as.vector(reticulate::py_to_r(py_fit$bias)), unname(coef(fit)[[1]]))
  # and a file Python saves again keeps it
  again <- withr::local_tempfile(fileext = ".json")
  py_fit$save(again)
  expect_identical(predict(lr_load(again), new), predict(fit, new))
})

test_that("recipe fits check their arguments", {
  skip_if_no_python()
  skip_if_no_package("recipes")
  skip_if_no_package("hardhat")
  expect_error(lr_fit(crop_recipe()), "`data` must be the data frame",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(crop_recipe(), mtcars, epoch = 3), "did you mean `epochs`",
    class = "lrtiers_argument_error")
  expect_error(lr_fit(crop_recipe(), mtcars, subset = 1:10), "unknown argument `subset`",
    class = "lrtiers_argument_error")
})
