#!/usr/bin/env bash
# lakekit's s3copy side by side with rclone and s5cmd on s3sim, the
# simulated S3 endpoint (S3's latencies, per-prefix request rates with
# 503 SlowDown and partition splits, 1,024 connections), served on
# 127.0.0.1 in real time with a time scale: the same seed-shaped workload
# (OBJECTS objects, default 20,000, 1.6 GB), each tool on a fresh Sim, the
# tools' order rotated each round (ROUNDS, default 1), at every scale of
# SCALES (default "8 16": a simulated second takes 8, then 16 wall
# seconds). Every figure is in simulated seconds (wall time ÷ scale), with
# the peers' ratio to s3copy; two scales that agree show that the scale
# does not change the result. It runs BenchmarkSimPeers (s3copy/sim_peers_bench_test.go).
#
# The peers stay out of the module (never in go.mod); see
# scripts/s3-cli-peers.sh for how to build them into /tmp/peers/bin.
#
#   PEERS=/tmp/peers/bin scripts/s3-sim-peers.sh | tee docs/s3copy/sim-peers.txt
set -euo pipefail

OBJECTS=${OBJECTS:-20000}
ROUNDS=${ROUNDS:-1}
SCALES=${SCALES:-8 16}
export PEERS=${PEERS:-/tmp/peers/bin}

cd "$(dirname "$0")/.."
echo "machine: $(nproc) cores; $(uname -sr); lakekit $(git rev-parse --short HEAD)"
echo "versions: $("$PEERS/rclone" version | head -1); s5cmd $(git -C "${S5CMD_SRC:-/tmp/peers/s5cmd}" log -1 --format=%h 2>/dev/null || "$PEERS/s5cmd" version)"
echo
go test -count=1 -run '^$' -bench '^BenchmarkSimPeers$' -benchtime "${ROUNDS}x" -timeout 60m ./s3copy/ \
  -args -s3sim.peerobjects="$OBJECTS" -s3sim.peerscales="$(echo "$SCALES" | tr ' ' ',')" |
  grep -v '^goos\|^goarch\|^pkg\|^cpu\|^PASS\|^ok'
