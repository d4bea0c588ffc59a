// Package simplot draws what s3sim saw during a copy: requests per second
// and SlowDowns per key prefix over simulated time, as a PNG. It is a
// module of its own so that gonum.org/v1/plot stays out of lakekit's
// go.mod.
//
// BenchmarkHotPrefix copies the seed's workload with 80% of the objects in
// one dt= partition on s3sim, in virtual time, and writes the plot of the
// destination's folders (the prefixes s3copy paces by):
//
//	cd examples/oms-copy/simplot
//	go test -run '^$' -bench HotPrefix -benchtime 1x -args -png ../../../docs/s3copy/hot-prefix.png
package simplot
