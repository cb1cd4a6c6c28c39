# The R rows of `make bench` (python -m lrtiers.bench runs this in its own R process).
#
#   Rscript tools/bench.R DATA_DIR REPEATS OUT.json
#
# DATA_DIR holds the benchmark's 1M x 20 data as raw float64 (x.bin column by column, y.bin)
# and dims.json; the same numbers the Python rows use. Every comparison is interleaved and
# repeated; OUT.json gets one entry per row, ratios per repeat.
suppressPackageStartupMessages(library(lrtiers))

args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 3L)
data_dir <- args[[1]]
repeats <- as.integer(args[[2]])
out_path <- args[[3]]

dims <- jsonlite::fromJSON(file.path(data_dir, "dims.json"))
x <- matrix(readBin(file.path(data_dir, "x.bin"), "double", dims$n * dims$p), dims$n)
colnames(x) <- paste0("x", seq_len(dims$p))
y <- readBin(file.path(data_dir, "y.bin"), "double", dims$n)
frame <- data.frame(x, y = y)
size <- sprintf("%s x %d", format(dims$n, big.mark = ",", scientific = FALSE), dims$p)

seconds <- function(expr) {
  gc(full = FALSE)
  start <- proc.time()[["elapsed"]]
  force(expr)
  proc.time()[["elapsed"]] - start
}

# ------------------------------------------------------------ 3. time to the closed form

ols <- lm.fit(cbind(1, x), y)
optimum <- mean(ols$residuals^2)
reached <- function(fit) (fit$loss - optimum) / optimum <= 1e-8
until_optimum <- function(epoch, loss) (loss - optimum) / optimum > 1e-8

fit_formula <- function() {
  lr_fit(y ~ ., data = frame, lr = "auto", standardize = TRUE, epochs = 1000, seed = 0,
    callback = until_optimum, progress = FALSE)
}
fit_xy <- function() {
  lr_fit(x, y, lr = "auto", standardize = TRUE, epochs = 1000, seed = 0,
    callback = until_optimum, progress = FALSE)
}

invisible(fit_xy()) # start Python and import torch outside the timings
vs_lm <- vs_lm_fit <- numeric()
epochs_run <- integer()
for (i in seq_len(repeats)) {
  fit <- NULL
  ours_formula <- seconds(fit <- fit_formula())
  stopifnot(reached(fit))
  epochs_run <- c(epochs_run, fit$core$epochs_run)
  anchor <- seconds(lm(y ~ ., data = frame))
  vs_lm <- c(vs_lm, ours_formula / anchor)
  ours_xy <- seconds(fit <- fit_xy())
  stopifnot(reached(fit))
  anchor <- seconds(lm.fit(cbind(1, x), y))
  vs_lm_fit <- c(vs_lm_fit, ours_xy / anchor)
}

# ------------------------------------------------------------ 4. R overhead

core <- lr_core()
np <- reticulate::import("numpy", convert = FALSE)
x_py <- np$ascontiguousarray(x) # the data as a Python user holds it
y_py <- np$asarray(y)
settings <- list(tier = "module", lr = "auto", standardize = TRUE, epochs = 20L, seed = 0L)
r_over_python <- numeric()
for (i in seq_len(repeats)) {
  in_r <- seconds(fit_r <- lr_fit(x, y, tier = "module", lr = "auto", standardize = TRUE,
    epochs = 20, seed = 0, progress = FALSE))
  in_python <- seconds(fit_py <- do.call(core$lr_fit, c(list(x_py, y_py), settings)))
  r_over_python <- c(r_over_python, in_r / in_python)
}
same <- identical(
  as.vector(coef(fit_r)),
  c(reticulate::py_to_r(fit_py$bias), as.vector(reticulate::py_to_r(fit_py$weight)))
)

tiny <- function() {
  lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
    epochs = 10, seed = 1, progress = FALSE)
}
invisible(tiny())
tiny_ms <- vapply(seq_len(max(repeats, 5L) * 4L), function(i) seconds(tiny()) * 1000, 0)

rows <- list(
  list(
    section = "closed form (R)", what = "lr_fit(y ~ ., data) / lm(y ~ ., data)", ratio = vs_lm,
    anchor = sprintf("R lm(), same %s data frame", size), target = "< 1",
    target_ok = stats::median(vs_lm) < 1,
    note = sprintf(
      "lr = \"auto\", standardize = TRUE, until 1e-8 of the optimum (%d epochs); R to Python conversion included",
      as.integer(stats::median(epochs_run))
    )
  ),
  list(
    section = "closed form (R)", what = "lr_fit(x, y) / lm.fit(cbind(1, x), y)",
    ratio = vs_lm_fit, anchor = "R lm.fit(), same matrix",
    note = "matrix interface, conversion included"
  ),
  list(
    section = "R overhead", what = sprintf("lr_fit from R / lr_fit from Python (%s, 20 epochs)", size),
    ratio = r_over_python, anchor = "the core's lr_fit on NumPy arrays, same process",
    target = "<= 1.10", target_ok = stats::median(r_over_python) <= 1.10,
    note = paste(
      "R side: molding, conversion, fitted values and the lr_fit object;",
      if (same) "bitwise the same coefficients" else "COEFFICIENTS DIFFER"
    )
  ),
  list(
    section = "R overhead", what = "one tiny fit from R (crop yields, 10 epochs)", ratio = tiny_ms,
    unit = "ms", anchor = "absolute time after the first call", target = "<= 50 ms",
    target_ok = stats::median(tiny_ms) <= 50, note = "formula interface, two outputs"
  )
)
jsonlite::write_json(list(rows = rows), out_path, auto_unbox = TRUE, digits = NA)
