# crop_yields: the values are the core's (lrtiers.datasets.crop_yields_columns()).

test_that("crop_yields and its CSV equal the core's values", {
  skip_if_no_python()
  columns <- to_r(reticulate::import("lrtiers.datasets")$crop_yields_columns("jovian"))
  core <- as.data.frame(lapply(columns, as.numeric))
  expect_identical(crop_yields, core)
  csv <- utils::read.csv(system.file("extdata", "crop_yields.csv", package = "lrtiers"))
  expect_equal(names(csv), names(core))
  expect_identical(as.data.frame(lapply(csv, as.numeric)), core)
  expect_equal(dim(crop_yields), c(15L, 5L))
})
