#!/usr/bin/env bash
# `lakekit s3 cp` side by side with rclone, s5cmd and the AWS CLI v2 on the
# same tree of OBJECTS objects (default 20,000 × 1 KiB), on the same S3
# server in its own process (gofakes3 under `lakekit local up --only s3`),
# in the same run: ROUNDS interleaved rounds (default 3), the tools' order
# rotated each round, each copy to a fresh prefix. For each run it prints
# the wall time, objects/s (objects / wall time, process start to exit) and
# the peak RSS that `/usr/bin/time -v` reports, then the medians.
#
# The peers stay out of the module (never in go.mod):
#   GOBIN=/tmp/peers/bin go install github.com/rclone/rclone@latest
#   s5cmd is not on the module proxy: build it from its source in a scratch
#   directory outside the repository (cd s5cmd && go build -o /tmp/peers/bin/s5cmd .)
#   apt-get install awscli   # the AWS CLI v2 at /usr/bin/aws
#
#   PEERS=/tmp/peers/bin scripts/s3-cli-peers.sh | tee docs/cli/s3-cp-peers.txt
set -euo pipefail

OBJECTS=${OBJECTS:-20000}
ROUNDS=${ROUNDS:-3}
PEERS=${PEERS:-/tmp/peers/bin}
AWSCLI=${AWSCLI:-/usr/bin/aws}
work=$(mktemp -d)
trap 'kill -INT $up 2>/dev/null; wait $up 2>/dev/null; rm -rf "$work"' EXIT

cd "$(dirname "$0")/.."
go build -o "$work/lakekit" ./cmd/lakekit
lakekit=$work/lakekit

# The server: gofakes3 in a lakekit process of its own.
"$lakekit" local up --only s3 --env-file "$work/env.sh" >"$work/up.log" 2>&1 &
up=$!
for _ in $(seq 300); do [ -s "$work/env.sh" ] && break; sleep 0.1; done
# shellcheck disable=SC1091
. "$work/env.sh"
ep=$AWS_ENDPOINT_URL_S3
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
# The AWS CLI tuned as its docs allow: 64 requests at once (default 10).
printf '[default]\ns3 =\n  max_concurrent_requests = 64\n  max_queue_size = 100000\n' >"$AWS_CONFIG_FILE"

# The tree: OBJECTS objects of 1 KiB under s3://src/tree/, 10 folders of
# dt= partitions, uploaded with s5cmd from a local directory.
mkdir -p "$work/tree"
head -c 1024 /dev/urandom >"$work/blob"
for i in $(seq 0 $((OBJECTS - 1))); do
  d=$work/tree/f$((i % 10))/dt=2024-01-$(printf %02d $((i / 10 % 28 + 1)))
  [ -d "$d" ] || mkdir -p "$d"
  cp "$work/blob" "$d/part-$i.json"
done
"$AWSCLI" --endpoint-url "$ep" s3 mb s3://src >/dev/null
"$AWSCLI" --endpoint-url "$ep" s3 mb s3://dst >/dev/null
"$PEERS/s5cmd" --endpoint-url "$ep" cp "$work/tree/" s3://src/tree/ >/dev/null
n=$("$lakekit" s3 ls s3://src/tree/ | wc -l)
echo "tree: $n objects of 1 KiB in s3://src/tree/ on gofakes3 at $ep (lakekit local up, its own process)"
[ "$n" -eq "$OBJECTS" ] || { echo "tree has $n objects, want $OBJECTS" >&2; exit 1; }
echo "machine: $(nproc) cores; $(uname -sr)"
echo "versions: $("$PEERS/rclone" version | head -1); s5cmd $(git -C "${S5CMD_SRC:-/tmp/peers/s5cmd}" log -1 --format=%h 2>/dev/null || echo '?'); $("$AWSCLI" --version)"
echo

# copy TOOL ROUND: one copy of the tree to s3://dst/TOOL-ROUND/ under
# /usr/bin/time -v; prints one result line.
copy() {
  local tool=$1 r=$2 dst=s3://dst/$1-$2/
  local -a cmd
  case $tool in
  lakekit) cmd=("$lakekit" -q s3 cp s3://src/tree/ "$dst") ;;
  rclone) cmd=("$PEERS/rclone" copy ":s3:src/tree" ":s3:dst/$tool-$r" --s3-provider Other --s3-endpoint "$ep"
    --s3-access-key-id "$AWS_ACCESS_KEY_ID" --s3-secret-access-key "$AWS_SECRET_ACCESS_KEY" --s3-region "$AWS_REGION"
    --transfers 256 --checkers 256 --fast-list --s3-no-check-bucket --no-check-dest --s3-no-head --no-traverse -q) ;;
  s5cmd) cmd=("$PEERS/s5cmd" --endpoint-url "$ep" --numworkers 256 cp 's3://src/tree/*' "$dst") ;;
  aws) cmd=("$AWSCLI" --endpoint-url "$ep" s3 cp --recursive --only-show-errors s3://src/tree/ "$dst") ;;
  esac
  if ! /usr/bin/time -v -o "$work/time" "${cmd[@]}" >"$work/out" 2>&1; then
    echo "$tool round $r failed:" >&2
    tail -5 "$work/out" >&2
  fi
  local wall rss got
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$work/time")
  got=$("$lakekit" s3 ls "$dst" | wc -l)
  printf '%-8s round %d  %6d objects  %7.2f s  %7.0f objects/s  peak RSS %7s MiB\n' \
    "$tool" "$r" "$got" "$wall" "$(echo "$got / $wall" | bc -l)" "$rss" | tee -a "$work/results"
}

tools=(lakekit rclone s5cmd aws)
for r in $(seq "$ROUNDS"); do
  for i in "${!tools[@]}"; do
    copy "${tools[$(((i + r - 1) % ${#tools[@]}))]}" "$r"
  done
done

echo
echo "medians over $ROUNDS rounds:"
for t in "${tools[@]}"; do
  rate=$(awk -v t="$t" '$1 == t {print $8}' "$work/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  rss=$(awk -v t="$t" '$1 == t {print $12}' "$work/results" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-8s %7.0f objects/s  peak RSS %7s MiB\n' "$t" "$rate" "$rss" | tee -a "$work/medians"
done
best=$(awk '$1 != "lakekit" {print $2}' "$work/medians" | sort -n | tail -1)
ours=$(awk '$1 == "lakekit" {print $2}' "$work/medians")
printf 'lakekit / best peer: %.2fx\n' "$(echo "$ours / $best" | bc -l)"
