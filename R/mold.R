# Molding: the user's data (formula + data frame, or x and y; new data for predict())
# as the double matrices, weights and offsets the core takes, checked on the way.

#' Rows of a vector or matrix
#' @noRd
subset_rows <- function(v, rows) if (is.matrix(v)) v[rows, , drop = FALSE] else v[rows]

mold_formula <- function(formula, data, call, env, intercept, user_call, contrasts = NULL) {
  if (!inherits(formula, "formula") || length(formula) != 3L) {
    abort(
      "`formula` must be a two-sided formula such as `y ~ x1 + x2`.",
      user_call,
      class = "lrtiers_formula_error"
    )
  }
  if (!is.null(data) && !is.data.frame(data) && !is.list(data) && !is.environment(data)) {
    abort(sprintf("`data` must be a data frame; got %s.", describe(data)), user_call,
      class = "lrtiers_argument_error"
    )
  }
  mf_call <- call[c(1L, match(
    c("formula", "data", "subset", "weights", "na.action", "offset"), names(call), 0L
  ))]
  mf_call$drop.unused.levels <- TRUE
  mf_call[[1L]] <- quote(stats::model.frame)
  model <- tryCatch(eval(mf_call, env), error = function(e) {
    if (grepl("missing values in object", conditionMessage(e), fixed = TRUE)) {
      na_call <- mf_call
      na_call$na.action <- quote(stats::na.pass)
      na_call$drop.unused.levels <- NULL
      all <- eval(na_call, env)
      incomplete <- !stats::complete.cases(all)
      cols <- names(all)[vapply(all, anyNA, logical(1))]
      abort(
        c(
          sprintf(
            "`data` has missing values in %d of %d rows (in %s) and na.action is na.fail.",
            sum(incomplete), length(incomplete), paste(cols, collapse = ", ")
          ),
          "Use na.action = na.omit (or na.exclude) to drop them, or impute them first."
        ),
        user_call,
        class = "lrtiers_na_error"
      )
    }
    abort(
      c(sprintf("could not evaluate the formula `%s`:", deparse1(formula)), conditionMessage(e)),
      user_call,
      class = "lrtiers_formula_error"
    )
  })
  if (!nrow(model)) {
    dropped <- length(attr(model, "na.action"))
    abort(
      if (dropped) {
        sprintf(
          "no rows are left: all %d rows of `data` have a missing value (NA) in the formula's variables.",
          dropped
        )
      } else {
        "`data` has no rows."
      },
      user_call,
      class = "lrtiers_na_error"
    )
  }
  terms <- attr(model, "terms")
  formula_intercept <- attr(terms, "intercept") == 1L
  if (is.null(intercept)) {
    intercept <- formula_intercept
  } else if (intercept && !formula_intercept) {
    abort(
      "`intercept = TRUE` conflicts with the formula, which removes the intercept (- 1 or + 0).",
      user_call,
      class = "lrtiers_value_error"
    )
  }
  attr(terms, "intercept") <- as.integer(intercept)
  y <- stats::model.response(model, "any")
  if (is.null(y)) {
    abort("the formula has no response (left-hand side).", user_call,
      class = "lrtiers_formula_error"
    )
  }
  y <- as_response(y, "the response", user_call)
  if (!is.matrix(y)) names(y) <- NULL
  weights <- check_weights(stats::model.weights(model), NROW(y), user_call)
  offset <- stats::model.offset(model)
  if (!is.null(offset)) {
    offset <- as.vector(offset)
    if (length(offset) != NROW(y) || anyNA(offset)) {
      abort(sprintf("`offset` must be %d numbers without NA, one per row; got %d.", NROW(y),
        length(offset)), user_call, class = "lrtiers_value_error")
    }
  }
  if (!is.null(contrasts) && !is.list(contrasts)) {
    abort(sprintf("`contrasts` must be NULL or a named list, as in lm(); got %s.",
      describe(contrasts)), user_call, class = "lrtiers_argument_error")
  }
  x <- intercept_free_model_matrix(terms, model, contrasts)
  contrasts <- attr(x, "contrasts")
  if (ncol(x) == 0L && intercept) {
    # y ~ 1: the core needs a column, so the intercept is trained as one (named as lm()
    # names it); new_lr_fit() and prediction_matrix() know the column for the intercept
    x <- matrix(1, nrow(model), 1L, dimnames = list(rownames(model), "(Intercept)"))
    intercept <- FALSE
  }
  if (ncol(x) == 0L) {
    abort(
      sprintf(
        "the formula `%s` has no predictors: lr_fit() needs at least one column in x.",
        deparse1(formula)
      ),
      user_call,
      class = "lrtiers_formula_error"
    )
  }
  attr(x, "assign") <- NULL
  attr(x, "contrasts") <- NULL
  x <- as_double(x)
  check_finite(x, "data", user_call)
  response_name <- deparse1(formula[[2L]])
  target_names <- if (is.matrix(y)) colnames(y) else response_name
  if (is.matrix(y) && is.null(target_names)) {
    target_names <- paste0(response_name, seq_len(ncol(y)))
    colnames(y) <- target_names
  }
  list(
    x = x, y = y, terms = terms, model = model, intercept = intercept,
    xlevels = stats::.getXlevels(terms, model), contrasts = contrasts,
    na.action = attr(model, "na.action"), feature_names = colnames(x),
    target_names = target_names, weights = weights, offset = offset
  )
}

#' model.matrix() without its "(Intercept)" column (the core adds the intercept)
#'
#' With numeric predictors only, the matrix is built without the column, which saves a
#' copy of X (the column drop) on big data; with factors the intercept decides their
#' coding, so the column is built and dropped.
#' @noRd
intercept_free_model_matrix <- function(terms, model, contrasts = NULL) {
  classes <- attr(terms, "dataClasses")
  classes <- classes[setdiff(names(classes), names(model)[attr(terms, "response")])]
  if (attr(terms, "intercept") == 1L && length(classes) &&
    all(classes == "numeric" | startsWith(classes, "nmatrix"))) {
    attr(terms, "intercept") <- 0L
    return(stats::model.matrix(terms, model))
  }
  x <- stats::model.matrix(terms, model, contrasts.arg = contrasts)
  used <- attr(x, "contrasts")
  x <- x[, colnames(x) != "(Intercept)", drop = FALSE]
  attr(x, "contrasts") <- used # kept: predict() must code factors as the fit did
  x
}

#' Model matrix for new data from a formula fit's terms (predict, validation)
#' @noRd
new_model_matrix <- function(terms, xlevels, contrasts, newdata, na.action = stats::na.pass,
                             response = FALSE) {
  tt <- if (response) terms else stats::delete.response(terms)
  model <- stats::model.frame(tt, newdata, na.action = na.action, xlev = xlevels)
  x <- intercept_free_model_matrix(tt, model, contrasts)
  x <- as_double(x)
  list(x = x, model = model)
}

validation_formula <- function(validation, mold, call) {
  if (is.numeric(validation)) {
    return(check_number(validation, "validation", call))
  }
  if (!is.data.frame(validation)) {
    abort(
      "`validation` must be NULL, a fraction, or a data frame with the formula's variables.",
      call,
      class = "lrtiers_argument_error"
    )
  }
  new <- new_model_matrix(mold$terms, mold$xlevels, mold$contrasts, validation,
    na.action = stats::na.omit, response = TRUE
  )
  y <- as_response(stats::model.response(new$model, "any"), "the validation response", call)
  reticulate::tuple(new$x, y)
}

validation_xy <- function(validation, call) {
  if (is.numeric(validation)) {
    return(check_number(validation, "validation", call))
  }
  if (!is.list(validation) || is.data.frame(validation) || length(validation) != 2L) {
    abort("`validation` must be NULL, a fraction, or list(x_val, y_val).", call,
      class = "lrtiers_argument_error"
    )
  }
  x <- as_feature_matrix(validation[[1]], "validation x", call)
  y <- as_response(validation[[2]], "validation y", call)
  check_rows(x, y, "validation x", "validation y", call)
  reticulate::tuple(x, y)
}

#' Numeric features as a double matrix with column names; other types rejected
#' @noRd
as_feature_matrix <- function(x, arg, call) {
  if (is.data.frame(x)) {
    bad <- names(x)[!vapply(x, is.numeric, logical(1))]
    if (length(bad)) {
      kinds <- vapply(x[bad], function(col) class(col)[[1]], character(1))
      abort(
        c(
          sprintf(
            "`%s` must have numeric columns only; non-numeric: %s.", arg,
            paste(sprintf("%s (%s)", bad, kinds), collapse = ", ")
          ),
          "Convert them to numbers, or use the formula interface, which expands factors."
        ),
        call,
        class = "lrtiers_type_error"
      )
    }
    names <- names(x)
    x <- as.matrix(x)
    colnames(x) <- names
  } else if (is.numeric(x) && is.null(dim(x))) {
    x <- matrix(x, ncol = 1L, dimnames = list(names(x), "x"))
  } else if (!is.matrix(x) || !is.numeric(x)) {
    abort(
      c(
        sprintf("`%s` must be a numeric matrix, data frame or vector; got %s.", arg, describe(x, value = FALSE)),
        if (is.logical(x) || is.character(x) || is.factor(x)) {
          "Convert it to numbers, or use the formula interface, which expands factors."
        }
      ),
      call,
      class = "lrtiers_type_error"
    )
  }
  if (is.null(colnames(x))) colnames(x) <- paste0("x", seq_len(ncol(x)))
  x <- as_double(x) # NA_integer_ must not reach Python as -2147483648
  check_missing(x, arg, call)
  x
}

#' Double storage without a copy when it already is (storage.mode<- copies big data)
#' @noRd
as_double <- function(x) {
  if (typeof(x) != "double") storage.mode(x) <- "double"
  x
}

as_response <- function(y, arg, call) {
  if (is.data.frame(y)) {
    bad <- names(y)[!vapply(y, is.numeric, logical(1))]
    if (length(bad)) {
      abort(sprintf("%s must be numeric; non-numeric column(s): %s.", arg, paste(bad, collapse = ", ")),
        call,
        class = "lrtiers_type_error"
      )
    }
    names <- names(y)
    y <- as.matrix(y)
    colnames(y) <- names
  }
  if (!is.numeric(y)) {
    abort(
      sprintf("%s must be numeric (a vector, or a matrix with one column per output); got %s.", arg, describe(y, value = FALSE)),
      call,
      class = "lrtiers_type_error"
    )
  }
  if (is.matrix(y)) {
    if (is.null(colnames(y))) colnames(y) <- paste0("y", seq_len(ncol(y)))
  } else {
    if (!is.null(attributes(y))) y <- as.vector(y) # names, or a 1-d array
  }
  y <- as_double(y)
  check_missing(y, arg, call)
  y
}

check_missing <- function(x, arg, call) {
  if (!anyNA(x)) {
    return(check_finite(x, arg, call))
  }
  rows <- if (is.matrix(x)) which(!stats::complete.cases(x)) else which(is.na(x))
  shown <- paste(utils::head(rows, 5), collapse = ", ")
  abort(
    c(
      sprintf(
        "`%s` has missing values (NA) in %d of %d rows (rows %s%s).", arg, length(rows),
        NROW(x), shown, if (length(rows) > 5) ", ..." else ""
      ),
      "Remove or impute them first, or use lr_fit(formula, data), which follows na.action."
    ),
    call,
    class = "lrtiers_na_error"
  )
}

check_finite <- function(x, arg, call) {
  finite <- is.finite(x)
  if (all(finite)) {
    return(invisible())
  }
  rows <- if (is.matrix(x)) which(rowSums(!finite) > 0) else which(!finite)
  n <- length(rows)
  shown <- utils::head(rows, 5)
  if (is.matrix(x) && !is.null(rownames(x)) && arg == "data") shown <- rownames(x)[shown]
  abort(
    c(
      sprintf(
        "`%s` has infinite values (Inf) in %d of %d rows (row%s %s%s).", arg, n,
        NROW(x), if (n == 1L) "" else "s", paste(shown, collapse = ", "),
        if (n > 5) ", ..." else ""
      ),
      "Remove those rows or replace the values first."
    ),
    call,
    class = "lrtiers_na_error"
  )
}

#' `weights`: NULL, or n finite numbers >= 0, not all 0 (as lm(); rows of weight 0 take no
#' part in the fit, as in lm.wfit())
#' @noRd
check_weights <- function(weights, n, call) {
  if (is.null(weights)) {
    return(NULL)
  }
  if (!is.numeric(weights) || !is.null(dim(weights)) && length(dim(weights)) > 1L &&
    ncol(weights) != 1L) {
    abort(sprintf("`weights` must be a numeric vector; got %s.", describe(weights, value = FALSE)), call,
      class = "lrtiers_type_error")
  }
  weights <- as.double(weights)
  if (length(weights) != n) {
    abort(sprintf("`weights` must have one value per row (%d); got %d.", n, length(weights)),
      call, class = "lrtiers_value_error")
  }
  bad <- which(!is.finite(weights) | weights < 0)
  if (length(bad)) {
    abort(
      sprintf("`weights` must be finite and not negative; %d %s not (row%s %s%s).", length(bad),
        if (length(bad) == 1L) "is" else "are", if (length(bad) == 1L) "" else "s",
        paste(utils::head(bad, 5), collapse = ", "), if (length(bad) > 5) ", ..." else ""),
      call,
      class = "lrtiers_value_error"
    )
  }
  if (!any(weights > 0)) {
    abort("`weights` are all 0: no row is left to fit.", call, class = "lrtiers_value_error")
  }
  weights
}

#' `offset` of an x/y fit: NULL, or n finite numbers (as lm.fit(offset = ))
#' @noRd
check_offset <- function(offset, n, call) {
  if (is.null(offset)) {
    return(NULL)
  }
  if (!is.numeric(offset) || length(offset) != n || any(!is.finite(offset))) {
    abort(sprintf("`offset` must be %d finite numbers, one per row; got %s.", n,
      describe(offset, value = FALSE)), call, class = "lrtiers_value_error")
  }
  as.double(offset)
}

check_rows <- function(x, y, x_arg, y_arg, call) {
  if (NROW(x) != NROW(y)) {
    abort(sprintf(
      "`%s` and `%s` must have the same number of rows; got %d and %d.",
      x_arg, y_arg, NROW(x), NROW(y)
    ), call, class = "lrtiers_data_error")
  }
}

# ------------------------------------------------------------------ the bridge

#' A new model matrix (and offset) from newdata, as the fit built its own
#' @noRd
prediction_matrix <- function(object, newdata, na.action) {
  offset <- NULL
  if (!is.null(object$blueprint)) {
    x <- forge_predictors(object, newdata)
  } else if (!is.null(object$terms)) {
    if (!is.data.frame(newdata) && !is.list(newdata)) {
      abort(sprintf(
        "`newdata` must be a data frame with the variables of the formula; got %s.",
        describe(newdata)
      ), class = "lrtiers_argument_error")
    }
    built <- tryCatch(
      new_model_matrix(object$terms, object$xlevels, object$contrasts, newdata,
        na.action = na.action),
      error = function(e) {
        abort(c("could not build the model matrix from `newdata`:", conditionMessage(e)),
          class = "lrtiers_data_error"
        )
      }
    )
    x <- built$x
    if (isTRUE(object$intercept_column)) {
      x <- matrix(1, nrow(built$model), 1L, dimnames = list(rownames(built$model), "(Intercept)"))
    }
    offset <- stats::model.offset(built$model)
    if (!is.null(object$offset_call)) {
      extra <- eval(object$offset_call, newdata, environment(object$terms) %||% globalenv())
      offset <- (offset %||% 0) + extra
    }
    if (!is.null(offset)) offset <- as.vector(offset)
  } else {
    x <- xy_prediction_matrix(object, newdata)
  }
  list(x = as_double(x), offset = offset)
}

xy_prediction_matrix <- function(object, newdata) {
  x <- newdata
  features <- object$feature_names
  if (is.numeric(x) && is.null(dim(x))) {
    x <- if (length(features) > 1L) {
      matrix(x, nrow = 1L, dimnames = list(NULL, names(x)))
    } else {
      matrix(x, ncol = 1L, dimnames = list(names(x), NULL))
    }
  }
  if (is.data.frame(x)) {
    bad <- names(x)[!vapply(x, is.numeric, logical(1))]
    if (length(bad)) {
      abort(sprintf("`newdata` must have numeric columns only; non-numeric: %s.",
        paste(bad, collapse = ", ")), class = "lrtiers_type_error")
    }
    names <- names(x)
    x <- as.matrix(x)
    colnames(x) <- names
  }
  if (!is.matrix(x) || !is.numeric(x)) {
    abort(sprintf("`newdata` must be a numeric matrix, data frame or vector; got %s.",
      describe(x, value = FALSE)), class = "lrtiers_type_error")
  }
  if (!is.null(colnames(x))) {
    # by name, always: a column in another place, or another column, is a wrong answer
    missing <- setdiff(features, colnames(x))
    if (length(missing)) {
      abort(
        c(
          sprintf("`newdata` lacks column%s used in the fit: %s.",
            if (length(missing) == 1L) "" else "s", paste(missing, collapse = ", ")),
          sprintf("The fit's columns are %s; newdata's are %s.", paste(features, collapse = ", "),
            paste(colnames(x), collapse = ", ")),
          "Name newdata's columns like the training data's (or drop the names to match by position)."
        ),
        class = "lrtiers_data_error"
      )
    }
    return(x[, features, drop = FALSE])
  }
  if (ncol(x) != length(features)) {
    abort(sprintf("`newdata` must have %d column%s like the training data; got %d.",
      length(features), if (length(features) == 1L) "" else "s", ncol(x)),
      class = "lrtiers_data_error")
  }
  x
}
