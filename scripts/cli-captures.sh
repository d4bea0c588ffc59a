#!/usr/bin/env bash
# The terminal captures of docs/cli/, taken with tmux capture-pane:
#   local-up.txt       `lakekit local up` (every server), then its Ctrl-C
#   s3-sync-200k.txt   `lakekit s3 sync` of OBJECTS objects (default
#                      200,000 × 1 KiB) on the gofakes3 of that `local up`
#                      (a process of its own): frames while it runs, the
#                      last one, and a second sync (nothing to do)
#   s3-sync-200k.json  the --summary-file of the same run (the --json form),
#   s3-sync-200k-again.json  and of the second sync
# The tree is uploaded with s5cmd (see scripts/s3-cli-peers.sh for where it
# comes from): PEERS=/tmp/peers/bin scripts/cli-captures.sh
set -euo pipefail

OBJECTS=${OBJECTS:-200000}
PEERS=${PEERS:-/tmp/peers/bin}
OUT=${OUT:-docs/cli}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
up=lakekit-up-$$ sync=lakekit-sync-$$
trap 'tmux kill-session -t "$up" 2>/dev/null; tmux kill-session -t "$sync" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$OUT"
go build -o "$work/bin/lakekit" ./cmd/lakekit
export PATH=$work/bin:$PATH

# capture SESSION: the pane's text with its scrollback, trailing blank
# lines dropped.
capture() { tmux capture-pane -p -S - -t "$1" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }

# 1. local up, in a pane of 120 columns.
tmux new-session -d -s "$up" -x 120 -y 30 -c "$work" -e PATH="$PATH" -e PS1='$ ' bash --norc --noprofile
tmux send-keys -t "$up" "lakekit local up --env-file env.sh" Enter
for _ in $(seq 600); do [ -s "$work/env.sh" ] && break; sleep 0.1; done
sleep 0.5
capture "$up" >"$OUT/local-up.txt"
# shellcheck disable=SC1091
. "$work/env.sh"

# 2. The tree: OBJECTS files of 1 KiB in 20 folders of dt= partitions,
# uploaded with s5cmd.
python3 - "$work/tree" "$OBJECTS" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
blob = os.urandom(1024)
for i in range(n):
    d = os.path.join(root, "f%02d" % (i % 20), "dt=2024-%02d-%02d" % (i // 20 % 12 + 1, i // 240 % 28 + 1))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "part-%06d.json" % i), "wb") as f:
        f.write(blob)
EOF
"$PEERS/s5cmd" --endpoint-url "$AWS_ENDPOINT_URL_S3" mb s3://lake >/dev/null
"$PEERS/s5cmd" --endpoint-url "$AWS_ENDPOINT_URL_S3" --numworkers 128 cp "$work/tree/" s3://lake/raw/ >/dev/null
rm -rf "$work/tree"

# 3. The sync, in a pane of 150 columns, captured every 10 s while it runs.
tmux new-session -d -s "$sync" -x 160 -y 12 -c "$work" -e PATH="$PATH" -e PS1='$ ' bash --norc --noprofile
tmux send-keys -t "$sync" ". ./env.sh && clear" Enter
sleep 0.5
tmux clear-history -t "$sync"
cmd="lakekit s3 sync --summary-file summary.json s3://lake/raw/ s3://lake/processed/"
tmux send-keys -t "$sync" "$cmd; echo exit=\$?" Enter
frames=$work/frames
: >"$frames"
while ! capture "$sync" | grep -q '^exit='; do
  sleep 10
  if ! capture "$sync" | grep -q '^exit='; then
    { echo "--- while running, $(date -u +%H:%M:%S) UTC"; capture "$sync"; } >>"$frames"
  fi
done
{
  echo "# lakekit s3 sync of $OBJECTS objects (1 KiB) on gofakes3 (lakekit local up, its own process),"
  echo "# tmux capture-pane every 10 s while it ran, then the last frame; 2 shared cores."
  cat "$frames"
  echo "--- done"
  capture "$sync"
} >"$OUT/s3-sync-200k.txt"
cp "$work/summary.json" "$OUT/s3-sync-200k.json"
# The same sync again: every object unchanged, nothing copied.
tmux send-keys -t "$sync" "clear" Enter
sleep 0.5
tmux clear-history -t "$sync"
tmux send-keys -t "$sync" "${cmd/summary.json/summary-again.json}; echo exit=\$?" Enter
sleep 1
while ! capture "$sync" | grep -q '^exit='; do sleep 2; done
{ echo "--- the same sync again"; capture "$sync"; } >>"$OUT/s3-sync-200k.txt"
cp "$work/summary-again.json" "$OUT/s3-sync-200k-again.json"

# 4. Ctrl-C stops every server.
tmux send-keys -t "$up" C-c
sleep 1
capture "$up" >"$OUT/local-up.txt"
