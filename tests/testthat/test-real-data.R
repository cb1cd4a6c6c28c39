# Real data at the defaults: lr_fit(formula, data) gives lm()'s answer (every coefficient
# to 7 significant digits relative to max(|b|, SE(b)), with lm()'s own standard errors, and
# NA exactly where lm() has NA), in every tier, converged, without a warning, and fast.

real_data <- list(
  "mtcars: mpg ~ wt + hp" = list(mpg ~ wt + hp, mtcars),
  "mtcars: mpg ~ ." = list(mpg ~ ., mtcars),
  "mtcars: mpg ~ wt * hp" = list(mpg ~ wt * hp, mtcars),
  "mtcars: log(mpg) ~ poly(hp, 2) + factor(cyl)" = list(log(mpg) ~ poly(hp, 2) + factor(cyl), mtcars),
  "mtcars: cbind(mpg, qsec) ~ wt + hp" = list(cbind(mpg, qsec) ~ wt + hp, mtcars),
  "cars: dist ~ speed" = list(dist ~ speed, cars),
  "trees: Volume ~ ." = list(Volume ~ ., trees),
  "swiss: Fertility ~ ." = list(Fertility ~ ., swiss),
  "stackloss: stack.loss ~ ." = list(stack.loss ~ ., stackloss),
  "longley: Employed ~ ." = list(Employed ~ ., longley),
  "airquality: Ozone ~ . (na.omit)" = list(Ozone ~ ., airquality),
  "iris: Sepal.Length ~ ." = list(Sepal.Length ~ ., iris),
  "ToothGrowth: len ~ ." = list(len ~ ., ToothGrowth),
  "mtcars, aliased: mpg ~ wt + I(2 * wt) + hp" = list(mpg ~ wt + I(2 * wt) + hp, mtcars)
)

#' The default tier (no `tier` argument), then each tier by name (full batches)
real_data_tiers <- c("(default)", "numpy", "autograd", "optim", "module", "dataloader")

fit_real <- function(case, tier) {
  if (identical(tier, "(default)")) {
    lr_fit(case[[1]], data = case[[2]])
  } else {
    lr_fit(case[[1]], data = case[[2]], tier = tier)
  }
}

#' lm()'s answer, and what lr_fit() must agree with besides the coefficients (one
#' expectation per fit, naming every difference)
expect_lm_fit <- function(fit, ref, label) {
  b_lm <- as.matrix(coef(ref))
  aliased_lm <- is.na(b_lm[setdiff(rownames(b_lm), "(Intercept)"), 1L])
  checks <- c(
    "converged" = isTRUE(fit$converged),
    "verdict digits >= 7" = isTRUE(fit$verdict$digits >= 7),
    "7 digits required" = identical(fit$verdict$digits_required, 7L),
    "stop_reason converged" = identical(fit$stop_reason, "converged"),
    "rank as lm()'s" = identical(fit$rank, ref$rank),
    "df.residual as lm()'s" = identical(fit$df.residual, ref$df.residual),
    "nobs as lm()'s" = identical(nobs(fit), nobs(ref)),
    "aliased where lm() has NA" = identical(unname(fit$aliased), unname(aliased_lm))
  )
  problems <- c(lm_digits_problems(fit, ref), sprintf("not %s", names(checks)[!checks]))
  expect(!length(problems), sprintf("%s: %s.", label, paste(problems, collapse = "; ")))
}

test_that("with every default, lr_fit() gives lm()'s coefficients on real data, in every tier", {
  skip_if_no_python()
  for (name in names(real_data)) {
    case <- real_data[[name]]
    ref <- lm(case[[1]], data = case[[2]])
    for (tier in real_data_tiers) {
      label <- sprintf("%s, tier %s", name, tier)
      expect_no_warning(fit <- fit_real(case, tier))
      expect_lm_fit(fit, ref, label)
      expect_identical(fit$tier, if (tier == "(default)") "module" else tier)
    }
  }
})

#' TRUE where the 1-minute load average exceeds the CPUs (Linux): then wall-clock times
#' measure the other processes as much as this one
machine_busy <- function() {
  load <- tryCatch(
    as.numeric(strsplit(readLines("/proc/loadavg", warn = FALSE), " ", fixed = TRUE)[[1]][[1]]),
    error = function(e) NA_real_, warning = function(w) NA_real_
  )
  isTRUE(load > parallel::detectCores())
}

test_that("each of those fits takes under 0.1 s (after the first fit of the session)", {
  skip_if_no_python()
  invisible(lr_fit(mpg ~ wt, data = mtcars)) # the first fit of the session may start things
  limit <- 0.1
  # on a busy machine the wall-clock time is the other processes': one run per fit, held
  # to its CPU time below; otherwise the fastest of up to 3 runs (one slow run is the
  # machine, three are the code)
  attempts <- if (machine_busy()) 1L else 3L
  wall <- cpu <- numeric()
  for (name in names(real_data)) {
    for (tier in real_data_tiers) {
      label <- sprintf("%s, tier %s", name, tier)
      wall[label] <- cpu[label] <- Inf
      for (attempt in seq_len(attempts)) {
        time <- system.time(fit_real(real_data[[name]], tier), gcFirst = FALSE)
        wall[label] <- min(wall[label], time[["elapsed"]])
        cpu[label] <- min(cpu[label], time[["user.self"]] + time[["sys.self"]])
        if (wall[label] < limit) break
      }
    }
  }
  report <- function(seconds, what) {
    slow <- seconds[seconds >= limit]
    sprintf(
      "%d fits took >= %.1f s of %s (the fastest of %d runs):\n%s", length(slow), limit, what,
      attempts,
      paste(sprintf("  %s: %.3f s", names(slow), slow), collapse = "\n")
    )
  }
  if (any(wall >= limit) && (attempts == 1L || machine_busy())) {
    # other processes hold the CPUs: hold the fits to their own CPU time instead
    expect(all(cpu < limit), report(cpu, "CPU time (the machine is busy)"))
  } else {
    expect(all(wall < limit), report(wall, "wall-clock time"))
  }
  expect_lt(stats::median(if (attempts == 1L) cpu else wall), limit)
})

test_that("plain SGD's mini-batches get near the optimal loss within the default epochs, and say why not lm()", {
  skip_if_no_python()
  expect_warning(
    fit <- lr_fit(mpg ~ wt + hp, mtcars, standardize = TRUE, tier = "dataloader", batch_size = 8,
      variance_reduction = "none"),
    "full batches",
    class = "lrtiers_convergence_warning"
  )
  expect_lte(fit$epochs_run, lr_defaults()$defaults$epochs)
  # (lr = "auto" is a share of 1/L that no batch can overshoot: a slow start for the decay)
  expect_lte((fit$loss - fit$optimum$loss) / fit$optimum$loss, 1e-3)
  expect_false(fit$converged)
  expect_equal(fit$verdict$cause, "mini_batch")
  expect_match(fit$verdict$advice, "full batches")
  # mini-batches get the schedule that makes them settle (auto: inverse_time)
  expect_equal(fit$optimizer$schedule, "inverse_time")
  # near lm(), but not to 7 digits
  expect_equal(coef(fit), coef(lm(mpg ~ wt + hp, data = mtcars)), tolerance = 1e-2)
})

test_that("a constant column gets NA, as in lm()", {
  skip_if_no_python()
  d <- transform(mtcars, k = 3)
  ref <- lm(mpg ~ wt + k + hp, data = d)
  expect_true(is.na(coef(ref)[["k"]]))
  for (tier in real_data_tiers) {
    expect_no_warning(fit <- fit_real(list(mpg ~ wt + k + hp, d), tier))
    expect_lm_fit(fit, ref, paste("constant column, tier", tier))
    expect_identical(fit$aliased, c(wt = FALSE, k = TRUE, hp = FALSE))
  }
  # without an intercept a constant column is a column like any other
  ref0 <- lm(mpg ~ 0 + wt + k + hp, data = d)
  expect_no_warning(fit0 <- lr_fit(mpg ~ 0 + wt + k + hp, data = d))
  expect_lm_fit(fit0, ref0, "constant column, no intercept")
})

test_that("more columns than rows (p > n): NA beyond the rank, df.residual 0, as in lm()", {
  skip_if_no_python()
  set.seed(2024)
  d <- data.frame(y = rnorm(8), matrix(rnorm(8 * 12), 8))
  ref <- lm(y ~ ., data = d)
  expect_equal(ref$df.residual, 0L)
  expect_equal(sum(is.na(coef(ref))), 13L - 8L)
  for (tier in real_data_tiers) {
    expect_no_warning(fit <- fit_real(list(y ~ ., d), tier))
    expect_lm_fit(fit, ref, paste("p > n, tier", tier))
    expect_identical(fit$df.residual, 0L)
    expect_identical(fit$rank, 8L)
    expect_equal(names(fit$aliased)[fit$aliased], paste0("X", 8:12))
  }
  # every residual is (numerically) zero: the fit interpolates, as lm()'s does
  expect_lt(max(abs(residuals(fit))), 1e-10)
})

test_that("a near-collinear design (longley) agrees with lm() as well", {
  skip_if_no_python()
  ref <- lm(Employed ~ ., data = longley)
  # lm()'s own numbers are hard here: the columns are nearly collinear
  expect_gt(kappa(model.matrix(ref), exact = TRUE), 1e7)
  for (tier in real_data_tiers) {
    expect_no_warning(fit <- fit_real(list(Employed ~ ., longley), tier))
    expect_lm_fit(fit, ref, paste("longley, tier", tier))
  }
  # NIST's certified values for its Longley problem (the same data, y in units rather than
  # thousands), to 7 digits relative to max(|b|, certified SE)
  strd <- reticulate::import("lrtiers.datasets")$strd("Longley")
  expect_no_warning(fit <- lr_fit(strd$x, strd$y))
  certified <- as.vector(strd$coefficients)
  expect_true(fit$converged)
  expect_true(all(abs(unname(coef(fit)) - certified) <=
    1e-7 * pmax(abs(certified), as.vector(strd$std_errors))))
})
