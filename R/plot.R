# plot(): lm()'s diagnostic plots and the loss curve.

#' Plot an lr_fit: lm()'s diagnostics and the loss curve
#'
#' `plot(fit)` draws, one after another, `lm()`'s four diagnostic plots
#' (as [stats::plot.lm()] numbers them: 1 residuals vs fitted, 2 normal Q-Q,
#' 3 scale-location, 5 residuals vs leverage with Cook's distance contours;
#' 4, Cook's distance, on request) and the loss curve (6): the training loss per
#' epoch, the validation loss when there is one, and the closed-form optimum.
#' The loss curve uses a log scale on the loss axis, and on the epoch axis too
#' when the fit ran 10 epochs or more (a fit that converges in a few epochs
#' is otherwise a spike at the left edge). Legends sit above the plot area,
#' never over the data. The diagnostics need the training data (not in a fit
#' read by [lr_load()], nor in one trained on rows streamed from a file) and a
#' single-output fit; without them `plot(fit)` draws only the loss curve, and
#' asking for a diagnostic plot by number is an error (class
#' `lrtiers_data_not_in_memory` when the rows are missing).
#'
#' @param x An `lr_fit`.
#' @param which Which plots, by number (see Description) or `"loss"` for 6.
#' @param ask Ask before each new page (as [stats::plot.lm()]).
#' @param log For the loss curve: `"y"`, `"xy"` or `""`; by default `"xy"`
#'   from 10 epochs on, else `"y"`.
#' @param id.n How many of the most extreme points to label.
#' @param ... Graphical parameters passed on to [graphics::plot()].
#' @return `x`, invisibly.
#' @export
#' @examplesIf lrtiers:::python_ready()
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' oldpar <- par(mfrow = c(2, 3))
#' plot(fit)
#' par(oldpar)
#' plot(fit, which = "loss")
plot.lr_fit <- function(x, which = c(1L, 2L, 3L, 5L, 6L),
                        ask = prod(graphics::par("mfcol")) < length(which) &&
                          grDevices::dev.interactive(),
                        log = NULL, id.n = 3L, ...) {
  explicit <- !missing(which)
  if (is.character(which)) which[which == "loss"] <- "6"
  which <- suppressWarnings(as.integer(which))
  if (!length(which) || anyNA(which) || any(!which %in% 1:6)) {
    abort("`which` must hold numbers from 1 to 6 (or \"loss\").", class = "lrtiers_value_error")
  }
  diagnostics <- setdiff(which, 6L)
  can_diagnose <- !is.null(x$fitted.values) && !x$multi
  if (length(diagnostics) && !can_diagnose) {
    if (explicit && !x$multi) {
      check_has_data(x, sprintf("plot(fit, which = %s) (the diagnostic plots)",
        if (length(diagnostics) == 1L) diagnostics else
          sprintf("c(%s)", paste(diagnostics, collapse = ", "))))
    }
    if (explicit) {
      abort(
        sprintf("the diagnostic plots need %s; plot(fit, which = \"loss\") draws the loss curve.",
          if (x$multi) "a single-output fit" else "the training data, which a fit read by lr_load() lacks"),
        class = "lrtiers_argument_error"
      )
    }
    which <- 6L
  }
  if (ask) {
    old <- grDevices::devAskNewPage(TRUE)
    on.exit(grDevices::devAskNewPage(old), add = TRUE)
  }
  if (length(intersect(which, 1:5))) parts <- diagnostic_parts(x)
  for (w in which) {
    switch(w,
      plot_residuals_fitted(parts, id.n, ...),
      plot_qq(parts, id.n, ...),
      plot_scale_location(parts, id.n, ...),
      plot_cooks(parts, id.n, ...),
      plot_leverage(parts, id.n, x$rank, ...),
      plot_loss(x, log, ...)
    )
  }
  invisible(x)
}

diagnostic_parts <- function(x) {
  w <- x$weights %||% rep(1, length(x$residuals))
  r <- sqrt(w) * unname(x$residuals)
  h <- leverage(x)
  s <- lr_sigma(x)
  std <- r / (s * sqrt(1 - h))
  labels <- names(x$fitted.values) %||% as.character(seq_along(r))
  list(fitted = unname(x$fitted.values), resid = r, hat = unname(h), std = unname(std),
    cooks = unname((std^2 * h / (1 - h)) / x$rank), labels = labels,
    caption = if (!is.null(x$terms)) deparse1(stats::formula(x$terms)) else "lr_fit(x, y)")
}

label_extremes <- function(x, y, score, labels, id.n) {
  if (id.n <= 0L) {
    return(invisible())
  }
  top <- utils::head(order(-abs(score)), id.n)
  graphics::text(x[top], y[top], labels[top], pos = ifelse(x[top] > mean(range(x)), 2, 4),
    cex = 0.75, xpd = TRUE)
}

smooth_line <- function(x, y) {
  ok <- is.finite(x) & is.finite(y)
  if (sum(ok) > 2L) graphics::lines(stats::lowess(x[ok], y[ok], iter = 3L), col = "#D55E00", lwd = 1.5)
}

plot_residuals_fitted <- function(p, id.n, ...) {
  graphics::plot(p$fitted, p$resid, xlab = "Fitted values", ylab = "Residuals",
    main = "Residuals vs Fitted", sub = p$caption, ...)
  graphics::abline(h = 0, lty = 3, col = "grey50")
  smooth_line(p$fitted, p$resid)
  label_extremes(p$fitted, p$resid, p$resid, p$labels, id.n)
}

plot_qq <- function(p, id.n, ...) {
  q <- stats::qqnorm(p$std, main = "Normal Q-Q", ylab = "Standardized residuals",
    sub = p$caption, ...)
  stats::qqline(p$std, lty = 3, col = "grey50")
  label_extremes(q$x, q$y, p$std, p$labels, id.n)
}

plot_scale_location <- function(p, id.n, ...) {
  y <- sqrt(abs(p$std))
  graphics::plot(p$fitted, y, xlab = "Fitted values",
    ylab = expression(sqrt(abs("Standardized residuals"))), main = "Scale-Location",
    ylim = c(0, max(y, na.rm = TRUE)), sub = p$caption, ...)
  smooth_line(p$fitted, y)
  label_extremes(p$fitted, y, y, p$labels, id.n)
}

plot_cooks <- function(p, id.n, ...) {
  graphics::plot(p$cooks, type = "h", xlab = "Obs. number", ylab = "Cook's distance",
    main = "Cook's distance", sub = p$caption, ...)
  label_extremes(seq_along(p$cooks), p$cooks, p$cooks, p$labels, id.n)
}

plot_leverage <- function(p, id.n, rank, ...) {
  ylim <- range(p$std, na.rm = TRUE)
  ylim <- ylim + c(-0.08, 0.08) * diff(ylim)
  xlim <- c(0, max(p$hat, na.rm = TRUE) * 1.05)
  graphics::plot(p$hat, p$std, xlim = xlim, ylim = ylim, xlab = "Leverage",
    ylab = "Standardized residuals", main = "Residuals vs Leverage", sub = p$caption, ...)
  graphics::abline(h = 0, v = 0, lty = 3, col = "grey50")
  smooth_line(p$hat, p$std)
  hh <- seq(min(p$hat[p$hat > 0], 0.01), xlim[[2]], length.out = 101)
  for (level in c(0.5, 1)) {
    bound <- sqrt(level * rank * (1 - hh) / hh)
    graphics::lines(hh, bound, lty = 2, col = "firebrick")
    graphics::lines(hh, -bound, lty = 2, col = "firebrick")
  }
  graphics::mtext("- - Cook's distance 0.5 and 1", side = 3, line = 0.2, adj = 1, cex = 0.7,
    col = "firebrick")
  label_extremes(p$hat, p$std, p$cooks, p$labels, id.n)
}

plot_loss <- function(x, log = NULL, main = sprintf("Loss by epoch (tier \"%s\")", x$tier),
                      xlab = "epoch", ylab = "loss (MSE)", ...) {
  h <- x$history
  if (!nrow(h)) {
    abort("the fit ran no epochs: there is no loss curve to plot.", class = "lrtiers_argument_error")
  }
  log <- log %||% if (nrow(h) >= 10L) "xy" else "y"
  if (!grepl("x", log, fixed = TRUE) && is.finite(x$initial_loss)) {
    # on a linear epoch axis the curve starts where training did: epoch 0
    start <- h[1L, , drop = FALSE]
    start$epoch <- 0L
    start$loss <- x$initial_loss
    if (!is.null(h$val_loss)) start$val_loss <- NA_real_
    h <- rbind(start, h)
  }
  has_val <- !is.null(h$val_loss)
  values <- c(h$loss, if (has_val) h$val_loss, x$optimum$loss)
  values <- values[is.finite(values)]
  if (grepl("y", log, fixed = TRUE)) values <- values[values > 0]
  # room above the plot for the legend: it never covers the curves
  old <- graphics::par(mar = pmax(graphics::par("mar"), c(5.1, 4.1, 5.6, 2.1)))
  on.exit(graphics::par(old), add = TRUE)
  graphics::plot(h$epoch, h$loss, type = if (nrow(h) > 1L) "l" else "p", log = log,
    ylim = range(values), xlab = xlab, ylab = ylab, main = "", lwd = 2, ...)
  graphics::title(main = main, line = 3.2)
  if (has_val) graphics::lines(h$epoch, h$val_loss, lty = 2, lwd = 2, col = "firebrick")
  optimum_shown <- x$optimum$loss > 0 || !grepl("y", log, fixed = TRUE)
  if (optimum_shown) graphics::abline(h = x$optimum$loss, lty = 3, col = "grey40")
  graphics::legend("bottom", inset = c(0, 1), xpd = NA, horiz = TRUE, bty = "n", cex = 0.85,
    legend = c("training", if (has_val) "validation", if (optimum_shown) "least squares (lm())"),
    lty = c(1, if (has_val) 2, if (optimum_shown) 3), lwd = c(2, if (has_val) 2, if (optimum_shown) 1),
    col = c("black", if (has_val) "firebrick", if (optimum_shown) "grey40"))
}

#' ggplot2 versions of the plots
#'
#' `autoplot()` (when ggplot2 is installed) draws one of the plots of
#' [plot.lr_fit()] as a ggplot object: by default the loss curve (with a log
#' epoch axis from 10 epochs on), or one of `lm()`'s diagnostics by the same
#' numbers as `plot()`.
#'
#' @param object An `lr_fit`.
#' @param which One plot: 1 to 6 as in [plot.lr_fit()], or `"loss"` (6).
#' @param ... Not used.
#' @return A ggplot object.
#' @exportS3Method ggplot2::autoplot
#' @examplesIf lrtiers:::python_ready() && requireNamespace("ggplot2", quietly = TRUE)
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' ggplot2::autoplot(fit, which = 1)
autoplot.lr_fit <- function(object, which = "loss", ...) {
  check_no_dots(...)
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    abort("autoplot() needs the ggplot2 package.", class = "lrtiers_python_error")
  }
  if (identical(which, "loss")) which <- 6L
  which <- suppressWarnings(as.integer(which))
  if (length(which) != 1L || is.na(which) || !which %in% 1:6) {
    abort("`which` must be one number from 1 to 6 (or \"loss\").", class = "lrtiers_value_error")
  }
  gg <- ggplot2::ggplot
  aes <- ggplot2::aes
  if (which == 6L) {
    h <- object$history
    if (!nrow(h)) {
      abort("the fit ran no epochs: there is no loss curve to plot.",
        class = "lrtiers_argument_error")
    }
    long <- data.frame(epoch = h$epoch, loss = h$loss, curve = "training")
    if (!is.null(h$val_loss)) {
      long <- rbind(long, data.frame(epoch = h$epoch, loss = h$val_loss, curve = "validation"))
    }
    p <- gg(long, aes(.data$epoch, .data$loss, linetype = .data$curve)) +
      ggplot2::geom_line(linewidth = 0.8) +
      ggplot2::geom_hline(yintercept = object$optimum$loss, linetype = "dotted",
        colour = "grey40") +
      ggplot2::scale_y_log10() +
      ggplot2::labs(x = "epoch", y = "loss (MSE)", linetype = NULL,
        title = sprintf("Loss by epoch (tier \"%s\")", object$tier),
        caption = "dotted: least squares (lm())") +
      ggplot2::theme(legend.position = "top")
    if (nrow(h) >= 10L) p <- p + ggplot2::scale_x_log10()
    return(p)
  }
  if (!object$multi) check_has_data(object, "autoplot() of the diagnostic plots")
  if (is.null(object$fitted.values) || object$multi) {
    abort("the diagnostic plots need the training data of a single-output fit.",
      class = "lrtiers_argument_error")
  }
  d <- as.data.frame(diagnostic_parts(object)[c("fitted", "resid", "hat", "std", "cooks")])
  d$index <- seq_len(nrow(d))
  smooth <- ggplot2::geom_smooth(method = "loess", formula = y ~ x, se = FALSE,
    colour = "#D55E00", linewidth = 0.7)
  switch(which,
    gg(d, aes(.data$fitted, .data$resid)) + ggplot2::geom_point() + smooth +
      ggplot2::geom_hline(yintercept = 0, linetype = "dotted") +
      ggplot2::labs(x = "Fitted values", y = "Residuals", title = "Residuals vs Fitted"),
    gg(d, aes(sample = .data$std)) + ggplot2::stat_qq() +
      ggplot2::stat_qq_line(linetype = "dotted") +
      ggplot2::labs(x = "Theoretical quantiles", y = "Standardized residuals",
        title = "Normal Q-Q"),
    gg(d, aes(.data$fitted, sqrt(abs(.data$std)))) + ggplot2::geom_point() + smooth +
      ggplot2::labs(x = "Fitted values", y = "sqrt(|standardized residuals|)",
        title = "Scale-Location"),
    gg(d, aes(.data$index, .data$cooks)) + ggplot2::geom_segment(aes(xend = .data$index,
      yend = 0)) + ggplot2::labs(x = "Obs. number", y = "Cook's distance",
      title = "Cook's distance"),
    gg(d, aes(.data$hat, .data$std)) + ggplot2::geom_point() + smooth +
      ggplot2::geom_hline(yintercept = 0, linetype = "dotted") +
      ggplot2::labs(x = "Leverage", y = "Standardized residuals",
        title = "Residuals vs Leverage")
  )
}
