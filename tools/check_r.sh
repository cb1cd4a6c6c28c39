#!/usr/bin/env bash
# The R half of `make test`: stage the Python core into the R package, build the
# tarball (vignettes rendered), R CMD check it, fail on any ERROR or WARNING (NOTEs
# are printed), insist that the testthat tests really ran Python (none skipped),
# then install the checked tarball so the R library has the current version.
# Needs LRTIERS_PYTHON / RETICULATE_PYTHON (the Makefile exports them; defaults to
# .venv/bin/python). Works from any directory; leaves nothing in the checkout but
# the git-ignored inst/python.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
log() { printf '[check_r] %s\n' "$*"; }

export LRTIERS_PYTHON=${LRTIERS_PYTHON:-$ROOT/.venv/bin/python}
export RETICULATE_PYTHON=${RETICULATE_PYTHON:-$LRTIERS_PYTHON}
# Tests must not skip for want of Python here: the skip helper errors instead.
export LRTIERS_TESTS_REQUIRE_PYTHON=1
# snapshot tests (printed output, messages) run here too, as on a developer's machine
export NOT_CRAN=true
export _R_CHECK_SYSTEM_CLOCK_=0   # no network to verify the time
export _R_CHECK_CRAN_INCOMING_=false
export PYTHONDONTWRITEBYTECODE=1
if [ ! -x "$LRTIERS_PYTHON" ]; then
  echo "check_r: LRTIERS_PYTHON=$LRTIERS_PYTHON is not an executable Python (run make setup)" >&2
  exit 1
fi

# --- 1. the Python core, bundled into the package (inst/python is git-ignored) ----
bash tools/stage_core.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/lrtiers-check.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- 2. man/ and NAMESPACE are what roxygen2 makes of R/ (when roxygen2 is here) ----
if Rscript -e 'quit(status = !requireNamespace("roxygen2", quietly = TRUE))' >/dev/null 2>&1; then
  mkdir -p "$work/docs"
  cp -r DESCRIPTION NAMESPACE R man data inst "$work/docs/"  # inst: .onLoad reads the core's requirements
  (cd "$work/docs" && Rscript -e 'suppressMessages(roxygen2::roxygenise(roclets = c("rd", "namespace")))') \
    > "$work/roxygen.log" 2>&1 || { cat "$work/roxygen.log" >&2; exit 1; }
  if ! diff -r man "$work/docs/man" >/dev/null || ! diff NAMESPACE "$work/docs/NAMESPACE" >/dev/null; then
    diff -r man "$work/docs/man" >&2 || true
    echo "check_r: man/ or NAMESPACE is stale: run Rscript -e 'roxygen2::roxygenise()'" >&2
    exit 1
  fi
  log "man/ and NAMESPACE match the roxygen comments"
else
  log "roxygen2 not installed: not checking that man/ matches the roxygen comments"
fi

# --- 3. build and check in a scratch directory -------------------------------------
version=$(sed -n 's/^Version:[[:space:]]*//p' DESCRIPTION)
log "R CMD build (vignettes rendered)"
(cd "$work" && R CMD build "$ROOT") > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
tarball=$work/lrtiers_${version}.tar.gz
[ -f "$tarball" ] || { cat "$work/build.log" >&2; echo "check_r: no $tarball" >&2; exit 1; }
tar -tzf "$tarball" > "$work/contents.txt"
grep -q '^lrtiers/inst/doc/.*\.html$' "$work/contents.txt" || { echo "check_r: vignettes were not built" >&2; exit 1; }
grep -q '^lrtiers/inst/python/lrtiers/__init__.py$' "$work/contents.txt" || { echo "check_r: the core is not bundled" >&2; exit 1; }
log "vignettes built: $(grep -c '^lrtiers/inst/doc/.*\.html$' "$work/contents.txt")"

# (vignette code still runs; their outputs were just built by R CMD build)
log "R CMD check --no-manual --no-build-vignettes $(basename "$tarball")"
status=0
(cd "$work" && R CMD check --no-manual --no-build-vignettes "$tarball") > "$work/check.log" 2>&1 || status=$?
cat "$work/check.log"
checklog=$work/lrtiers.Rcheck/00check.log
if [ ! -f "$checklog" ]; then
  echo "check_r: R CMD check did not run (exit status $status)" >&2
  exit 1
fi
summary=$(grep -E '^Status:' "$checklog" || true)
log "$summary"
if [ -f "$work/lrtiers.Rcheck/tests/testthat.Rout" ]; then
  result=$(grep -E '\[ FAIL [0-9]+ \| WARN [0-9]+ \| SKIP [0-9]+ \| PASS [0-9]+ \]' \
    "$work/lrtiers.Rcheck/tests/testthat.Rout" | tail -n1)
  log "testthat: $result"
  if [ -z "$result" ] || ! grep -q 'FAIL 0 ' <<<"$result"; then
    echo "check_r: testthat did not pass" >&2; status=1
  fi
  if ! grep -q 'SKIP 0 ' <<<"$result"; then
    grep -A3 -i 'skip' "$work/lrtiers.Rcheck/tests/testthat.Rout" >&2 || true
    echo "check_r: tests were skipped" >&2; status=1
  fi
elif [ -f "$work/lrtiers.Rcheck/tests/testthat.Rout.fail" ]; then
  tail -n 60 "$work/lrtiers.Rcheck/tests/testthat.Rout.fail" >&2
  status=1
fi
if grep -qE '^Status:.*(ERROR|WARNING)' "$checklog"; then
  echo "check_r: R CMD check reported ERROR or WARNING" >&2
  status=1
fi
if [ "$status" != 0 ]; then
  exit "$status"
fi

# --- 4. install what was checked -----------------------------------------------------
log "R CMD INSTALL $(basename "$tarball")"
R CMD INSTALL "$tarball" > "$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }
log "ok: $summary"
