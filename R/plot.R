# plot(): lm()'s diagnostic plots and the loss curve.

#' Plot an lr_fit: lm()'s diagnostics and the loss curve
#'
#' `plot(fit)` draws `lm()`'s diagnostic plots, numbered as [stats::plot.lm()]
#' numbers them and drawn by it (1 residuals vs fitted, 2 normal Q-Q,
#' 3 scale-location, 4 Cook's distance, 5 residuals vs leverage, 6 Cook's
#' distance vs leverage; by default 1, 2, 3 and 5), then the loss curve
#' (`which = "loss"`): the training loss per epoch, the validation loss when
#' there is one, and the closed-form optimum. The loss curve uses a log scale
#' on the loss axis, and on the epoch axis too when the fit ran 10 epochs or
#' more (a fit that converges in a few epochs is otherwise a spike at the left
#' edge). Legends sit above the plot area, never over the data. The
#' diagnostics need the training data (not in a fit read by [lr_load()], nor
#' in one trained on rows streamed from a file) and a single-output fit;
#' without them `plot(fit)` draws only the loss curve, and asking for a
#' diagnostic plot by number is an error (class `lrtiers_data_not_in_memory`
#' when the rows are missing). A fit that has not converged warns: its
#' residuals are those of the fitted estimate, not of least squares.
#'
#' @param x An `lr_fit`.
#' @param which Which plots: numbers from 1 to 6 as in [stats::plot.lm()],
#'   and `"loss"` for the loss curve (`c(1, 2, 3, 5, "loss")` by default).
#' @param ask Ask before each new page (as [stats::plot.lm()]).
#' @param log For the loss curve: `"y"`, `"xy"` or `""`; by default `"xy"`
#'   from 10 epochs on, else `"y"`.
#' @param ... Passed on to [stats::plot.lm()] (`id.n`, `caption`,
#'   `cook.levels`, ...) and to [graphics::plot()].
#' @return `x`, invisibly.
#' @export
#' @examplesIf lrtiers:::python_ready()
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' oldpar <- par(mfrow = c(2, 3))
#' plot(fit, which = c(1:6, "loss"))
#' par(oldpar)
#' plot(fit, which = "loss")
plot.lr_fit <- function(x, which = c(1L, 2L, 3L, 5L, "loss"),
                        ask = prod(graphics::par("mfcol")) < length(which) &&
                          grDevices::dev.interactive(),
                        log = NULL, ...) {
  explicit <- !missing(which)
  loss <- "loss" %in% which
  numbers <- suppressWarnings(as.integer(which[which != "loss"]))
  if (!length(which) || anyNA(numbers) || any(!numbers %in% 1:6)) {
    abort("`which` must hold numbers from 1 to 6 (as plot.lm()) and/or \"loss\".",
      class = "lrtiers_value_error")
  }
  can_diagnose <- inherits(x, "lm") && !x$multi && !is.null(x$qr)
  if (length(numbers) && !can_diagnose) {
    if (explicit && !x$multi) {
      check_has_data(x, sprintf("plot(fit, which = %s) (the diagnostic plots)",
        if (length(numbers) == 1L) numbers else
          sprintf("c(%s)", paste(numbers, collapse = ", "))))
    }
    if (explicit) {
      abort(
        sprintf("the diagnostic plots need %s; plot(fit, which = \"loss\") draws the loss curve.",
          if (x$multi) "a single-output fit" else "the QR of the design (lr_fit(qr = TRUE))"),
        class = "lrtiers_argument_error"
      )
    }
    numbers <- integer()
    loss <- TRUE
  }
  if (ask) {
    old <- grDevices::devAskNewPage(TRUE)
    on.exit(grDevices::devAskNewPage(old), add = TRUE)
  }
  if (length(numbers)) {
    warn_not_converged(x, "plot()")
    without_convergence_warning(
      utils::getS3method("plot", "lm")(x, which = numbers, ask = FALSE, ...)
    )
  }
  if (loss) {
    dots <- list(...) # plot.lm()'s own arguments are not graphical parameters
    dots <- dots[setdiff(names(dots) %||% rep("", length(dots)),
      names(formals(utils::getS3method("plot", "lm"))))]
    do.call(plot_loss, c(list(x, log), dots))
  }
  invisible(x)
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
#' epoch axis from 10 epochs on; a fit of one epoch shows the loss before and
#' after it), or one of `lm()`'s diagnostics by the numbers of
#' [stats::plot.lm()], from the same values (`rstandard()`, `hatvalues()`,
#' `cooks.distance()`).
#'
#' @param object An `lr_fit`.
#' @param which One plot: `"loss"`, or 1 to 6 as in [stats::plot.lm()].
#' @param ... Not used.
#' @return A ggplot object.
#' @exportS3Method ggplot2::autoplot
#' @examplesIf lrtiers:::python_ready() && requireNamespace("ggplot2", quietly = TRUE)
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' ggplot2::autoplot(fit)
#' ggplot2::autoplot(fit, which = 1)
autoplot.lr_fit <- function(object, which = "loss", ...) {
  check_no_dots(...)
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    abort("autoplot() needs the ggplot2 package.", class = "lrtiers_python_error")
  }
  number <- if (identical(which, "loss")) 0L else suppressWarnings(as.integer(which))
  if (length(number) != 1L || is.na(number) || !number %in% 0:6) {
    abort("`which` must be \"loss\" or one number from 1 to 6 (as plot.lm()).",
      class = "lrtiers_value_error")
  }
  gg <- ggplot2::ggplot
  aes <- ggplot2::aes
  if (number == 0L) {
    h <- object$history
    if (!nrow(h)) {
      abort("the fit ran no epochs: there is no loss curve to plot.",
        class = "lrtiers_argument_error")
    }
    log_x <- nrow(h) >= 10L
    if (!log_x && is.finite(object$initial_loss)) {
      # on a linear epoch axis the curve starts where training did: a one-epoch fit is a
      # line from epoch 0 to epoch 1, not a lone point
      start <- h[1L, , drop = FALSE]
      start$epoch <- 0L
      start$loss <- object$initial_loss
      if (!is.null(h$val_loss)) start$val_loss <- NA_real_
      h <- rbind(start, h)
    }
    long <- data.frame(epoch = h$epoch, loss = h$loss, curve = "training")
    if (!is.null(h$val_loss)) {
      long <- rbind(long, data.frame(epoch = h$epoch, loss = h$val_loss, curve = "validation"))
    }
    long <- long[is.finite(long$loss) & long$loss > 0, , drop = FALSE]
    p <- gg(long, aes(.data$epoch, .data$loss, linetype = .data$curve)) +
      ggplot2::geom_line(linewidth = 0.8) +
      ggplot2::geom_point(size = 1.2) +
      ggplot2::scale_y_log10() +
      ggplot2::labs(x = "epoch", y = "loss (MSE)", linetype = NULL,
        title = sprintf("Loss by epoch (tier \"%s\")", object$tier),
        caption = "dotted: least squares (lm())") +
      ggplot2::theme(legend.position = "top")
    if (object$optimum$loss > 0) {
      p <- p + ggplot2::geom_hline(yintercept = object$optimum$loss, linetype = "dotted",
        colour = "grey40")
    }
    if (log_x) p <- p + ggplot2::scale_x_log10()
    return(p)
  }
  if (!object$multi) check_has_data(object, "autoplot() of the diagnostic plots")
  if (!inherits(object, "lm") || object$multi || is.null(object$qr)) {
    abort("the diagnostic plots need the training data of a single-output fit.",
      class = "lrtiers_argument_error")
  }
  warn_not_converged(object, "autoplot()")
  d <- without_convergence_warning(diagnostic_values(object))
  smooth <- ggplot2::geom_smooth(method = "loess", formula = y ~ x, se = FALSE,
    colour = "#D55E00", linewidth = 0.7)
  switch(number,
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
        title = "Residuals vs Leverage"),
    gg(d, aes(.data$hat / (1 - .data$hat), .data$cooks)) + ggplot2::geom_point() + smooth +
      ggplot2::labs(x = "Leverage h / (1 - h)", y = "Cook's distance",
        title = "Cook's dist vs Leverage h / (1 - h)")
  )
}

#' The diagnostics' values, as plot.lm() takes them (rows of weight 0 and rows na.exclude
#' padded are left out; `index` is the row's position in the data, as plot.lm()'s)
#' @noRd
diagnostic_values <- function(object) {
  resid <- stats::weighted.residuals(object, drop0 = FALSE)
  d <- data.frame(
    fitted = stats::fitted(object), resid = resid, hat = stats::hatvalues(object),
    std = stats::rstandard(object), cooks = stats::cooks.distance(object)
  )
  d$index <- seq_len(nrow(d))
  w <- stats::weights(object)
  keep <- stats::complete.cases(d) & if (is.null(w)) TRUE else w != 0
  d[keep, , drop = FALSE]
}
