#!/bin/sh
# Copies the engine's current JSON decoder (package engine) into this
# package as package decbench, so the benchmark compares it as it is.
set -e
cd "$(dirname "$0")"
for f in decode.go jsonscan.go; do
	sed 's/^package engine$/package decbench/' ../../$f > engine_$f
done
