# Shell helpers the CI scripts share (sourced, not run).

# wait_until_ready NAME PID LOG LIMIT TEST...
# Waits until the command TEST... succeeds (it looks for NAME's "ready" line in LOG). Fails,
# with the end of LOG, when the process PID exits first or LIMIT seconds pass.
wait_until_ready() {
  local name="$1" pid="$2" log="$3" limit="$4"
  shift 4
  local started=$SECONDS
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: $name exited before it was ready; its log ($log):" >&2
      tail -n 40 "$log" >&2
      exit 1
    fi
    if [ $((SECONDS - started)) -ge "$limit" ]; then
      echo "error: $name was not ready within $limit s; its log ($log):" >&2
      tail -n 40 "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
}

# install_locked DIR PACKAGE LABEL
# Installs exactly the tree locked in DIR/package-lock.json into DIR/node_modules (`npm ci`,
# without install scripts), unless it is already there: PACKAGE at its pinned version, and the
# lock no newer than the installed tree. Says what it installed, as LABEL.
install_locked() {
  local dir="$1" package="$2" label="$3"
  local pinned installed started
  pinned="$(node -p "require('./$dir/package.json').dependencies['$package']")"
  installed="$(node -p "try { require('./$dir/node_modules/$package/package.json').version } catch { '' }")"
  if [ "$installed" != "$pinned" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    started=$SECONDS
    (cd "$dir" && npm ci --engine-strict --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "installed $label $pinned in $((SECONDS - started)) s ($(du -sh "$dir/node_modules" | cut -f1))"
  fi
}
