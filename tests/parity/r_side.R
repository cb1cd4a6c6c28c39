# Runs the parity grid in R: the R half of tests/parity. Used two ways:
#  - sourced into an rpy2-embedded R (reticulate attaches to the test's own Python), and
#  - by `Rscript r_side.R DIR` in a separate process with its own Python.
# Data arrives as raw little-endian float64 (exact bits); each fit leaves as the core's
# JSON fit file written by lrtiers::lr_save(), which keeps every bit.
suppressPackageStartupMessages(library(lrtiers))
# lrtiers imports torch (with RTLD_DEEPBIND, see lr_doctor()): before the raw torch calls below
invisible(lr_core())

parity_read_matrix <- function(path, nrow) {
  values <- readBin(path, what = "double", n = file.size(path) / 8, endian = "little")
  matrix(values, nrow = nrow)  # column-major, as an R user's matrix is
}

parity_fit <- function(args, out_path) {
  fit <- do.call(lrtiers::lr_fit, args)
  lrtiers::lr_save(fit, out_path)
  invisible(fit)
}

# Calls fun(i, cell, x, y) for every cell of DIR/cells.json, with its data read back;
# y is a vector when the cell says so.
parity_each_cell <- function(dir, fun) {
  cells <- jsonlite::fromJSON(file.path(dir, "cells.json"), simplifyVector = FALSE)
  for (i in seq_along(cells)) {
    cell <- cells[[i]]
    x <- parity_read_matrix(file.path(dir, cell$x_file), cell$n)
    y <- parity_read_matrix(file.path(dir, cell$y_file), cell$n)
    if (isTRUE(cell$y_vector)) y <- y[, 1]
    fun(i, cell, x, y)
  }
}

parity_run_grid <- function(dir) {
  parity_each_cell(dir, function(i, cell, x, y) {
    parity_fit(c(list(x = x, y = y), cell$settings), file.path(dir, sprintf("r_%04d.json", i - 1L)))
  })
}

# The same data as an R user may hold it: each layout must give the matrix's bits.
parity_layouts <- function(x, y) {
  colnames(x) <- paste0("x", seq_len(ncol(x)))
  y <- as.matrix(y)
  colnames(y) <- if (ncol(y) == 1L) "y" else paste0("y", seq_len(ncol(y)))
  frame <- as.data.frame(x)
  with_integer <- frame
  with_integer$x1 <- as.integer(frame$x1) # whole numbers, stored as R integers
  stopifnot(identical(as.double(with_integer$x1), frame$x1))
  response <- if (ncol(y) == 1L) y[, 1] else y
  list(
    matrix = list(x = x, y = response),
    data.frame = list(x = frame, y = as.data.frame(y)),
    integer = list(x = with_integer, y = response),
    formula = list(data = cbind(with_integer, as.data.frame(y)), outputs = colnames(y))
  )
}

parity_fit_layout <- function(layout, settings, out_path) {
  if (is.null(layout$data)) {
    return(parity_fit(c(list(x = layout$x, y = layout$y), settings), out_path))
  }
  lhs <- if (length(layout$outputs) == 1L) "y" else
    sprintf("cbind(%s)", paste(layout$outputs, collapse = ", "))
  rhs <- paste(setdiff(names(layout$data), layout$outputs), collapse = " + ")
  if (!isTRUE(settings$intercept)) rhs <- paste(rhs, "- 1") # as lm() users drop it
  settings$intercept <- NULL
  formula <- stats::as.formula(paste(lhs, "~", rhs))
  parity_fit(c(list(formula = formula, data = layout$data), settings), out_path)
}

parity_run_layouts <- function(dir) {
  parity_each_cell(dir, function(i, cell, x, y) {
    layouts <- parity_layouts(x, y)
    for (name in names(layouts)) {
      out <- file.path(dir, sprintf("r_%04d_%s.json", i - 1L, name))
      parity_fit_layout(layouts[[name]], cell$settings, out)
    }
  })
}

# Threads: this R session starts with other thread settings than the Python test (one
# OpenMP thread, torch told to use one); fits that name `threads`, or take the default,
# must still give Python's bits, and leave the session's own setting as it was.
parity_run_threads <- function(dir) {
  torch <- reticulate::import("torch")
  torch$set_num_threads(1L)
  parity_run_grid(dir) # the same fits; what differs is this session's thread settings
  writeLines(
    c(as.character(torch$get_num_threads()), Sys.getenv("OMP_NUM_THREADS")),
    file.path(dir, "r_threads_after.txt")
  )
}

# Seed 000 (rTorch) as its tutorial writes it, with raw reticulate calls: np$array(dtype = ),
# torch$from_numpy, torch$manual_seed, torch$nn$Linear, torch$optim$SGD and a shuffling
# DataLoader. Weight and bias leave as raw float64, to be held against Python's
# lr_fit(tier = "dataloader").
parity_run_tutorial <- function(dir) {
  specs <- jsonlite::fromJSON(file.path(dir, "tutorial.json"), simplifyVector = FALSE)
  torch <- reticulate::import("torch")
  np <- reticulate::import("numpy", convert = FALSE)
  nn <- torch$nn
  for (i in seq_along(specs)) {
    spec <- specs[[i]]
    x <- parity_read_matrix(file.path(dir, spec$x_file), spec$n)
    y <- parity_read_matrix(file.path(dir, spec$y_file), spec$n)
    torch$set_default_dtype(if (spec$dtype == "float32") torch$float32 else torch$float64)
    torch$set_num_threads(as.integer(spec$threads))

    inputs <- torch$from_numpy(np$array(x, dtype = spec$dtype))
    targets <- torch$from_numpy(np$array(y, dtype = spec$dtype))
    torch$manual_seed(as.integer(spec$seed))
    model <- nn$Linear(ncol(x), ncol(y))
    train_ds <- torch$utils$data$TensorDataset(inputs, targets)
    train_dl <- torch$utils$data$DataLoader(train_ds, as.integer(spec$batch_size),
      shuffle = TRUE)
    opt <- torch$optim$SGD(model$parameters(), lr = spec$lr)
    loss_fn <- nn$functional$mse_loss
    for (epoch in seq_len(spec$epochs)) {
      for (xy in reticulate::iterate(train_dl)) {
        pred <- model(xy[[1]])
        loss <- loss_fn(pred, xy[[2]])
        loss$backward()
        opt$step()
        opt$zero_grad()
      }
    }
    weight <- model$weight$detach()$double()$numpy() # q x p
    bias <- model$bias$detach()$double()$numpy()
    writeBin(c(as.vector(t(weight)), as.vector(bias)),
      file.path(dir, sprintf("r_tutorial_%d.bin", i - 1L)), endian = "little"
    )
  }
}

if (!interactive() && length(commandArgs(trailingOnly = TRUE)) >= 1L &&
    identical(Sys.getenv("LRTIERS_PARITY_SOURCED"), "")) {
  args <- commandArgs(trailingOnly = TRUE)
  run <- switch(if (length(args) == 2L) args[[2]] else "grid",
    grid = parity_run_grid,
    layouts = parity_run_layouts,
    threads = parity_run_threads,
    tutorial = parity_run_tutorial,
    stop("unknown parity run: ", args[[2]])
  )
  run(args[[1]])
}
