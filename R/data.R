#' Crop yields: temperature, rainfall and humidity against apple and orange yields
#'
#' The tutorials' data: 15 regions (seed 001's Jovian notebook), their
#' temperature (F), rainfall (mm) and humidity (%), and the yields of apples
#' and oranges (tons per hectare). The values come from the Python core
#' (`lrtiers.datasets.crop_yields_columns()`), written to
#' `inst/extdata/crop_yields.csv` and `data/crop_yields.rda` by
#' `tools/make_crop_yields.R`; a test checks that they still agree. The
#' tutorials predict the yields of a new region with temperature 75,
#' rainfall 63 and humidity 44.
#'
#' @format A data frame with 15 rows and 5 numeric columns: `temp`,
#'   `rainfall`, `humidity`, `apples`, `oranges`.
#' @source <https://jovian.com/aakashns/02-linear-regression>, via the rTorch
#'   port (<https://f0nzie.github.io/rTorch/>).
#' @examples
#' crop_yields
#' read.csv(system.file("extdata", "crop_yields.csv", package = "lrtiers"))
"crop_yields"
