# Start-up: finding the Python, importing the core lazily (interrupts held back), the
# torch import shield (inst/python/lrtiers_torch_shield.py).

#' The Python core module (a delay-load proxy until first use)
#'
#' `NULL` until the package is loaded; then a `reticulate` module proxy that
#' imports the Python package `lrtiers` on first use. Internal code goes
#' through `core()`, which also picks the Python, falls back on the copy of the
#' core bundled with this package and checks versions.
#' @noRd
lrtiers_py <- NULL

# Mutable package state (the namespace is locked after loading).
.state <- new.env(parent = emptyenv())

#' The core's pip requirements, as its requirements.txt pins them (the one source)
#'
#' `torch`: the exact pin, installed first (any other specification pulls CUDA
#' wheels); `others`: the rest, installed after it; `torch_version`: the pinned
#' version. Read from the copy of the core bundled with this package.
#' @noRd
core_requirements <- function() {
  file <- system.file("python", "lrtiers", "requirements.txt", package = "lrtiers")
  if (!nzchar(file)) {
    stop(lrtiers_condition(
      "this lrtiers R package has no bundled core (inst/python): reinstall it from its tarball.",
      class = "lrtiers_python_error"
    ))
  }
  lines <- trimws(readLines(file, warn = FALSE))
  lines <- lines[nzchar(lines) & !startsWith(lines, "#")]
  torch <- lines[startsWith(lines, "torch==")]
  list(
    torch = torch,
    others = setdiff(lines, torch),
    torch_version = sub("^torch==", "", torch)
  )
}

#: The virtualenv install_lrtiers() creates (reticulate also looks for "r-<module>").
DEFAULT_ENVNAME <- "r-lrtiers"

.onLoad <- function(libname, pkgname) {
  if (reticulate::py_available(initialize = FALSE)) {
    # Python is already running (another package, or R embedded in Python): import
    # on first use from core(), never here, so that library(lrtiers) cannot fail.
    shield_torch_on_init()
    return(invisible())
  }
  # Whoever starts Python later (a fit, or the user's own reticulate::import("torch")),
  # torch then loads with its own BLAS.
  setHook("reticulate.onPyInit", shield_torch_on_init)
  lrtiers_py <<- reticulate::import(
    "lrtiers",
    convert = FALSE,
    delay_load = list(
      before_load = function() python_prepare(),
      on_error = function(e) stop(python_missing_condition(e))
    )
  )
}

#' The Python core module
#'
#' Picks the Python (see [lr_doctor()]), imports the `lrtiers` core (the copy
#' installed in that Python, else the one bundled with this R package) and
#' checks that its version matches the R package. Objects it returns are not
#' converted to R automatically (`convert = FALSE`).
#'
#' @return The Python module `lrtiers`, a `reticulate` module object.
#' @export
#' @examplesIf lrtiers:::python_ready()
#' core <- lr_core()
#' reticulate::py_to_r(core$`__version__`)
lr_core <- function() {
  if (!is.null(.state$core)) {
    return(.state$core)
  }
  # Starting Python and importing torch take seconds, exactly when an impatient user
  # presses Esc: an interrupt inside torch's import leaves a half-imported torch in
  # sys.modules (every later fit then fails, and R crashes at exit). So the start-up runs
  # with interrupts held back; one that arrived is delivered as soon as it is over.
  # An interrupt can still reach Python code as a KeyboardInterrupt (reticulate forwards
  # it): that start-up attempt then ends as an lrtiers_interrupted error, and the next
  # call starts again.
  tryCatch(suspendInterrupts(start_core()), error = function(e) {
    if (interrupted_in_python(e)) {
      stop(lrtiers_condition(
        "Python's start-up was interrupted (Esc / Ctrl-C); nothing was returned: run it again.",
        class = "lrtiers_interrupted", call = NULL
      ))
    }
    stop(e)
  })
}

#' Was this error a KeyboardInterrupt raised in Python?
#' @noRd
interrupted_in_python <- function(e) {
  # reticulate reports a KeyboardInterrupt inside its own class lookup as a failed getmro
  if (grepl("KeyboardInterrupt|inspect\\.getmro", conditionMessage(e))) {
    return(TRUE)
  }
  last <- tryCatch(reticulate::py_last_error(), error = function(err) NULL)
  !is.null(last) && identical(last$type, "KeyboardInterrupt")
}

start_core <- function() {
  python_prepare()
  module <- tryCatch(
    {
      if (is.null(lrtiers_py)) {
        reticulate::import("lrtiers", convert = FALSE)
      } else {
        reticulate::py_get_attr(lrtiers_py, "__version__") # forces the proxy
        lrtiers_py
      }
    },
    error = function(e) stop(python_missing_condition(e))
  )
  core_version <- reticulate::py_to_r(reticulate::py_get_attr(module, "__version__"))
  r_version <- as.character(utils::packageVersion("lrtiers"))
  if (!identical(core_version, r_version)) {
    stop(lrtiers_condition(
      c(
        sprintf(
          "the Python core lrtiers %s (from %s) does not match the R package lrtiers %s.",
          core_version, core_path(module), r_version
        ),
        "Install the matching core: reinstall the R package from one tarball, or run",
        sprintf("  %s", core_install_command(python_current()))
      ),
      class = "lrtiers_python_error", call = NULL
    ))
  }
  # torch.optim imports torch._dynamo (and sympy with it) the first time it builds an
  # optimizer, seconds into the first fit: an interrupt there leaves sympy half-imported
  # and every later fit failing. That import belongs to torch's start-up, held back here.
  reticulate::import("torch._dynamo", convert = FALSE)
  .state$core <- module
  module
}

core <- function() lr_core()

core_path <- function(module) {
  file <- tryCatch(
    reticulate::py_to_r(reticulate::py_get_attr(module, "__file__")),
    error = function(e) NA_character_
  )
  dirname(file)
}

#' TRUE when the Python core can be used (for examples and tests)
#' @noRd
python_ready <- function() {
  !inherits(tryCatch(core(), error = function(e) e), "error")
}

# -------------------------------------------------------------- choosing the Python

#' Which Python this package would use, and why
#' @noRd
python_choice <- function() {
  if (reticulate::py_available(initialize = FALSE)) {
    return(list(
      python = reticulate::py_config()$python,
      source = .state$source %||% "already running in this R session"
    ))
  }
  for (var in c("LRTIERS_PYTHON", "RETICULATE_PYTHON")) {
    value <- Sys.getenv(var)
    if (nzchar(value)) {
      return(list(python = value, source = var))
    }
  }
  env <- tryCatch(
    if (reticulate::virtualenv_exists(DEFAULT_ENVNAME)) {
      reticulate::virtualenv_python(DEFAULT_ENVNAME)
    },
    error = function(e) NULL
  )
  if (!is.null(env)) {
    return(list(
      python = env,
      source = sprintf("the virtualenv %s made by install_lrtiers()", DEFAULT_ENVNAME)
    ))
  }
  list(python = NULL, source = "reticulate's default")
}

python_current <- function() {
  if (reticulate::py_available(initialize = FALSE)) {
    return(reticulate::py_config()$python)
  }
  python_choice()$python %||% "python3"
}

#' Start the chosen Python (once) and make `import lrtiers` work in it
#'
#' Order: LRTIERS_PYTHON, RETICULATE_PYTHON, the install_lrtiers() virtualenv,
#' reticulate's default. When that Python has no `lrtiers` module, the copy
#' bundled in this package (inst/python) is imported.
#' @noRd
python_prepare <- function() {
  if (!reticulate::py_available(initialize = FALSE)) {
    choice <- python_choice()
    if (!is.null(choice$python)) {
      if (!file.exists(choice$python)) {
        stop(lrtiers_condition(
          c(
            sprintf("%s is %s, which does not exist.", choice$source, choice$python),
            "Point it at a Python with torch, or unset it and run lrtiers::install_lrtiers()."
          ),
          class = "lrtiers_python_error", call = NULL
        ))
      }
      # reticulate gives RETICULATE_PYTHON precedence over use_python(): set it for
      # the moment Python starts, so that LRTIERS_PYTHON wins, then put it back.
      old <- Sys.getenv("RETICULATE_PYTHON", unset = NA)
      Sys.setenv(RETICULATE_PYTHON = choice$python)
      on.exit(
        if (is.na(old)) Sys.unsetenv("RETICULATE_PYTHON") else Sys.setenv(RETICULATE_PYTHON = old),
        add = TRUE
      )
    }
    started <- tryCatch(reticulate::py_available(initialize = TRUE), error = function(e) e)
    if (isTRUE(started)) .state$source <- choice$source
    if (!isTRUE(started)) {
      stop(lrtiers_condition(
        c(
          sprintf(
            "could not start Python (%s: %s).",
            choice$source, choice$python %||% "none found"
          ),
          if (inherits(started, "error")) conditionMessage(started),
          "Set up one with torch by running lrtiers::install_lrtiers(),",
          sprintf(
            "or set LRTIERS_PYTHON to a Python that has %s, NumPy and threadpoolctl.",
            core_requirements()$torch
          )
        ),
        class = "lrtiers_python_error", call = NULL
      ))
    }
  }
  shield_torch()
  if (!reticulate::py_module_available("lrtiers")) {
    missing <- python_missing_modules()
    if (length(missing)) {
      stop(python_missing_condition(NULL, missing))
    }
    bundled <- bundled_core()
    if (!is.null(bundled)) {
      reticulate::import_from_path("lrtiers", path = bundled, convert = FALSE)
    }
  }
  invisible(TRUE)
}

#' Make torch keep its own BLAS inside an R process, whoever imports it
#'
#' libtorch_cpu exports the BLAS symbols of the MKL it carries (`dgemm_`, ...);
#' R has already loaded its own BLAS (libblas.so.3) into the global symbol
#' scope, so torch's calls to `dgemm_` would bind to R's BLAS instead: the
#' results differ from Python's in the last bits (seen in tests/parity).
#' Loading torch with RTLD_DEEPBIND makes it bind to its own symbols first, as
#' in a Python process. Rather than import torch early, this installs an import
#' hook (a `sys.meta_path` finder, in inst/python/lrtiers_torch_shield.py) that
#' adds RTLD_DEEPBIND while torch itself loads, so `reticulate::import("torch")` in the user's own code, before any
#' fit, is covered too. It runs when Python starts (reticulate's
#' "reticulate.onPyInit" hook, set in `.onLoad()`) and again before the core is
#' imported. Linux only. Turn it off with `options(lrtiers.deepbind = FALSE)`
#' or LRTIERS_DEEPBIND=0.
#' @return The state of torch: `"shielded"` (imported through the hook),
#'   `"pending"` (not imported yet; the hook will shield it), `"unshielded"`
#'   (imported before the hook was in place, with a BLAS in the global symbol
#'   scope), `"unexposed"` (imported before, but no BLAS is in the global scope:
#'   R embedded in Python through rpy2 loads its libraries locally), or `"off"`.
#' @noRd
shield_torch <- function() {
  if (!isTRUE(getOption("lrtiers.deepbind", TRUE)) ||
    identical(Sys.getenv("LRTIERS_DEEPBIND"), "0") ||
    !identical(Sys.info()[["sysname"]], "Linux")) {
    return("off")
  }
  if (is.null(.state$shield)) {
    path <- system.file("python", package = "lrtiers")
    .state$shield <- reticulate::import_from_path("lrtiers_torch_shield", path = path,
      convert = TRUE)
  }
  .state$shield$shield()
}

#' Runs when Python starts in this R session (reticulate's onPyInit hook)
#' @noRd
shield_torch_on_init <- function() {
  tryCatch(shield_torch(), error = function(e) NULL)
  invisible()
}

#' Warn, once a session, when torch arrived before the shield could be set
#'
#' Then torch's BLAS calls may bind to R's BLAS, and fits may differ from
#' Python's in the last bits: the guarantee of the parity tests does not hold.
#' @noRd
warn_unshielded_torch <- function() {
  # Once torch is imported its state is final: ask Python only until then.
  if (is.null(.state$torch_state) || identical(.state$torch_state, "pending")) {
    .state$torch_state <- shield_torch()
  }
  if (isTRUE(.state$unshielded_warned) || !identical(.state$torch_state, "unshielded")) {
    return(invisible())
  }
  .state$unshielded_warned <- TRUE
  warning(lrtiers_condition(
    c(
      "torch was imported into this R session before lrtiers was loaded, so its BLAS calls may bind to R's BLAS:",
      "fits may differ from the same fit in Python in the last bits.",
      "For bitwise-identical results, call library(lrtiers) before anything imports torch (see lr_doctor())."
    ),
    class = "lrtiers_blas_warning", call = NULL, type = "warning"
  ))
}

#' The directory holding the copy of the Python core bundled with this package
#' @noRd
bundled_core <- function() {
  path <- system.file("python", package = "lrtiers")
  if (nzchar(path) && file.exists(file.path(path, "lrtiers", "__init__.py"))) path else NULL
}

#' Python modules the core needs that the running Python lacks
#' @noRd
python_missing_modules <- function() {
  needed <- c("torch", "numpy", "threadpoolctl")
  needed[!vapply(needed, reticulate::py_module_available, logical(1))]
}

python_missing_condition <- function(error = NULL, missing = NULL) {
  python <- python_current()
  if (is.null(missing) && reticulate::py_available(initialize = FALSE)) {
    missing <- python_missing_modules()
  }
  lines <- if (length(missing)) {
    c(
      sprintf(
        "the Python at %s lacks %s, which lrtiers needs.",
        python, paste(missing, collapse = ", ")
      ),
      "Fix it with lrtiers::install_lrtiers(), or in that Python:",
      sprintf("  %s", pip_commands(python))
    )
  } else {
    c(
      "could not import the Python core `lrtiers`.",
      if (!is.null(error)) conditionMessage(error),
      "Install it into that Python, or reinstall the R package from its tarball (which bundles it):",
      sprintf("  %s", core_install_command(python))
    )
  }
  lrtiers_condition(lines, class = "lrtiers_python_error", call = NULL)
}

pip_commands <- function(python) {
  c(
    sprintf("%s -m pip install %s", shQuote(python), core_requirements()$torch),
    sprintf(
      "%s -m pip install %s", shQuote(python),
      paste(shQuote(core_requirements()$others), collapse = " ")
    )
  )
}

core_install_command <- function(python) {
  bundled <- bundled_core()
  sprintf(
    "%s -m pip install --no-deps %s", shQuote(python),
    if (is.null(bundled)) "<path to the lrtiers source checkout>" else shQuote(bundled)
  )
}

# -------------------------------------------------------------- install_lrtiers()
