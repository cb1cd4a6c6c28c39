#!/usr/bin/env bash
# Installs everything lrtiers needs on a fresh Debian 12 machine, idempotently:
# Debian packages (R 4.2 and friends), reticulate 1.41 built from Debian's source
# archive (bookworm's 1.28 crashes under rpy2 and refuses NumPy 2), the Python venv
# in .venv/ with the core's requirements at the pins of constraints.txt, and the R package.
# See ../shared/ENVIRONMENT.md for why each pin is what it is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv
STAMP_DIR=$ROOT/.setup
mkdir -p "$STAMP_DIR"
log() { printf '[setup] %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# --- 1. Debian packages --------------------------------------------------------
DEB_PACKAGES=(
  r-base-core r-base-dev pandoc
  r-cran-testthat r-cran-knitr r-cran-rmarkdown r-cran-generics r-cran-jsonlite r-cran-roxygen2
  # reticulate 1.41's build dependencies, all in bookworm
  r-cran-rcpp r-cran-rcpptoml r-cran-here r-cran-png r-cran-rappdirs r-cran-rlang
  r-cran-withr r-cran-matrix
  # suggested: broom (tests compare with broom on lm()), tibble (broom verbs return tibbles),
  # callr (interrupt tests in child R sessions), ggplot2 (autoplot()); the packages users
  # hand an lm() fit to, which tests run on an lr_fit against lm(): sandwich, lmtest, car,
  # emmeans; hardhat and recipes (molding, lr_fit(recipe, data)); MASS (Boston: the
  # conditioning vignette's and the tests' mini-batches on R's data)
  r-cran-broom r-cran-tibble r-cran-callr r-cran-ggplot2
  r-cran-sandwich r-cran-lmtest r-cran-car r-cran-emmeans r-cran-hardhat r-cran-recipes
  r-cran-mass
  python3.11 python3.11-venv python3.11-dev build-essential xz-utils ca-certificates
)
missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# --- 2. reticulate >= 1.41 from Debian trixie's source archive ------------------
RETICULATE_SHA=fca24ebaa8867e2b4da9b735410cf080f09d20ca326407f1759f30c1914b7cf9
if ! Rscript -e 'quit(status = !(requireNamespace("reticulate", quietly = TRUE) && packageVersion("reticulate") >= "1.41"))' >/dev/null 2>&1; then
  log "building reticulate 1.41 from Debian's source archive"
  work=$(mktemp -d)
  # The Debian mirror this machine already uses (deb822 "URIs:" or one-line "deb URI"),
  # never the security archive.
  mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
    | sed -nE 's/^(URIs:|deb)[[:space:]]+(\[[^]]*\][[:space:]]+)?(https?:\/\/[^[:space:]]+).*/\3/p' \
    | grep -v -- '-security' | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  printf 'deb-src %s trixie main\ndeb %s trixie main\n' "$mirror" "$mirror" > "$work/trixie.list"
  mkdir -p "$work/lists/partial"
  opts=(-oDir::Etc::SourceList="$work/trixie.list" -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists="$work/lists")
  $SUDO apt-get "${opts[@]}" update -qq
  # The .debian.tar.xz beside the orig tarball may 404: judge by the tarball's checksum.
  (cd "$work" && apt-get "${opts[@]}" source --download-only r-cran-reticulate >/dev/null 2>&1 || true)
  tarball=$(ls "$work"/r-cran-reticulate_1.41*.orig.tar.xz 2>/dev/null | head -n1 || true)
  if [ -z "$tarball" ] || [ "$(sha256sum "$tarball" | cut -d' ' -f1)" != "$RETICULATE_SHA" ]; then
    echo "setup: could not fetch reticulate 1.41 source (expected sha256 $RETICULATE_SHA)" >&2
    exit 1
  fi
  tar -xJf "$tarball" -C "$work"
  R CMD INSTALL --no-test-load "$work/reticulate" >"$work/install.log" 2>&1 || { cat "$work/install.log" >&2; exit 1; }
  rm -rf "$work"
fi

# --- 3. Python venv ------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  /usr/bin/python3.11 -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q)
CORE_REQUIREMENTS=python/lrtiers/requirements.txt  # the one place the requirements live
CONSTRAINTS=constraints.txt  # the test environment's exact versions (torch's pin)
req_stamp=$STAMP_DIR/python-requirements
if [ ! -f "$req_stamp" ] || ! cat $CORE_REQUIREMENTS requirements-dev.txt $CONSTRAINTS | cmp -s - "$req_stamp"; then
  log "installing Python packages into $VENV"
  # torch first, at the pin: any other spec downloads GBs of CUDA packages.
  "${PIP[@]}" -c $CONSTRAINTS torch
  # rpy2 3.6 needs symbols R 4.2 lacks; remove any 3.6 before installing 3.5.x.
  if "$VENV/bin/python" -c 'import importlib.metadata as m, sys; sys.exit(not m.version("rpy2").startswith("3.6"))' 2>/dev/null; then
    "$VENV/bin/python" -m pip uninstall -y -q rpy2 rpy2-rinterface rpy2-robjects
  fi
  "${PIP[@]}" -c $CONSTRAINTS -r $CORE_REQUIREMENTS -r requirements-dev.txt
  cat $CORE_REQUIREMENTS requirements-dev.txt $CONSTRAINTS > "$req_stamp"
fi
# The core, editable, unless this checkout's python/ is already what the venv imports.
if ! "$VENV/bin/python" -c 'import lrtiers, os, sys; sys.exit(os.path.dirname(lrtiers.__file__) != sys.argv[1])' \
    "$ROOT/python/lrtiers" 2>/dev/null; then
  "${PIP[@]}" --no-deps -e .
fi

# --- 4. The R package ------------------------------------------------------------
if [ -f DESCRIPTION ]; then
  log "installing the R package"
  bash tools/stage_core.sh  # the bundled copy of the core the R package imports
  LRTIERS_PYTHON=$VENV/bin/python R CMD INSTALL --no-test-load . >"$STAMP_DIR/r-install.log" 2>&1 \
    || { cat "$STAMP_DIR/r-install.log" >&2; exit 1; }
fi
log "ready: $VENV/bin/python, R $(Rscript -e 'cat(format(getRversion()))' 2>/dev/null)"
