# The R rows of `make bench` (benchmarks/bench.py runs this in its own R process).
#
#   Rscript tools/bench.R CONFIG.json OUT.json
#
# CONFIG.json (written by benchmarks/bench.py) names the directory with the 1M x 20 data as raw
# float64 (x.bin column by column, y.bin; the same numbers the Python rows use), n, p, the
# repeats, the epochs of the mini-batch gap rows and the settings of the lm() table.
# Every comparison is interleaved and repeated; OUT.json gets one entry per row (ratios per
# repeat) and one per cell of the lm() table.
suppressPackageStartupMessages(library(lrtiers))

args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 2L)
config <- jsonlite::fromJSON(args[[1]], simplifyVector = TRUE)
out_path <- args[[2]]
repeats <- as.integer(config$repeats)

x <- matrix(readBin(file.path(config$data_dir, "x.bin"), "double", config$n * config$p), config$n)
colnames(x) <- paste0("x", seq_len(config$p))
y <- readBin(file.path(config$data_dir, "y.bin"), "double", config$n)
frame <- data.frame(x, y = y)
size <- sprintf("%s x %d", format(config$n, big.mark = ",", scientific = FALSE), config$p)

now <- function() as.numeric(Sys.time())
seconds <- function(expr) {
  gc(full = FALSE)
  start <- now()
  force(expr)
  now() - start
}
quiet <- function(expr) suppressWarnings(expr) # not converged: the tables say so

# ------------------------------------------------------------ lm()'s answer, 1M x 20

fit_formula <- function() quiet(lr_fit(y ~ ., data = frame, seed = 0, progress = FALSE))
fit_xy <- function() quiet(lr_fit(x, y, seed = 0, progress = FALSE))

invisible(fit_xy()) # start Python and import torch outside the timings
vs_lm <- vs_lm_fit <- numeric()
fit <- NULL
for (i in seq_len(repeats)) {
  ours_formula <- seconds(fit <- fit_formula())
  anchor <- seconds(lm(y ~ ., data = frame))
  vs_lm <- c(vs_lm, ours_formula / anchor)
  ours_xy <- seconds(fit_xy())
  anchor <- seconds(lm.fit(cbind(1, x), y))
  vs_lm_fit <- c(vs_lm_fit, ours_xy / anchor)
}
defaults_note <- sprintf(
  "lr_fit defaults: %d epoch%s, %s (%.1f digits); R to Python conversion included",
  as.integer(fit$epochs_run), if (fit$epochs_run == 1) "" else "s",
  if (isTRUE(fit$converged)) "converged" else "NOT converged",
  fit$verdict$digits
)

# ------------------------------------------------------------ R overhead

core <- lr_core()
np <- reticulate::import("numpy", convert = FALSE)
x_py <- np$ascontiguousarray(x) # the data as a Python user holds it
y_py <- np$asarray(y)
r_over_python <- numeric()
for (i in seq_len(repeats)) {
  in_r <- seconds(fit_r <- quiet(lr_fit(x, y, seed = 0, progress = FALSE)))
  in_python <- seconds(fit_py <- quiet(core$lr_fit(x_py, y_py, seed = 0L)))
  r_over_python <- c(r_over_python, in_r / in_python)
}
same <- identical(
  as.vector(coef(fit_r)),
  c(reticulate::py_to_r(fit_py$bias), as.vector(reticulate::py_to_r(fit_py$weight)))
)
rm(x_py, y_py)

tiny <- function() {
  lr_fit(cbind(apples, oranges) ~ temp + rainfall + humidity, data = crop_yields,
    seed = 1, progress = FALSE)
}
invisible(tiny())
tiny_ms <- vapply(seq_len(max(repeats, 5L) * 4L), function(i) seconds(tiny()) * 1000, 0)

# ------------------------------------------------------------ mini-batch gap

relative_gap <- function(fit) (fit$loss - fit$optimum$loss) / fit$optimum$loss
mtcars_std <- as.data.frame(scale(mtcars))
gap_rows <- lapply(
  list(
    list(label = "defaults (SVRG, constant step)", settings = list()),
    list(label = "plain SGD (variance_reduction='none'), decaying step",
      settings = list(variance_reduction = "none")),
    list(label = "plain SGD, schedule='constant'",
      settings = list(variance_reduction = "none", schedule = "constant"))
  ),
  function(case) {
    fit <- tryCatch(
      quiet(do.call(lr_fit, c(
        list(mpg ~ ., data = mtcars_std, tier = "dataloader", batch_size = 8,
          epochs = config$gap_epochs, seed = 0, progress = FALSE),
        case$settings
      ))),
      lrtiers_divergence_error = function(e) e
    )
    diverged <- inherits(fit, "lrtiers_divergence_error")
    list(
      section = "mini-batch gap",
      what = paste0("dataloader, batch 8, mtcars standardised (mpg ~ ., from R): ", case$label),
      ratio = if (diverged) NA_real_ else relative_gap(fit), unit = "gap",
      anchor = "(loss - least-squares loss) / least-squares loss",
      note = if (diverged) {
        sub(".*(at epoch [0-9]+ with lr = [^;]+);.*", "diverged \\1", conditionMessage(fit))
      } else {
        sprintf("after %d epochs; %.1f digits", as.integer(fit$epochs_run), fit$verdict$digits)
      }
    )
  }
)

# ------------------------------------------------------------ the lm() table

problems <- list(
  list(name = "mtcars: mpg ~ wt + hp", formula = mpg ~ wt + hp, data = mtcars),
  list(name = "mtcars: mpg ~ .", formula = mpg ~ ., data = mtcars),
  list(name = "longley: Employed ~ .", formula = Employed ~ ., data = longley),
  list(name = "cars: dist ~ speed", formula = dist ~ speed, data = cars),
  list(name = "swiss: Fertility ~ .", formula = Fertility ~ ., data = swiss),
  list(name = "trees: Volume ~ .", formula = Volume ~ ., data = trees),
  list(name = "stackloss: stack.loss ~ .", formula = stack.loss ~ ., data = stackloss),
  list(name = "iris: Sepal.Length ~ .", formula = Sepal.Length ~ ., data = iris),
  list(name = "airquality: Ozone ~ . (NA rows dropped)", formula = Ozone ~ ., data = airquality)
)

lm_cell <- function(problem, setting, settings) {
  times <- numeric()
  fit <- NULL
  error <- ""
  for (i in 1:3) { # the median of three when a fit is quick
    start <- now()
    fit <- tryCatch(
      quiet(do.call(lr_fit, c(
        list(problem$formula, data = problem$data, seed = 0, progress = FALSE), settings
      ))),
      error = function(e) {
        error <<- if (inherits(e, "lrtiers_divergence_error")) {
          "diverged"
        } else {
          conditionMessage(e)
        }
        NULL
      }
    )
    times <- c(times, now() - start)
    if (is.null(fit) || sum(times) > 0.2) break
  }
  ms <- stats::median(times) * 1000
  if (is.null(fit)) {
    return(list(dataset = problem$name, setting = setting, epochs = 0L, converged = FALSE,
      digits = NULL, ms = ms, stop_reason = "", error = substr(error, 1, 80)))
  }
  list(
    dataset = problem$name, setting = setting, epochs = as.integer(fit$epochs_run),
    converged = isTRUE(fit$converged), digits = fit$verdict$digits, ms = ms,
    stop_reason = fit$stop_reason, error = ""
  )
}

lm_cells <- list()
for (problem in problems) {
  for (setting in names(config$lm_settings)) {
    lm_cells[[length(lm_cells) + 1L]] <- lm_cell(problem, setting, config$lm_settings[[setting]])
  }
}

# ------------------------------------------------------------ out

rows <- c(
  list(
    list(
      section = "closed form (R)", what = "lr_fit(y ~ ., data) / lm(y ~ ., data)",
      ratio = vs_lm, anchor = sprintf("R lm(), same %s data frame", size), target = "< 1",
      target_ok = stats::median(vs_lm) < 1, note = defaults_note
    ),
    list(
      section = "closed form (R)", what = "lr_fit(x, y) / lm.fit(cbind(1, x), y)",
      ratio = vs_lm_fit, anchor = "R lm.fit(), same matrix",
      note = "matrix interface, lr_fit defaults, conversion included"
    ),
    list(
      section = "R overhead",
      what = sprintf("lr_fit from R / lr_fit from Python (%s, defaults)", size),
      ratio = r_over_python, anchor = "the core's lr_fit on NumPy arrays, same process",
      target = "<= 1.10", target_ok = stats::median(r_over_python) <= 1.10,
      note = paste(
        "R side: molding, conversion, fitted values and the lr_fit object;",
        if (same) "bitwise the same coefficients" else "COEFFICIENTS DIFFER"
      )
    ),
    list(
      section = "R overhead", what = "one tiny fit from R (crop yields, defaults)",
      ratio = tiny_ms, unit = "ms", anchor = "absolute time after the first call",
      target = "<= 50 ms", target_ok = stats::median(tiny_ms) <= 50,
      note = "formula interface, two outputs"
    )
  ),
  gap_rows
)
jsonlite::write_json(list(rows = rows, lm = lm_cells), out_path, auto_unbox = TRUE, na = "null",
  digits = NA, null = "null")
