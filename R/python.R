# Finding and importing the Python core, lazily; install_lrtiers(); lr_doctor().

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
  suspendInterrupts(start_core())
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
#' hook (a `sys.meta_path` finder) that adds RTLD_DEEPBIND while torch itself
#' loads, so `reticulate::import("torch")` in the user's own code, before any
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
  result <- reticulate::py_run_string(TORCH_SHIELD_PY, local = TRUE, convert = TRUE)
  result$state
}

TORCH_SHIELD_PY <- paste(
  "def _lrtiers_shield_torch():",
  "    import importlib.abc, importlib.machinery, os, sys",
  "    if not hasattr(os, 'RTLD_DEEPBIND'):",
  "        return 'off'",
  "    class TorchShield(importlib.abc.MetaPathFinder):",
  "        lrtiers_torch_shield = True",
  "        shielded = False",
  "        def find_spec(self, name, path=None, target=None):",
  "            if name != 'torch':",
  "                return None",
  "            spec = importlib.machinery.PathFinder.find_spec(name, path)",
  "            if spec is not None and spec.loader is not None:",
  "                spec.loader = DeepBindLoader(spec.loader, self)",
  "            return spec",
  "    class DeepBindLoader(importlib.abc.Loader):",
  "        def __init__(self, loader, shield):",
  "            self.loader, self.shield = loader, shield",
  "        def create_module(self, spec):",
  "            return self.loader.create_module(spec)",
  "        def exec_module(self, module):",
  "            flags = sys.getdlopenflags()",
  "            sys.setdlopenflags(flags | os.RTLD_DEEPBIND)",
  "            try:",
  "                self.loader.exec_module(module)",
  "                self.shield.shielded = True",
  "            finally:",
  "                sys.setdlopenflags(flags)",
  "    shield = next((f for f in sys.meta_path if getattr(f, 'lrtiers_torch_shield', False)), None)",
  "    if shield is not None and shield.shielded:",
  "        return 'shielded'",
  "    if 'torch' in sys.modules:",
  "        import ctypes  # a BLAS in the global scope is what torch could bind to",
  "        return 'unshielded' if hasattr(ctypes.CDLL(None), 'dgemm_') else 'unexposed'",
  "    if shield is None:",
  "        sys.meta_path.insert(0, TorchShield())",
  "    return 'pending'",
  "state = _lrtiers_shield_torch()",
  sep = "\n"
)

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

#' Install the Python side of lrtiers into a virtualenv
#'
#' Creates a Python virtualenv (by default `r-lrtiers`, in
#' [reticulate::virtualenv_root()], where this package looks for it) and
#' installs, in this order: torch on its own, at the exact version the bundled
#' core pins (any other specification makes pip download several GB of CUDA
#' packages), then NumPy, pandas and threadpoolctl as the core requires them,
#' then the Python core `lrtiers` (by default
#' the copy bundled with this R package). Like `keras3::install_keras()` and
#' `rTorch::install_pytorch()`.
#'
#' Restart R afterwards if Python was already running in this session.
#'
#' @param envname Name of (or path to) the virtualenv.
#' @param python The Python used to create the virtualenv; by default
#'   [reticulate::virtualenv_starter()] finds one (Python >= 3.10 is needed).
#' @param core Where to install the Python core from: a directory with a
#'   `pyproject.toml` (a source checkout, or the bundled copy, the default).
#' @param dry_run If `TRUE`, install nothing and return the plan.
#' @return The plan, invisibly unless `dry_run = TRUE`: a list of class
#'   `lrtiers_install_plan` with `envname`, `path`, `python`, `core` and
#'   `commands` (the shell commands, in order).
#' @export
#' @examples
#' plan <- install_lrtiers(dry_run = TRUE)
#' plan$commands
install_lrtiers <- function(envname = DEFAULT_ENVNAME, python = NULL, core = NULL,
                            dry_run = FALSE) {
  check_string(envname, "envname")
  check_flag(dry_run, "dry_run")
  # expanded here: the commands quote the path, and a quoted "~" is a folder named "~"
  path <- if (grepl("/", envname, fixed = TRUE)) {
    normalizePath(path.expand(envname), mustWork = FALSE)
  } else {
    file.path(path.expand(reticulate::virtualenv_root()), envname)
  }
  if (is.null(python)) {
    python <- tryCatch(reticulate::virtualenv_starter("3.10"), error = function(e) NULL)
    python <- python %||% unname(Sys.which("python3"))
    if (!nzchar(python)) python <- "python3"
  }
  check_string(python, "python")
  core <- core %||% bundled_core() %||% "<path to the lrtiers source checkout>"
  check_string(core, "core")
  env_python <- file.path(path, "bin", "python")
  commands <- c(
    sprintf("%s -m venv %s", shQuote(python), shQuote(path)),
    sprintf("%s -m pip install --upgrade pip", shQuote(env_python)),
    sprintf("%s -m pip install %s", shQuote(env_python), core_requirements()$torch),
    sprintf(
      "%s -m pip install %s", shQuote(env_python),
      paste(shQuote(core_requirements()$others), collapse = " ")
    ),
    sprintf("%s -m pip install --no-deps %s", shQuote(env_python), shQuote(core))
  )
  plan <- structure(
    list(
      envname = envname, path = path, python = python, core = core,
      commands = commands, dry_run = dry_run
    ),
    class = "lrtiers_install_plan"
  )
  if (dry_run) {
    return(plan)
  }
  if (!file.exists(file.path(core, "pyproject.toml"))) {
    stop(lrtiers_condition(
      c(
        sprintf("core = %s has no pyproject.toml: it is not an installable Python project.", core),
        "Pass core = the path to an lrtiers source checkout (the folder with pyproject.toml),",
        "or install the R package from a tarball built by tools/check_r.sh (it bundles the core)."
      ),
      class = "lrtiers_error"
    ))
  }
  for (command in commands) {
    message("+ ", command)
    status <- system(command)
    if (!identical(status, 0L)) {
      stop(lrtiers_condition(
        sprintf("install_lrtiers(): `%s` failed with status %s.", command, status),
        class = "lrtiers_error"
      ))
    }
  }
  message(
    "lrtiers: Python set up in ", path, ". ",
    if (reticulate::py_available(initialize = FALSE)) {
      "Restart R to use it (Python is already running in this session)."
    } else {
      "lrtiers will use it in new sessions unless LRTIERS_PYTHON or RETICULATE_PYTHON is set."
    }
  )
  invisible(plan)
}

#' @export
print.lrtiers_install_plan <- function(x, ...) {
  cat(if (isTRUE(x$dry_run)) "lrtiers install plan (dry run)\n" else "lrtiers install plan\n")
  cat("  virtualenv:", x$path, "\n")
  cat("  commands:\n")
  cat(paste0("    ", x$commands, "\n"), sep = "")
  invisible(x)
}

# -------------------------------------------------------------- lr_doctor()

#' Which Python, torch, NumPy and reticulate lrtiers uses, and what is missing
#'
#' Starts Python the way [lr_fit()] would (LRTIERS_PYTHON, then
#' RETICULATE_PYTHON, then the virtualenv made by [install_lrtiers()], then
#' reticulate's default), imports the core and reports versions. Never fails:
#' problems are listed with the command that fixes them.
#'
#' @return A list of class `lrtiers_doctor`: `python` (path), `source` (why
#'   that Python), `versions` (a named character vector: R package, core,
#'   Python, torch, NumPy, pandas, threadpoolctl, reticulate; `NA` when
#'   missing), `core_path`, `torch_shielded` (whether torch keeps its own BLAS
#'   rather than bind to R's, see Details), `missing`
#'   (what is missing) and `fix` (commands that fix it), `ok` (`TRUE` when
#'   [lr_fit()] can run).
#' @details
#' In an R process R's own BLAS is already loaded when torch arrives, and
#' torch's calls to BLAS functions would bind to it instead of the MKL torch
#' carries, changing the last bits of some results compared with Python.
#' lrtiers therefore makes torch load with `RTLD_DEEPBIND` (Linux) whenever it
#' is imported after `library(lrtiers)`, by a fit or by your own
#' `reticulate::import("torch")`. If torch was imported before lrtiers was
#' loaded, the first fit warns (class `lrtiers_blas_warning`).
#' @export
#' @examples
#' \donttest{
#' lr_doctor()
#' }
lr_doctor <- function() {
  choice <- python_choice()
  versions <- c(
    lrtiers_r = as.character(utils::packageVersion("lrtiers")),
    lrtiers_core = NA_character_,
    python = NA_character_,
    torch = NA_character_,
    numpy = NA_character_,
    pandas = NA_character_,
    threadpoolctl = NA_character_,
    reticulate = as.character(utils::packageVersion("reticulate"))
  )
  out <- list(
    python = choice$python, source = choice$source, versions = versions,
    core_path = NA_character_, torch_shielded = NA, missing = character(),
    fix = character(), problems = character(), ok = FALSE
  )
  prepared <- tryCatch(python_prepare(), error = function(e) e)
  if (reticulate::py_available(initialize = FALSE)) {
    out$python <- reticulate::py_config()$python
    sys <- reticulate::import("sys")
    out$versions[["python"]] <- strsplit(sys$version, " ", fixed = TRUE)[[1]][[1]]
    metadata <- reticulate::import("importlib.metadata")
    for (pkg in c("torch", "numpy", "pandas", "threadpoolctl")) {
      out$versions[[pkg]] <- tryCatch(metadata$version(pkg), error = function(e) NA_character_)
    }
  }
  if (utils::packageVersion("reticulate") < "1.41") {
    out$missing <- c(out$missing, "reticulate >= 1.41")
    out$fix <- c(out$fix, "build reticulate 1.41 (see ENVIRONMENT.md / make setup)")
  }
  for (pkg in c("torch", "numpy", "threadpoolctl", "pandas")) {
    if (is.na(out$versions[[pkg]])) out$missing <- c(out$missing, pkg)
  }
  if (any(c("torch", "numpy", "threadpoolctl", "pandas") %in% out$missing)) {
    out$fix <- c(
      out$fix, "lrtiers::install_lrtiers()",
      if (!is.null(out$python)) pip_commands(out$python)
    )
  }
  pinned <- core_requirements()$torch_version
  if (!is.na(out$versions[["torch"]]) && !startsWith(out$versions[["torch"]], pinned)) {
    out$problems <- c(out$problems, sprintf(
      "torch %s is not the tested %s: results may differ in the last bits",
      out$versions[["torch"]], pinned
    ))
  }
  if (inherits(prepared, "error")) {
    out$problems <- c(out$problems, conditionMessage(prepared))
  } else {
    module <- tryCatch(core(), error = function(e) e)
    if (inherits(module, "error")) {
      out$problems <- c(out$problems, conditionMessage(module))
      if (!length(out$missing)) {
        out$missing <- c(out$missing, "the Python core lrtiers")
        out$fix <- c(out$fix, core_install_command(out$python %||% "python3"))
      }
    } else {
      out$versions[["lrtiers_core"]] <-
        reticulate::py_to_r(reticulate::py_get_attr(module, "__version__"))
      out$core_path <- core_path(module)
      out$torch_shielded <- shield_torch() %in% c("shielded", "unexposed")
    }
  }
  out$ok <- !length(out$missing) && !is.na(out$versions[["lrtiers_core"]])
  structure(out, class = "lrtiers_doctor")
}

#' @export
print.lrtiers_doctor <- function(x, ...) {
  v <- function(name) if (is.na(x$versions[[name]])) "MISSING" else x$versions[[name]]
  cat("lrtiers doctor\n")
  cat(sprintf("  %-14s %s (chosen by %s)\n", "Python", x$python %||% "none", x$source))
  rows <- c(
    "R package" = v("lrtiers_r"), "Python core" = v("lrtiers_core"),
    "Python version" = v("python"), "torch" = v("torch"), "NumPy" = v("numpy"),
    "pandas" = v("pandas"), "threadpoolctl" = v("threadpoolctl"),
    "reticulate" = v("reticulate")
  )
  cat(sprintf("  %-14s %s\n", names(rows), rows), sep = "")
  if (!is.na(x$core_path)) cat(sprintf("  %-14s %s\n", "core from", x$core_path))
  if (!is.na(x$torch_shielded)) {
    cat(sprintf("  %-14s %s\n", "torch BLAS", if (x$torch_shielded) {
      "its own (loaded with RTLD_DEEPBIND, or no other BLAS in the global scope)"
    } else {
      "torch was imported before lrtiers was loaded: its BLAS calls may bind to R's BLAS"
    }))
  }
  if (length(x$missing)) cat("Missing:", paste(x$missing, collapse = ", "), "\n")
  if (length(x$problems)) cat(paste0("Problem: ", x$problems, "\n"), sep = "")
  if (length(x$fix)) cat("Fix with:\n", paste0("  ", x$fix, "\n"), sep = "")
  if (x$ok) cat("Ready: lr_fit() can run.\n")
  invisible(x)
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
