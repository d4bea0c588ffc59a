package s3sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lakekit/lakekit/internal/opt"
)

// Defaults of the zero WorkloadOptions fields: the seed's data lake (the
// oms-copy post: "more than 300K objects ranging from 1KB to 10GB", "about
// 24GB", folder1…folder9 with sub-folders and partitions).
const (
	DefaultWorkloadObjects = 302_400
	DefaultFolders         = 9
	DefaultSubFolders      = 4
	DefaultPartitions      = 30 // dt= partitions per sub-folder
	DefaultMinSize         = 1_000
	DefaultMaxSize         = 10_000_000_000
	DefaultTotalSize       = 24_000_000_000
)

// WorkloadOptions shape a generated data lake.
type WorkloadOptions struct {
	// Prefix is put before every key (default "raw/").
	Prefix string
	// Objects is the number of objects (default DefaultWorkloadObjects).
	Objects int
	// Folders, SubFolders and Partitions shape the tree:
	// folderN/subM/dt=YYYY-MM-DD/part-NNNNN.parquet (defaults
	// DefaultFolders, DefaultSubFolders, DefaultPartitions).
	Folders, SubFolders, Partitions int
	// MinSize, MaxSize and TotalSize bound the sizes (defaults
	// DefaultMinSize, DefaultMaxSize, DefaultTotalSize): the smallest
	// object has MinSize bytes, the largest MaxSize, all of them about
	// TotalSize.
	MinSize, MaxSize, TotalSize int64
	// Hot is the fraction of the objects put in one dt= partition (the
	// first partition of the first sub-folder of the first folder), the
	// rest spread as usual. Default 0: no hot partition.
	Hot float64
	// Seed makes the workload (default 1): the same seed, the same keys
	// and sizes.
	Seed uint64
}

const workloadOptions = "s3sim.WorkloadOptions"

// Workload is a generated data lake.
type Workload struct {
	Objects []Object // in key order
	Bytes   int64
	// Alpha is the bounded Pareto's shape fitted to the total size.
	Alpha float64
}

// Small shapes a test-sized seed workload: 3,000 objects in 3 folders × 2
// sub-folders × 5 dt= partitions, 2 GB, the largest 1 GB (multipart in
// s3copy's defaults). Pass it to SeedWorkload before other options.
func Small(o *WorkloadOptions) {
	o.Objects = 3000
	o.Folders, o.SubFolders, o.Partitions = 3, 2, 5
	o.MaxSize = 1_000_000_000
	o.TotalSize = 2_000_000_000
}

// SeedWorkload generates the seed's data lake. Sizes follow a bounded
// Pareto distribution on [MinSize, MaxSize]: file sizes in data lakes and
// file systems are heavy-tailed (a power-law tail: many small files, a few
// huge ones hold most bytes), the post gives a minimum, a maximum and a
// total, and a bounded Pareto has one shape parameter left, α, fitted here
// so that the sizes sum to TotalSize (α≈0.85 for the defaults: the mean,
// 79 KB, is 80 times the minimum; half the objects are under 2.3 KB; seven
// are 256 MiB or more). The sizes are the distribution's
// quantiles at (i+½)/n (the smallest MinSize, the largest MaxSize, exactly)
// handed to the keys in an order shuffled with Seed, so the total does not
// depend on the luck of a few draws from the tail.
func SeedWorkload(optFns ...func(*WorkloadOptions)) (Workload, error) {
	var o WorkloadOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := errors.Join(
		opt.Min(workloadOptions, "Objects", o.Objects, 0),
		opt.Min(workloadOptions, "Folders", o.Folders, 0),
		opt.Min(workloadOptions, "SubFolders", o.SubFolders, 0),
		opt.Min(workloadOptions, "Partitions", o.Partitions, 0),
		opt.Min(workloadOptions, "MinSize", o.MinSize, 0),
		opt.Range(workloadOptions, "Hot", o.Hot, 0, 1),
	); err != nil {
		return Workload{}, err
	}
	o.Prefix = opt.Default(o.Prefix, "raw/")
	o.Objects = opt.Default(o.Objects, DefaultWorkloadObjects)
	o.Folders = opt.Default(o.Folders, DefaultFolders)
	o.SubFolders = opt.Default(o.SubFolders, DefaultSubFolders)
	o.Partitions = opt.Default(o.Partitions, DefaultPartitions)
	o.MinSize = opt.Default(o.MinSize, DefaultMinSize)
	o.MaxSize = opt.Default(o.MaxSize, DefaultMaxSize)
	o.TotalSize = opt.Default(o.TotalSize, DefaultTotalSize)
	o.Seed = opt.Default(o.Seed, 1)
	n := o.Objects
	if o.MaxSize < o.MinSize || o.TotalSize < int64(n)*o.MinSize || n > 1 && o.TotalSize < o.MaxSize+int64(n-1)*o.MinSize {
		return Workload{}, &OptionError{Type: workloadOptions, Field: "TotalSize", Value: o.TotalSize,
			Want: fmt.Sprintf("between Objects·MinSize and MaxSize+(Objects-1)·MinSize…Objects·MaxSize (MinSize %d, MaxSize %d)", o.MinSize, o.MaxSize)}
	}
	alpha := fitAlpha(n, float64(o.MinSize), float64(o.MaxSize), float64(o.TotalSize))
	sizes := make([]int64, n)
	for i := range sizes {
		sizes[i] = int64(math.Round(paretoQuantile(quantile(i, n), alpha, float64(o.MinSize), float64(o.MaxSize))))
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	rng.Shuffle(n, func(i, j int) { sizes[i], sizes[j] = sizes[j], sizes[i] })
	counts := spread(rng, n, o)
	w := Workload{Alpha: alpha, Objects: make([]Object, 0, n)}
	i := 0
	for f := range o.Folders {
		for s := range o.SubFolders {
			for p := range o.Partitions {
				dir := fmt.Sprintf("%sfolder%d/sub%d/dt=2021-%02d-%02d/", o.Prefix, f+1, s+1, 1+p/28, 1+p%28)
				for k := range counts[(f*o.SubFolders+s)*o.Partitions+p] {
					w.Objects = append(w.Objects, Object{Key: fmt.Sprintf("%spart-%05d.snappy.parquet", dir, k), Size: sizes[i]})
					w.Bytes += sizes[i]
					i++
				}
			}
		}
	}
	return w, nil
}

// quantile is the i-th of n stratified quantiles; the ends are the bounds.
func quantile(i, n int) float64 {
	switch {
	case i == 0:
		return 0
	case i == n-1:
		return 1
	}
	return (float64(i) + 0.5) / float64(n)
}

// paretoQuantile is the bounded Pareto's inverse CDF on [lo, hi].
func paretoQuantile(u, alpha, lo, hi float64) float64 {
	if u >= 1 {
		return hi
	}
	r := math.Pow(lo/hi, alpha)
	return min(hi, lo/math.Pow(1-u*(1-r), 1/alpha))
}

// fitAlpha finds the shape whose n quantiles sum to total (the sum falls
// as α grows), by bisection.
func fitAlpha(n int, lo, hi, total float64) float64 {
	sum := func(a float64) float64 {
		s := 0.0
		for i := range n {
			s += math.Round(paretoQuantile(quantile(i, n), a, lo, hi))
		}
		return s
	}
	a, b := 0.01, 5.0
	for range 45 {
		m := (a + b) / 2
		if sum(m) > total {
			a = m
		} else {
			b = m
		}
	}
	return (a + b) / 2
}

// spread divides n objects between the dt= partitions: sizes vary
// (lognormal weights, σ 0.5), Hot of them go to the first partition.
func spread(rng *rand.Rand, n int, o WorkloadOptions) []int {
	parts := o.Folders * o.SubFolders * o.Partitions
	counts := make([]int, parts)
	hot := int(o.Hot * float64(n))
	counts[0] = hot
	rest := n - hot
	weights := make([]float64, parts)
	var sum float64
	for i := range weights {
		weights[i] = math.Exp(0.5 * rng.NormFloat64())
		sum += weights[i]
	}
	given := 0
	for i := range counts {
		c := int(float64(rest) * weights[i] / sum)
		counts[i] += c
		given += c
	}
	for i := 0; given < rest; i = (i + 1) % parts {
		counts[i]++
		given++
	}
	return counts
}
