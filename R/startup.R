# Start-up: the Python requirements declared to reticulate (py_require), the core imported
# lazily (interrupts held back), torch imported with its own BLAS.
#
# Which Python: reticulate's order of discovery, with LRTIERS_PYTHON in front of it.
# RETICULATE_PYTHON, use_python(), VIRTUAL_ENV or a .venv in the working directory win
# (make setup's venv, for the bitwise tests); with none of them, reticulate makes (once,
# cached) an environment with the requirements below, with uv.

#' The Python core module (a delay-load proxy until first use)
#' @noRd
lrtiers_py <- NULL

# Mutable package state (the namespace is locked after loading).
.state <- new.env(parent = emptyenv())

.onLoad <- function(libname, pkgname) {
  # the requirements are declared whoever starts Python, as keras3 and tensorflow do;
  # reticulate only records them when Python is already running
  reticulate::py_require(python_requirements())
  lrtiers_py <<- reticulate::import(
    "lrtiers",
    convert = FALSE,
    delay_load = list(
      environment = "r-lrtiers", # install_lrtiers()'s virtualenv, when there is one
      before_load = function() python_start(),
      on_error = function(e) stop(python_missing_condition(e))
    )
  )
}

#' The core's requirements as reticulate takes them
#'
#' Read from the requirements.txt of the bundled core (python/lrtiers/requirements.txt, the
#' one place they are declared): `==` pins become `>=` (a package that pins exactly fights
#' every other package's requirements; reticulate advises `>=`), options, comments and
#' optional extras are left out.
#' @noRd
python_requirements <- function(file = bundled_requirements_file()) {
  lines <- sub("#.*$", "", readLines(file, warn = FALSE))
  lines <- trimws(lines)
  lines <- lines[nzchar(lines) & !startsWith(lines, "-") & !grepl("extra\\s*==", lines)]
  sub("^([A-Za-z0-9_.-]+(\\[[^]]*\\])?)\\s*==\\s*", "\\1>=", lines)
}

bundled_requirements_file <- function() {
  file <- system.file("python", "lrtiers", "requirements.txt", package = "lrtiers")
  if (!nzchar(file)) {
    stop(lrtiers_condition(
      "this lrtiers R package has no bundled core (inst/python): reinstall it from its tarball.",
      class = "lrtiers_python_error"
    ))
  }
  file
}

#' The tested torch version: the lower bound of its requirement
#' @noRd
tested_torch <- function() {
  torch <- grep("^torch\\s*[>=]=", python_requirements(), value = TRUE)
  sub("^torch\\s*[>=]=\\s*", "", torch[[1]])
}

#' The Python core module
#'
#' Starts the Python lrtiers uses (see [lr_doctor()]), imports the `lrtiers` core (the copy
#' installed in that Python, else the one bundled with this R package) and checks that its
#' version matches the R package. Objects it returns are not converted to R automatically
#' (`convert = FALSE`). torch is imported first, keeping its own BLAS (see [lr_doctor()]):
#' to use torch from R as lrtiers does (rTorch's tutorials), call `lr_core()` before
#' `reticulate::import("torch")`.
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
  # with interrupts held back. One that reaches Python code as a KeyboardInterrupt ends
  # this attempt as an lrtiers_interrupted error; the next call starts again.
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

core <- function() lr_core()

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
  python_start()
  module <- tryCatch(
    {
      reticulate::py_get_attr(lrtiers_py, "__version__") # forces the proxy
      lrtiers_py
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
        "Uninstall it from that Python (the R package then uses the core it bundles), or install the matching one."
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

#' Start Python (once) and make `import lrtiers` work in it
#'
#' LRTIERS_PYTHON, when set, is the Python (for this start only: RETICULATE_PYTHON is put
#' back); otherwise reticulate chooses, and provisions its cached environment with the
#' requirements when nothing else is configured. When that Python has no `lrtiers` module,
#' the copy bundled in this package (inst/python) is imported.
#' @noRd
python_start <- function() {
  if (!reticulate::py_available(initialize = FALSE)) {
    python <- Sys.getenv("LRTIERS_PYTHON")
    if (nzchar(python)) {
      if (!file.exists(python)) {
        stop(lrtiers_condition(
          c(
            sprintf("LRTIERS_PYTHON is %s, which does not exist.", python),
            "Point it at a Python with torch, or unset it: reticulate then provides one."
          ),
          class = "lrtiers_python_error", call = NULL
        ))
      }
      # reticulate gives RETICULATE_PYTHON precedence over use_python()
      withr::local_envvar(RETICULATE_PYTHON = python)
    }
    index <- torch_cpu_index()
    if (!is.null(index)) withr::local_envvar(UV_INDEX = index)
    started <- tryCatch(reticulate::py_available(initialize = TRUE), error = function(e) e)
    if (!isTRUE(started)) {
      stop(lrtiers_condition(
        c(
          "could not start Python for lrtiers.",
          if (inherits(started, "error")) conditionMessage(started),
          "See lr_doctor(): set LRTIERS_PYTHON to a Python with the requirements, or let reticulate provide one (uv)."
        ),
        class = "lrtiers_python_error", call = NULL
      ))
    }
  }
  missing <- python_missing_modules()
  if (length(missing)) stop(python_missing_condition(NULL, missing))
  import_torch() # before the core, which imports torch
  if (length(torch_shield()$missing(list("lrtiers")))) {
    reticulate::import_from_path("lrtiers", path = bundled_core(), convert = FALSE)
  }
  invisible(TRUE)
}

#' PyTorch's CPU wheel index, for uv while reticulate provisions its environment
#'
#' On Linux, PyPI's torch wheels carry CUDA (several GB); without an NVIDIA driver the CPU
#' wheels are what is wanted (keras3 and tensorflow pick CPU builds the same way). Only
#' where the user has configured no index for uv themselves; `options(lrtiers.torch_index =
#' FALSE)` turns it off, a string sets another index.
#' @noRd
torch_cpu_index <- function() {
  index <- getOption("lrtiers.torch_index", TRUE)
  if (is.character(index)) {
    return(index)
  }
  configured <- nzchar(Sys.getenv(c("UV_INDEX", "UV_DEFAULT_INDEX", "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL", "UV_FIND_LINKS")))
  if (!isTRUE(index) || any(configured) || !identical(Sys.info()[["sysname"]], "Linux") ||
    file.exists("/proc/driver/nvidia/version")) {
    return(NULL)
  }
  "https://download.pytorch.org/whl/cpu"
}

#' Import torch so that it keeps its own BLAS inside an R process (the one import that
#' needs it)
#'
#' libtorch_cpu exports the BLAS symbols of the MKL it carries (`dgemm_`, ...); R has
#' already loaded its own BLAS (libblas.so.3) into the global symbol scope, so torch's
#' calls to `dgemm_` would bind to R's BLAS instead: results differ from Python's in the
#' last bits (tests/parity). Loading torch with RTLD_DEEPBIND makes it bind to its own
#' symbols first, as in a Python process. Only this import gets the flag (a process-wide
#' import hook would change how every later library loads); torch imported earlier by
#' someone else is what it is, and the first fit then warns (warn_unshielded_torch()).
#' Linux only. Turn it off with `options(lrtiers.deepbind = FALSE)` or LRTIERS_DEEPBIND=0.
#' @return The state of torch (see torch_state()).
#' @noRd
import_torch <- function() {
  if (!isTRUE(getOption("lrtiers.deepbind", TRUE)) ||
    identical(Sys.getenv("LRTIERS_DEEPBIND"), "0")) {
    return("off")
  }
  .state$torch_state <- torch_shield()$import_torch()
  .state$torch_state
}

#' Where torch stands: "shielded" (imported by import_torch()), "unshielded" (imported
#' earlier, with a BLAS in the global symbol scope), "unexposed" (imported earlier, but no
#' BLAS there: R embedded in Python loads its libraries locally), "pending" or "off"
#' @noRd
torch_state <- function() {
  if (!reticulate::py_available(initialize = FALSE)) {
    return("pending")
  }
  torch_shield()$state()
}

torch_shield <- function() {
  if (is.null(.state$shield)) {
    .state$shield <- reticulate::import_from_path("lrtiers_torch_shield",
      path = system.file("python", package = "lrtiers"), convert = TRUE)
  }
  .state$shield
}

#' Warn, once a session, when torch arrived before lrtiers could import it
#'
#' Then torch's BLAS calls may bind to R's BLAS, and fits may differ from Python's in the
#' last bits: the guarantee of the parity tests does not hold.
#' @noRd
warn_unshielded_torch <- function() {
  if (isTRUE(.state$unshielded_warned) || !identical(.state$torch_state, "unshielded")) {
    return(invisible())
  }
  .state$unshielded_warned <- TRUE
  warning(lrtiers_condition(
    c(
      "torch was imported into this R session before lrtiers started it, so its BLAS calls may bind to R's BLAS:",
      "fits may differ from the same fit in Python in the last bits.",
      "For bitwise-identical results, call lrtiers::lr_core() (or fit) before reticulate::import(\"torch\") (see lr_doctor())."
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
  as.character(unlist(torch_shield()$missing(list("torch", "numpy", "threadpoolctl"))))
}

python_missing_condition <- function(error = NULL, missing = NULL) {
  python <- if (reticulate::py_available(initialize = FALSE)) reticulate::py_config()$python
  if (is.null(missing) && !is.null(python)) missing <- python_missing_modules()
  lines <- if (length(missing)) {
    c(
      sprintf(
        "the Python at %s lacks %s, which lrtiers needs.", python,
        paste(missing, collapse = ", ")
      ),
      sprintf("Install the requirements in it (%s),", paste(python_requirements(), collapse = ", ")),
      "or leave LRTIERS_PYTHON and RETICULATE_PYTHON unset: reticulate then provides a Python with them."
    )
  } else {
    c(
      "could not import the Python core `lrtiers`.",
      if (!is.null(error)) conditionMessage(error),
      "Reinstall the R package from its tarball (which bundles the core)."
    )
  }
  lrtiers_condition(lines, class = "lrtiers_python_error", call = NULL)
}
