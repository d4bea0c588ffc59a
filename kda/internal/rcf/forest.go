package rcf

import (
	"fmt"
	"math"
)

// KDA's documented defaults for RANDOM_CUT_FOREST.
const (
	DefaultTrees       = 100
	DefaultSampleSize  = 256
	DefaultTimeDecay   = 100000
	DefaultShingleSize = 1
)

// Limits New accepts; they keep a forest's memory and a state's decoding
// bounded.
const (
	MaxTrees      = 1000
	MaxSampleSize = 1 << 16
	MaxPointDims  = 1024 // Dims × ShingleSize
)

// Config is a forest's shape. Dims is the number of numeric values per
// record; a point is the concatenation of the last ShingleSize records,
// oldest first.
type Config struct {
	Dims        int
	Trees       int
	SampleSize  int
	TimeDecay   float64 // in records: a record's weight decays by e every TimeDecay records
	ShingleSize int
	Seed        uint64
}

func (c Config) validate() error {
	switch {
	case c.Dims < 1:
		return fmt.Errorf("rcf: %d dimensions; a record needs at least one numeric value", c.Dims)
	case c.Trees < 1 || c.Trees > MaxTrees:
		return fmt.Errorf("rcf: numberOfTrees %d is outside 1..%d", c.Trees, MaxTrees)
	case c.SampleSize < 1 || c.SampleSize > MaxSampleSize:
		return fmt.Errorf("rcf: subSampleSize %d is outside 1..%d", c.SampleSize, MaxSampleSize)
	case !(c.TimeDecay > 0) || math.IsInf(c.TimeDecay, 0):
		return fmt.Errorf("rcf: timeDecay %v is not a positive number", c.TimeDecay)
	case c.ShingleSize < 1 || c.Dims*c.ShingleSize > MaxPointDims:
		return fmt.Errorf("rcf: shingleSize %d with %d values a record is outside 1..%d values a point", c.ShingleSize, c.Dims, MaxPointDims)
	}
	return nil
}

// Forest is a streaming random cut forest. It is not safe for
// concurrent use.
type Forest struct {
	cfg     Config
	d       int     // point dimensions: Dims × ShingleSize
	lambda  float64 // 1 / TimeDecay
	t       int64   // points made so far: the reservoir's clock
	shingle []float64
	filled  int // records in shingle, at most ShingleSize
	trees   []tree

	// scratch, so that Update does not allocate
	gap, hi, lo []float64
}

// New returns an empty forest.
func New(cfg Config) (*Forest, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	d := cfg.Dims * cfg.ShingleSize
	f := &Forest{
		cfg: cfg, d: d, lambda: 1 / cfg.TimeDecay,
		shingle: make([]float64, d),
		trees:   make([]tree, cfg.Trees),
		gap:     make([]float64, d), hi: make([]float64, d), lo: make([]float64, d),
	}
	for i := range f.trees {
		f.trees[i].init(d, cfg.SampleSize, mix(cfg.Seed^0x5851f42d4c957f2d+uint64(i)*0x9e3779b97f4a7c15))
	}
	return f, nil
}

// Update scores the record x (Dims values) against the forest, then adds
// it: the score is computed before the record is in any tree. Until
// ShingleSize records have arrived there is no point and the score is 0.
// A record with a NaN or infinite value scores 0 and is not added.
func (f *Forest) Update(x []float64) float64 { return f.update(x, nil, nil) }

// Explain is Update that also fills high and low (Dims values each)
// with each column's attribution: the part of the score due to the
// column's value being above (high) or below (low) what the trees hold.
// The sum of all of them is the score. With ShingleSize > 1 a column's
// attribution sums its positions in the shingle.
func (f *Forest) Explain(x, high, low []float64) float64 {
	clear(high[:f.cfg.Dims])
	clear(low[:f.cfg.Dims])
	return f.update(x, high, low)
}

func (f *Forest) update(x, high, low []float64) float64 {
	x = x[:f.cfg.Dims]
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
	}
	n := f.cfg.Dims
	copy(f.shingle, f.shingle[n:])
	copy(f.shingle[f.d-n:], x)
	if f.filled < f.cfg.ShingleSize {
		f.filled++
		if f.filled < f.cfg.ShingleSize {
			return 0
		}
	}
	p := f.shingle
	var ah, al []float64
	if high != nil {
		ah, al = f.hi, f.lo
		clear(ah)
		clear(al)
	}
	score := 0.0
	for i := range f.trees {
		score += f.trees[i].score(p, f.gap, ah, al)
	}
	k := 1 / float64(len(f.trees))
	score *= k
	if high != nil {
		for j := range p {
			high[j%n] += ah[j] * k
			low[j%n] += al[j] * k
		}
	}
	for i := range f.trees {
		f.trees[i].offer(p, f.weight(i, f.t), f.t, f.gap)
	}
	f.t++
	return score
}

// weight is the reservoir weight of the point made at time t in tree i;
// a tree keeps the SampleSize smallest. It is -λt + log(-log u): the log
// of the Efraimidis–Spirakis key of a point of weight e^{λt}, negated.
func (f *Forest) weight(i int, t int64) float64 {
	h := mix(f.cfg.Seed + uint64(i+1)*0xbf58476d1ce4e5b9 + uint64(t)*0x94d049bb133111eb)
	u := (float64(h>>11) + 0.5) / (1 << 53)
	return -f.lambda*float64(t) + math.Log(-math.Log(u))
}

// mix is SplitMix64's finalizer.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
