# The progress display and the user's callback, driven by the core's per-epoch callback.

#' Progress bar and user callback, driven by the core's per-epoch callback
#' @noRd
new_monitor <- function(epochs, progress, callback) {
  state <- new.env(parent = emptyenv())
  state$epoch <- NA_integer_
  state$shown <- FALSE
  state$last <- 0
  state$error <- NULL
  started <- proc.time()[["elapsed"]]
  delay <- getOption("lrtiers.progress_delay", 0.5)
  width <- 30L
  draw <- function(epoch, loss) {
    done <- if (epochs > 0) min(1, epoch / epochs) else 1
    bar <- strrep("=", round(width * done))
    cat(sprintf(
      "\r[%-*s] %3d%%  epoch %d/%d  loss %.6g", width, bar, round(100 * done), epoch,
      as.integer(epochs), loss
    ), file = stderr())
    utils::flush.console()
  }
  state$callback <- function(epoch, loss) {
    state$epoch <- epoch
    if (progress) {
      now <- proc.time()[["elapsed"]]
      if (now - started >= delay && (now - state$last > 0.1 || epoch == epochs)) {
        state$shown <- TRUE
        state$last <- now
        draw(epoch, loss)
      }
    }
    if (!is.null(state$error)) {
      return(FALSE)
    }
    if (!is.null(callback)) {
      keep_going <- tryCatch(callback(epoch, loss), error = function(e) {
        state$error <- e
        state$error_epoch <- epoch
        FALSE
      })
      if (identical(keep_going, FALSE)) {
        return(FALSE)
      }
    }
    TRUE
  }
  list(
    active = progress || !is.null(callback),
    callback = state$callback,
    epoch_text = function() if (is.na(state$epoch)) "0" else format(state$epoch),
    close = function() {
      if (state$shown) {
        cat("\n", file = stderr())
        state$shown <- FALSE
      }
    },
    rethrow = function(call) {
      if (!is.null(state$error)) {
        abort(
          c(
            sprintf("`callback` failed at epoch %s; the fit was stopped:", state$error_epoch),
            conditionMessage(state$error)
          ),
          call,
          class = "lrtiers_callback_error"
        )
      }
    }
  )
}

# ------------------------------------------------------------------ the result
