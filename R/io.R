# The core's fit file (FIT_FORMAT, FIT_FORMAT_VERSION: from R/core-settings.R), read and
# written in R.

#' Save and load fits as the core's plain JSON fit file
#'
#' `lr_save()` writes a fit as the Python core's fit file (UTF-8 JSON, format
#' `"lrtiers-fit"` version 2: what `LRFit.save()` writes in Python), and
#' `lr_load()` reads one, whether R or Python wrote it (version 1 files, from
#' lrtiers 0.1, too). Every number keeps its
#' bits: floats are written as the shortest of 15, 16 or 17 significant digits
#' that reads back to the same double. No Python is needed for either.
#'
#' A fit made with the formula interface also stores, in the file's optional
#' `formula` section, its formula, the terms' `predvars` (the data-dependent
#' parts of `poly()`, `ns()`, `scale()` ..., at 17 digits), factor levels,
#' contrasts and the `offset =` expression, so that [predict()] on a loaded fit
#' gives the same numbers as the fit it was saved from. Python keeps the
#' section verbatim when it loads and saves the file. The training
#' data are not stored: `fitted()`, `residuals()` and `augment()` without
#' `newdata` need the fit made in this session (or [saveRDS()]).
#'
#' @param fit An `lr_fit`.
#' @param path File path.
#' @return `lr_save()`: `path`, invisibly. `lr_load()`: an `lr_fit`.
#' @export
#' @examplesIf lrtiers:::python_ready()
#' fit <- lr_fit(mpg ~ wt + hp, data = mtcars, seed = 1)
#' path <- tempfile(fileext = ".json")
#' lr_save(fit, path)
#' same <- lr_load(path)
#' identical(coef(same), coef(fit))
#' predict(same, newdata = head(mtcars))
lr_save <- function(fit, path) {
  check_lr_fit(fit)
  check_string(path, "path")
  record <- fit$core
  record <- append(record, list(history = history_record(fit$history)),
    after = match("loss", names(record))) # where Python writes it
  if (identical(fit$interface, "formula") || !is.null(fit$terms)) {
    record$formula <- formula_section(fit)
  }
  if (!is.null(fit$blueprint)) {
    # lr_fit(recipe, data): hardhat's blueprint, R's serialisation (Python keeps `extra`)
    record$extra$r_blueprint <- blueprint_text(fit$blueprint)
  }
  text <- json_encode(record)
  con <- file(path, open = "w", encoding = "UTF-8")
  on.exit(close(con))
  writeLines(text, con, useBytes = TRUE)
  invisible(path)
}

#' @rdname lr_save
#' @export
lr_load <- function(path) {
  check_string(path, "path")
  if (!file.exists(path)) {
    abort(sprintf("no such file: %s", path), class = "lrtiers_io_error")
  }
  text <- paste(readLines(path, encoding = "UTF-8", warn = FALSE), collapse = "\n")
  record <- tryCatch(jsonlite::parse_json(text, simplifyVector = FALSE), error = function(e) {
    abort(c(sprintf("%s is not a JSON file:", path), conditionMessage(e)),
      class = "lrtiers_io_error"
    )
  })
  if (!identical(record$format, FIT_FORMAT)) {
    abort(sprintf(
      "%s is not an lrtiers fit file: its format is %s.", path,
      describe(record$format)
    ), class = "lrtiers_io_error")
  }
  if (!is.numeric(record$format_version) || record$format_version > FIT_FORMAT_VERSION) {
    abort(sprintf(
      "%s has fit format version %s, newer than this lrtiers reads (%d): upgrade lrtiers.",
      path, describe(record$format_version), FIT_FORMAT_VERSION
    ), class = "lrtiers_io_error")
  }
  section <- record$formula
  legacy <- record$extra[["r"]] # (exact: not r_blueprint) lrtiers 0.2.0 kept a formula (without predvars) there
  if (is.null(section) && is.null(legacy)) {
    blueprint <- record$extra$r_blueprint
    return(new_lr_fit(record, interface = "file",
      blueprint = if (!is.null(blueprint)) blueprint_from_text(blueprint)))
  }
  if (is.null(section)) {
    section <- list(formula = legacy$formula, xlevels = legacy$xlevels,
      contrasts = legacy$contrasts, na_dropped = legacy$na_dropped)
  }
  parts <- read_formula_section(section, record)
  new_lr_fit(record,
    interface = "file", terms = parts$terms, xlevels = parts$xlevels,
    contrasts = parts$contrasts, offset_call = parts$offset_call, call = parts$call
  )
}

#' The history data frame as the fit file's lists (the same doubles)
#' @noRd
history_record <- function(history) {
  out <- list(epoch = as.list(history$epoch), loss = as.list(history$loss),
    grad_norm = as.list(history$grad_norm))
  if (!is.null(history$val_loss)) out$val_loss <- as.list(history$val_loss)
  out
}

#' The fit file's optional `formula` section: what predict() needs to rebuild a model
#' matrix exactly as the fit did (docs/fit-format.md)
#' @noRd
formula_section <- function(fit) {
  deparse_exact <- function(expr) {
    paste(deparse(expr, width.cutoff = 500L,
      control = c("keepNA", "keepInteger", "niceNames", "showAttributes", "digits17")),
    collapse = " ")
  }
  contrasts <- lapply(fit$contrasts, function(c) {
    if (is.character(c)) {
      return(c)
    }
    if (is.function(c)) {
      abort("a contrast given as a function cannot be saved; give its name or a matrix.",
        class = "lrtiers_io_error")
    }
    c <- as.matrix(c)
    list(matrix = lapply(seq_len(nrow(c)), function(i) as.list(unname(c[i, ]))),
      levels = as.list(rownames(c) %||% character()),
      columns = as.list(colnames(c) %||% character()))
  })
  list(
    formula = deparse_exact(stats::formula(fit$terms)),
    predvars = deparse_exact(attr(fit$terms, "predvars")),
    intercept = attr(fit$terms, "intercept") == 1L,
    xlevels = lapply(fit$xlevels, as.list),
    contrasts = if (length(contrasts)) contrasts else structure(list(), names = character()),
    offset = if (!is.null(fit$offset_call)) deparse_exact(fit$offset_call),
    na_dropped = length(fit$na.action),
    # the call that made the fit: update() on a loaded fit refits as on the original
    call = if (!is.null(fit$call)) deparse_exact(fit$call)
  )
}

read_formula_section <- function(section, record) {
  terms <- stats::terms(stats::as.formula(section$formula, env = globalenv()))
  if (!is.null(section$predvars)) {
    attr(terms, "predvars") <- str2lang(section$predvars)
  }
  attr(terms, "intercept") <- as.integer(isTRUE(section$intercept %||% record$settings$intercept))
  xlevels <- lapply(section$xlevels, function(levels) as.character(unlist(levels)))
  contrasts <- lapply(section$contrasts, function(c) {
    if (is.null(c) || is.character(c)) {
      return(if (is.null(c)) NULL else unlist(c))
    }
    m <- do.call(rbind, lapply(c$matrix, json_numbers))
    levels <- unlist(c$levels)
    columns <- unlist(c$columns)
    dimnames(m) <- list(levels, columns)
    m
  })
  list(
    terms = terms,
    xlevels = if (length(xlevels)) xlevels,
    contrasts = if (length(contrasts)) contrasts,
    offset_call = if (!is.null(section$offset)) str2lang(section$offset),
    call = if (!is.null(section$call)) str2lang(section$call)
  )
}

check_lr_fit <- function(fit, arg = "fit") {
  if (!inherits(fit, "lr_fit")) {
    abort(sprintf("`%s` must be an lr_fit; got %s.", arg, describe(fit)),
      class = "lrtiers_argument_error"
    )
  }
}

# ------------------------------------------------------------------ JSON

#' JSON text for a parsed fit record, keeping every double's bits.
#'
#' Lists with names are objects, other lists arrays; a length-1 atomic vector
#' is a scalar, a longer one an array; NULL and non-finite numbers are null.
#' (jsonlite's own writer rounds doubles to 15 significant digits.)
#' @noRd
json_encode <- function(value, indent = 0L) {
  pad <- strrep(" ", indent + 1L)
  close_pad <- strrep(" ", indent)
  if (is.null(value)) {
    return("null")
  }
  if (is.list(value)) {
    keys <- names(value)
    if (!is.null(keys)) {
      if (!length(value)) {
        return("{}")
      }
      items <- vapply(seq_along(value), function(i) {
        paste0(pad, json_string(keys[[i]]), ": ", json_encode(value[[i]], indent + 1L))
      }, character(1))
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", close_pad, "}"))
    }
    if (!length(value)) {
      return("[]")
    }
    items <- vapply(value, json_encode, character(1), indent = indent + 1L)
    if (all(vapply(value, function(v) is.atomic(v) && length(v) == 1L, logical(1)))) {
      return(paste0("[", paste(items, collapse = ", "), "]"))
    }
    return(paste0("[\n", paste0(pad, items, collapse = ",\n"), "\n", close_pad, "]"))
  }
  if (is.factor(value)) value <- as.character(value)
  if (!is.atomic(value)) {
    stop("cannot write an object of class ", class(value)[[1]], " as JSON")
  }
  if (length(value) != 1L) {
    return(json_encode(as.list(unname(value)), indent))
  }
  if (is.character(value)) {
    return(if (is.na(value)) "null" else json_string(value))
  }
  if (is.logical(value)) {
    return(if (is.na(value)) "null" else if (value) "true" else "false")
  }
  if (is.integer(value)) {
    return(if (is.na(value)) "null" else as.character(value))
  }
  json_number(value)
}

json_string <- function(x) {
  as.character(jsonlite::toJSON(x, auto_unbox = TRUE))
}

#' Doubles as the shortest of %.15g, %.16g, %.17g that reads back exactly
#' (as a float: "100.0", as Python writes it)
#' @noRd
json_number <- function(x) {
  out <- rep("null", length(x))
  negative_zero <- !is.na(x) & x == 0 & 1 / x < 0
  out[negative_zero] <- "-0.0" # "-0" would read back as the integer 0
  todo <- which(is.finite(x) & !negative_zero)
  for (digits in 15:17) {
    if (!length(todo)) break
    text <- sprintf(paste0("%.", digits, "g"), x[todo])
    back <- if (digits == 17L) x[todo] else parse_doubles(text)
    same <- back == x[todo]
    integral <- !grepl("[.eEn]", text) # "100" would read back as an integer
    text[integral] <- paste0(text[integral], ".0")
    out[todo[same]] <- text[same]
    todo <- todo[!same]
  }
  out
}

#' Correctly rounded decimal -> double (through the JSON parser, not R's strtod)
#' @noRd
parse_doubles <- function(text) {
  as.numeric(unlist(jsonlite::parse_json(paste0("[", paste(text, collapse = ","), "]"))))
}
