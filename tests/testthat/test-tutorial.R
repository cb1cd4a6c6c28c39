# Seed 000 (rTorch): the raw reticulate torch loop equals lr_fit(tier = "dataloader").

test_that("the rTorch DataLoader loop run by hand gives lr_fit()'s bits", {
  skip_if_no_python()
  lr_core()
  torch <- reticulate::import("torch")
  nn <- torch$nn
  datasets <- reticulate::import("lrtiers.datasets")
  rtorch <- as.data.frame(lapply(to_r(datasets$crop_yields_columns("rtorch")), as.numeric))
  x <- as.matrix(rtorch[, c("temp", "rainfall", "humidity")])
  y <- as.matrix(rtorch[, c("apples", "oranges")])

  old_dtype <- torch$get_default_dtype()
  torch$set_default_dtype(torch$double)
  on.exit(torch$set_default_dtype(old_dtype), add = TRUE)
  state <- torch$random$get_rng_state()
  on.exit(torch$random$set_rng_state(state), add = TRUE)

  inputs <- torch$tensor(unname(x))
  targets <- torch$tensor(unname(y))
  torch$manual_seed(0L)
  model <- nn$Linear(3L, 2L)
  train_dl <- torch$utils$data$DataLoader(torch$utils$data$TensorDataset(inputs, targets),
    batch_size = 5L, shuffle = TRUE)
  opt <- torch$optim$SGD(model$parameters(), lr = 1e-5)
  loss_fn <- nn$functional$mse_loss
  for (epoch in 1:100) {
    for (xy in reticulate::iterate(train_dl)) {
      pred <- model(xy[[1]])
      loss <- loss_fn(pred, xy[[2]])
      loss$backward()
      opt$step()
      opt$zero_grad()
    }
  }
  weight <- model$weight$detach()$numpy()
  bias <- model$bias$detach()$numpy()

  # the tutorial's settings; 100 epochs at lr = 1e-5 are far from lm()'s answer, and it says so
  expect_unconverged(
    fit <- lr_fit(x, y, tier = "dataloader", batch_size = 5, lr = 1e-5, epochs = 100, seed = 0,
      optimizer = "sgd", precondition = "none", schedule = "constant",
      variance_reduction = "none", stop_when_converged = FALSE)
  )
  expect_identical(fit$epochs_run, 100L)
  # lr_tutorial_settings() is exactly those five settings
  expect_unconverged(
    fit2 <- lr_fit_tutorial(x, y, tier = "dataloader", batch_size = 5, lr = 1e-5, epochs = 100,
      seed = 0)
  )
  expect_same_bits(coef(fit2), coef(fit))
  expect_same_bits(t(coef(fit)[-1, ]), weight)
  expect_same_bits(coef(fit)[1, ], bias)
})
