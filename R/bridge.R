# The bridge: every call from the fitting, predicting and comparing code into the Python
# core, and the mapping of Python's exceptions and warnings to R conditions. (Start-up,
# the doctor and the installer talk to Python about Python itself: R/startup.R.)

#' The one call into the core: fit, then bring back plain data
#' @noRd
fit_bridge <- function(x, y, settings, feature_names, target_names, weights = NULL,
                       offset = NULL, progress, callback, call, x_fitted = NULL) {
  # an offset is known: train on y - offset (as lm()), add it back to the fitted values
  y_train <- if (is.null(offset)) y else y - offset
  # a length-1 vector would reach Python as a scalar: a one-row fit sends a 1-d array
  if (!is.matrix(y_train) && length(y_train) == 1L) y_train <- array(y_train, 1L)
  if (length(weights) == 1L) weights <- array(weights, 1L)
  args <- c(
    list(x, y_train), settings,
    list(feature_names = as.list(feature_names), target_names = as.list(target_names))
  )
  if (!is.null(weights)) args$weights <- weights
  pyfit <- call_core_fit(args, settings, progress, callback, call)
  core <- jsonlite::parse_json(py_json(pyfit$to_dict()), simplifyVector = FALSE)
  # a validation fraction: fitted values and residuals of the training rows only (nobs())
  rows <- seq_len(NROW(y))
  if (is.numeric(settings$validation)) {
    rows <- split_rows_bridge(NROW(y), settings$validation, core$settings$seed)
  }
  # x_fitted: every row of the data when rows of weight 0 were left out of the fit
  x_rows <- x_fitted %||% if (length(rows) == NROW(y)) x else x[rows, , drop = FALSE]
  # fitted values, as lm() has them: no rank-deficiency warning for those
  fitted <- with_core_conditions(pyfit$predict(x_rows), call = call,
    muffle = c("RankDeficiencyWarning", "ConvergenceWarning"))
  fitted <- as_r_prediction(fitted, target_names, rownames(x_rows))
  if (!is.null(offset)) fitted <- fitted + offset[rows]
  list(core = core, fitted = fitted, rows = rows,
    all_rows = if (length(rows) == NROW(y)) NULL else rows)
}

#' A file on disk as the core's streamed source (lrtiers.scan): only its metadata is read
#'
#' `x`: NULL (every column not in `y`) or column names; `y`: one name (a single response,
#' fitted as a vector) or a list of names (one output each). The core's errors about columns
#' name the file and the column, and list the file's columns.
#' @noRd
scan_bridge <- function(path, x, y, chunk_rows, call) {
  module <- core_for_fit(call)
  args <- list(path, x = if (!is.null(x)) as.list(x), y = y)
  if (!is.null(chunk_rows)) args$chunk_rows <- chunk_rows
  tryCatch(
    with_core_conditions(py_call_with(module$scan, args), call = call,
      what = function() sprintf("reading %s", path)),
    lrtiers_core_error = function(e) {
      # "x: '<path>' has no column 'z'": x and y are the core's names for the columns
      message <- conditionMessage(e)
      for (role in c("x: \"", "y: \"")) {
        if (startsWith(message, role)) message <- paste0("the file \"", substring(message, 5L))
      }
      e$message <- message
      stop(e)
    }
  )
}

#' The one call into the core for a streamed fit: the source is read pass after pass,
#' never held; the fit record comes back as plain data (there are no rows to bring back)
#' @noRd
source_fit_bridge <- function(source, settings, progress, callback, call) {
  pyfit <- call_core_fit(c(list(source), settings), settings, progress, callback, call)
  jsonlite::parse_json(py_json(pyfit$to_dict()), simplifyVector = FALSE)
}

#' The core's lr_fit(*args) with the progress bar and the user's callback around it (both
#' bridges): the Python fit object, or the core's error as an R condition
#' @noRd
call_core_fit <- function(args, settings, progress, callback, call) {
  if (!is.null(callback) && !is.function(callback)) {
    abort(sprintf("`callback` must be NULL or a function(epoch, loss); got %s.", describe(callback)),
      call,
      class = "lrtiers_argument_error"
    )
  }
  module <- core_for_fit(call)
  epochs <- settings$epochs %||% lr_defaults()$defaults$epochs
  monitor <- new_monitor(epochs, progress, callback)
  on.exit(monitor$close(), add = TRUE)
  if (monitor$active) args$callback <- reticulate::r_to_py(monitor$callback, convert = TRUE)
  pyfit <- withCallingHandlers(
    with_core_conditions(
      py_call_with(module$lr_fit, args),
      call = call,
      what = function() {
        sprintf("the fit (at epoch %s of %d)", monitor$epoch_text(), as.integer(epochs))
      }
    ),
    error = function(e) monitor$close() # end the progress line before the message
  )
  monitor$close()
  monitor$rethrow(call)
  pyfit
}

#' The 1-based training rows of a validation fraction, as the core splits them
#' @noRd
split_rows_bridge <- function(n, validation, seed) {
  split <- core()$fit$split_rows(n, validation, seed)
  as.integer(reticulate::py_to_r(split[[0L]])) + 1L
}

#' A core prediction (NumPy array) as a vector, or a matrix with one column per output
#' @noRd
as_r_prediction <- function(pred, target_names, row_names = NULL) {
  pred <- reticulate::py_to_r(pred)
  if (length(dim(pred)) == 2L) {
    dimnames(pred) <- list(row_names, target_names)
    pred
  } else {
    pred <- as.vector(pred)
    names(pred) <- row_names
    pred
  }
}

#' The core's predictions for a complete double matrix of features
#'
#' The core gets only what prediction needs, never the history: the fit record without
#' it becomes a Python LRFit once, kept for later calls (a few recent fits).
#' @noRd
core_predict <- function(object, x) {
  predictor <- core_predictor(object)
  pred <- with_core_conditions(predictor$predict(x), what = function() "predict()",
    muffle = c("RankDeficiencyWarning", "ConvergenceWarning")) # R warned already
  as_r_prediction(pred, object$target_names, rownames(x))
}

core_predictor <- function(object) {
  cache <- .state$predictors %||% list()
  key <- object$key %||% ""
  if (nzchar(key) && !is.null(cache[[key]])) {
    return(cache[[key]])
  }
  module <- core()
  json <- reticulate::import("json", convert = FALSE)
  record <- object$core
  # a predictor only: without the history, and so without the epochs it counts (the
  # core checks the two agree)
  record$history <- list(epoch = list(), loss = list(), grad_norm = list())
  record$epochs_run <- 0L
  predictor <- with_core_conditions(module$LRFit$from_dict(json$loads(json_encode(record))),
    what = function() "predict()")
  if (nzchar(key)) {
    cache[[key]] <- predictor
    .state$predictors <- utils::tail(cache, 8L)
  }
  predictor
}

compare_bridge <- function(x, y, tiers, settings, feature_names, target_names, call) {
  module <- core_for_fit(call)
  args <- c(
    list(x, y), settings,
    list(feature_names = as.list(feature_names), target_names = as.list(target_names))
  )
  if (!is.null(tiers)) {
    if (!is.character(tiers) || !length(tiers) || anyNA(tiers)) {
      abort("`tiers` must be NULL or a character vector of tier names.", call,
        class = "lrtiers_argument_error"
      )
    }
    args$tiers <- as.list(tiers)
  }
  table <- with_core_conditions(py_call_with(module$lr_compare, args),
    call = call, what = function() "lr_compare()"
  )
  # column by column (reticulate 1.41 does not recognise pandas 3's DataFrame class)
  columns <- reticulate::py_to_r(table$to_dict(orient = "list"))
  columns <- lapply(columns, function(col) if (is.list(col)) unlist(col) else col)
  as.data.frame(columns, stringsAsFactors = FALSE, check.names = FALSE)
}

#' The core's declaration of tiers, settings and defaults, as parsed JSON
#' @noRd
core_defaults <- function() {
  jsonlite::parse_json(py_json(core()$defaults()), simplifyVector = FALSE)
}

#' A Python object as JSON text (floats as Python's repr: they keep their bits)
#' @noRd
py_json <- function(object) {
  force(object) # first: it may be what starts the chosen Python (core())
  json <- reticulate::import("json", convert = FALSE)
  reticulate::py_to_r(json$dumps(object, allow_nan = FALSE))
}

#' Call a Python function with a list of arguments, without copying them
#'
#' `do.call(f, args)` puts the values themselves into the call, and evaluating
#' that call duplicates every vector in it: a 160 MB copy of a 1M x 20 matrix
#' before reticulate even sees it. Binding the arguments to symbols avoids that.
#' @noRd
py_call_with <- function(fun, args) {
  env <- new.env(parent = emptyenv())
  symbols <- lapply(seq_along(args), function(i) as.name(paste0("arg", i)))
  for (i in seq_along(args)) assign(paste0("arg", i), args[[i]], envir = env)
  names(symbols) <- names(args)
  assign("fun", fun, envir = env)
  eval(as.call(c(list(as.name("fun")), symbols)), env)
}

#' Run `expr` (a call into the core); Python exceptions become R conditions of
#' class lrtiers_error (with the Python class kept), Python warnings R warnings,
#' and an interrupt an lrtiers_interrupted error.
#' @noRd
with_core_conditions <- function(expr, call = NULL, what = function() "the fit",
                                 muffle = character()) {
  warnings_module <- reticulate::import("warnings", convert = FALSE)
  recorder <- warnings_module$catch_warnings(record = TRUE)
  records <- recorder$`__enter__`()
  warnings_module$simplefilter("always")
  exited <- FALSE
  exit <- function() {
    if (!exited) {
      exited <<- TRUE
      recorder$`__exit__`(NULL, NULL, NULL)
    }
  }
  on.exit(exit(), add = TRUE)
  result <- tryCatch(
    expr,
    python.builtin.Exception = function(e) {
      exit()
      resignal_python_warnings(records, call, muffle)
      stop(python_condition(e, call))
    },
    interrupt = function(e) {
      exit()
      stop(lrtiers_condition(
        sprintf("%s was interrupted (Esc / Ctrl-C); nothing was returned.", what()),
        class = "lrtiers_interrupted", call = call
      ))
    }
  )
  exit()
  resignal_python_warnings(records, call, muffle)
  result
}

#' R classes of the core's warnings (the Python class is kept as lrtiers_python_<name>)
#' @noRd
PYTHON_WARNING_CLASSES <- c(
  StepSizeWarning = "lrtiers_step_size_warning",
  ConvergenceWarning = "lrtiers_convergence_warning",
  RankDeficiencyWarning = "lrtiers_rank_deficiency_warning"
)

resignal_python_warnings <- function(records, call, muffle = character()) {
  for (record in reticulate::py_to_r(records)) {
    category <- reticulate::py_to_r(reticulate::py_get_attr(record$category, "__name__"))
    if (category %in% muffle) next
    message <- as_r_conventions(reticulate::py_str(record$message))
    class <- unname(PYTHON_WARNING_CLASSES[category])
    warning(lrtiers_condition(
      message,
      class = c(if (!is.na(class)) class, paste0("lrtiers_python_", category)), call = call,
      type = "warning"
    ))
  }
}

#' R classes of the core's typed errors, by their `kind` attribute (python/lrtiers/errors.py)
#' @noRd
CORE_ERROR_KINDS <- c(
  setting = "lrtiers_value_error",
  argument = "lrtiers_argument_error",
  data = "lrtiers_data_error",
  type = "lrtiers_type_error",
  missing = "lrtiers_na_error"
)

#' A Python exception from the core as an R condition
#'
#' Classified by what the exception carries, never by its message: the core's typed errors
#' (lrtiers.errors.LrtiersError) by `kind`, with `setting`, `rows` (made 1-based) and
#' `column` kept on the condition and the message rendered with R's 1-based rows;
#' DivergenceError by its class, with its fields; other ValueError and TypeError as data
#' errors; anything else as lrtiers_python_error.
#' @noRd
python_condition <- function(e, call) {
  py_class <- class(e)[[1]]
  short <- sub("^.*\\.", "", py_class)
  field <- function(name) {
    if (!reticulate::py_has_attr(e, name)) return(NULL)
    reticulate::py_to_r(reticulate::py_get_attr(e, name))
  }
  kind <- field("kind")
  typed <- is.character(kind) && length(kind) == 1L && kind %in% names(CORE_ERROR_KINDS)
  message <- if (typed) {
    reticulate::py_to_r(reticulate::py_get_attr(e, "render")(base = 1L))
  } else {
    tryCatch(
      paste(vapply(reticulate::py_to_r(e$args), function(a) paste(format(a), collapse = " "), ""),
        collapse = " "
      ),
      error = function(err) conditionMessage(e)
    )
  }
  if (!nzchar(message)) message <- conditionMessage(e)
  setting <- if (typed) field("setting")
  class <- if (typed) {
    CORE_ERROR_KINDS[[kind]]
  } else {
    switch(short,
      DivergenceError = "lrtiers_divergence_error",
      ValueError = ,
      TypeError = "lrtiers_data_error",
      "lrtiers_python_error"
    )
  }
  extra <- list()
  if (typed) {
    rows <- field("rows")
    extra <- list(setting = setting, column = field("column"),
      rows = if (!is.null(rows)) as.integer(unlist(rows)) + 1L)
  } else if (short == "DivergenceError") {
    for (name in c("epoch", "loss", "lr", "lr_max", "tier")) extra[[name]] <- field(name)
  }
  init <- if (identical(setting, "init")) {
    list(part = field("part"), expected = unlist(field("expected")), got = unlist(field("got")))
  }
  condition <- lrtiers_condition(core_message_in_r(message, setting, init),
    class = c(class, "lrtiers_core_error"), call = call,
    python_class = py_class
  )
  condition[names(extra)] <- extra
  condition
}

#' An init error (lrtiers.errors.InitError: part, expected and got shapes) in R's terms:
#' init$weight is a matrix, one row per output, one column per feature
#' @noRd
init_message_in_r <- function(message, init) {
  part <- init$part
  if (is.null(part)) {
    return(if (startsWith(message, "init ")) paste0("`init`", substring(message, 5L)) else message)
  }
  shape <- function(dims) {
    if (length(dims) == 2L) sprintf("%d x %d", dims[[1]], dims[[2]]) else paste(dims, collapse = " x ")
  }
  if (!is.null(init$expected)) {
    return(if (part == "weight") {
      sprintf(
        "`init$weight` must be a %s matrix (one row per output, one column per feature); got %s",
        shape(init$expected), shape(init$got)
      )
    } else {
      sprintf("`init$bias` must have %d value(s), one per output; got %s", init$expected[[1]],
        shape(init$got))
    })
  }
  prefix <- sprintf("init[\"%s\"]", part) # as as_r_conventions() wrote init['weight']
  if (startsWith(message, prefix)) {
    message <- paste0("`init$", part, "`", substring(message, nchar(prefix) + 1L))
  }
  message
}

#' A core message in R's conventions: the setting at fault (when it leads the message) in
#' backticks, `lr = "auto"`, TRUE/FALSE/NULL, 2^32, init$weight as a matrix. Rows are
#' already R's (the core renders them 1-based for R).
#' @noRd
core_message_in_r <- function(message, setting = NULL, init = NULL) {
  message <- as_r_conventions(message)
  if (!is.null(setting) && startsWith(message, paste0(setting, " must"))) {
    message <- paste0("`", setting, "`", substring(message, nchar(setting) + 1L))
  }
  message <- gsub("2**32", "2^32", message, fixed = TRUE)
  if (identical(setting, "init")) message <- init_message_in_r(message, init)
  for (from in c("x contains", "y contains")) {
    if (startsWith(message, from)) {
      message <- paste0(if (from == "x contains") "the features contain" else "the response contains",
        substring(message, nchar(from) + 1L))
    }
  }
  if (!endsWith(message, ".")) message <- paste0(message, ".")
  message
}

#' The core, ready to fit: started (see lr_core()), torch's BLAS checked. An Esc held back
#' during the start-up reaches Python at its next call as a KeyboardInterrupt: the fit
#' then ends as an lrtiers_interrupted error, and the session stays usable.
#' @noRd
core_for_fit <- function(call) {
  tryCatch(
    {
      module <- core()
      # Python runs a handler for a signal that arrived (an Esc held back during the
      # start-up) at its next bytecode: here, where it ends as lrtiers_interrupted
      reticulate::py_eval("None", convert = FALSE)
      warn_unshielded_torch()
      module
    },
    error = function(e) {
      if (interrupted_in_python(e)) {
        stop(lrtiers_condition(
          "the fit was interrupted (Esc / Ctrl-C) while Python started; nothing was returned.",
          class = "lrtiers_interrupted", call = call
        ))
      }
      stop(e)
    }
  )
}
