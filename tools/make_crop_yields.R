# Writes inst/extdata/crop_yields.csv and data/crop_yields.rda from the Python
# core's values (lrtiers.datasets.crop_yields_columns("jovian")): the data are
# defined once, in the core. Run from the repository root:
#   LRTIERS_PYTHON=.venv/bin/python Rscript tools/make_crop_yields.R
# tests/testthat/test-data.R checks that both files still equal the core's values.
python <- Sys.getenv("LRTIERS_PYTHON", Sys.getenv("RETICULATE_PYTHON"))
if (nzchar(python)) reticulate::use_python(python, required = TRUE)
datasets <- reticulate::import("lrtiers.datasets")
columns <- datasets$crop_yields_columns("jovian")
crop_yields <- as.data.frame(lapply(columns, as.numeric))
stopifnot(identical(names(crop_yields), c("temp", "rainfall", "humidity", "apples", "oranges")))
utils::write.csv(crop_yields, "inst/extdata/crop_yields.csv", row.names = FALSE)
save(crop_yields, file = "data/crop_yields.rda", compress = "xz", version = 2)
print(crop_yields)
