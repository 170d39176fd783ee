# Shared by scripts/*.sh: paths and helpers. Source it; don't run it.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nats_server=/usr/sbin/nats-server
# ccache hits across clones in different folders (CI clones afresh).
export CCACHE_BASEDIR="$repo"

# A TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_line FILE TEXT SECONDS: waits until FILE contains TEXT.
wait_for_line() {
  local file=$1 text=$2 deadline=$((SECONDS + $3))
  until grep -q "$text" "$file" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then echo "timed out waiting for '$text' in $file" >&2; cat "$file" >&2; return 1; fi
    sleep 0.1
  done
}

# build PRESET [TARGET...]: configures and builds with the CMake preset.
build() {
  local preset=$1; shift
  cmake --preset "$preset" -S "$repo" >/dev/null
  if [ $# -gt 0 ]; then cmake --build --preset "$preset" -j "$(nproc)" --target "$@"
  else cmake --build --preset "$preset" -j "$(nproc)"; fi
}

# start_nats: starts a nats-server on a free 127.0.0.1 port in a new temp folder $work; sets $url and adds its
# PID to $pids. The EXIT trap stops every PID in $pids (newest first) and removes $work.
start_nats() {
  work=$(mktemp -d)
  pids=()
  trap stop_all EXIT
  local port
  port=$(free_port)
  url="nats://127.0.0.1:$port"
  printf 'listen: 127.0.0.1:%s\nmax_payload: 8MB\n' "$port" > "$work/nats.conf"
  "$nats_server" -c "$work/nats.conf" > "$work/nats.log" 2>&1 &
  pids+=($!)
  wait_for_line "$work/nats.log" "Server is ready" 10
}

# stop_all: SIGTERM to every PID in $pids, newest first, waiting for each; then removes $work.
stop_all() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null || true; wait "${pids[i]}" 2>/dev/null || true; done
  rm -rf "$work"
}
