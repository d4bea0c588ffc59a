package engine

import (
	"fmt"
	"math"
	"strconv"

	"github.com/lakekit/lakekit/kda/internal/hotspots"
	"github.com/lakekit/lakekit/kda/internal/rcf"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The reference's machine learning table functions:
//
//	RANDOM_CUT_FOREST(CURSOR(…) [, numberOfTrees [, subSampleSize [, timeDecay [, shingleSize]]]])
//	RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(…) [, numberOfTrees [, subSampleSize [, timeDecay [, shingleSize [, withDirectionality]]]]])
//	HOTSPOTS(CURSOR(…), windowSize, scanRadius, minimumNumberOfPointsInAHotspot)
//
// Each uses the cursor's numeric columns (INTEGER, BIGINT, DOUBLE, REAL…)
// as a point and emits every cursor row at its ROWTIME with the
// reference's columns added: ANOMALY_SCORE DOUBLE, then for the
// explanation ANOMALY_EXPLANATION, a JSON object with, for each numeric
// column, its ATTRIBUTION_SCORE (the column's share of the score; they
// sum to it) and, with withDirectionality, its DIRECTION (HIGH or LOW
// than the recent data, NEUTRAL when neither) and STRENGTH (how much
// more of the attribution is on that side); HOTSPOTS_RESULT, a JSON
// object {"hotspots":[{"density":…,"minValues":[…],"maxValues":[…]}]}.
// A row with a NULL numeric value scores 0 and leaves the model as it
// is. The models are in packages rcf and hotspots; their seeds are
// fixed, so a replay gives the same rows.

const (
	rcfSeed        = 0x4b44415f524346 // "KDA_RCF"
	explanationLen = 1 << 16
)

func init() {
	registerTableFunc("RANDOM_CUT_FOREST", func(a *TableArgs) ([]value.Column, TableFunc, error) { return newRCF(a, false) })
	registerTableFunc("RANDOM_CUT_FOREST_WITH_EXPLANATION", func(a *TableArgs) ([]value.Column, TableFunc, error) { return newRCF(a, true) })
	registerTableFunc("HOTSPOTS", newHotspots)
}

// numericColumns returns the indexes of a's numeric input columns.
func numericColumns(a *TableArgs) ([]int, error) {
	var idx []int
	for i, c := range a.Input {
		if c.Type.Kind == value.KindInt || c.Type.Kind == value.KindFloat {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, a.Errorf("the cursor has no numeric column (INTEGER, BIGINT, REAL, DOUBLE…) to use")
	}
	return idx, nil
}

// point reads the numeric columns of row into x; a NULL is NaN, which
// the models skip.
func point(row []value.Value, cols []int, x []float64) {
	for i, c := range cols {
		if v := row[c]; v.K == value.KindInt || v.K == value.KindFloat {
			x[i] = v.Float()
		} else {
			x[i] = math.NaN()
		}
	}
}

type rcfFunc struct {
	cfg        rcf.Config
	f          *rcf.Forest
	cols       []int
	names      []string
	explain    bool
	direction  bool
	x, hi, lo  []float64
	out        []value.Value
	jsonBuffer []byte
}

func newRCF(a *TableArgs, explain bool) ([]value.Column, TableFunc, error) {
	names := []string{"numberOfTrees", "subSampleSize", "timeDecay", "shingleSize"}
	if explain {
		names = append(names, "withDirectionality")
	}
	if err := a.Count(0, names...); err != nil {
		return nil, nil, err
	}
	cols, err := numericColumns(a)
	if err != nil {
		return nil, nil, err
	}
	cfg := rcf.Config{Dims: len(cols), Trees: rcf.DefaultTrees, SampleSize: rcf.DefaultSampleSize,
		TimeDecay: rcf.DefaultTimeDecay, ShingleSize: rcf.DefaultShingleSize, Seed: rcfSeed}
	ints := []struct {
		p      *int
		lo, hi int64
	}{{&cfg.Trees, 1, rcf.MaxTrees}, {&cfg.SampleSize, 1, rcf.MaxSampleSize}, {nil, 1, math.MaxInt32}, {&cfg.ShingleSize, 1, int64(rcf.MaxPointDims / len(cols))}}
	for i, r := range ints {
		if i >= len(a.Args) {
			break
		}
		v, err := a.Int(i, names[i], r.lo, r.hi)
		if err != nil {
			return nil, nil, err
		}
		if r.p == nil {
			cfg.TimeDecay = float64(v)
		} else {
			*r.p = int(v)
		}
	}
	t := &rcfFunc{cfg: cfg, cols: cols, explain: explain}
	if explain && len(a.Args) > 4 {
		if t.direction, err = a.Bool(4, "withDirectionality"); err != nil {
			return nil, nil, err
		}
	}
	if t.f, err = rcf.New(cfg); err != nil {
		return nil, nil, a.Errorf("%v", err)
	}
	for _, c := range cols {
		t.names = append(t.names, a.Input[c].Name)
	}
	out := append(append([]value.Column(nil), a.Input...), value.Column{Name: "ANOMALY_SCORE", Type: value.Double})
	if explain {
		out = append(out, value.Column{Name: "ANOMALY_EXPLANATION", Type: value.Varchar(explanationLen)})
	}
	t.scratch(len(out))
	return out, t, nil
}

func (t *rcfFunc) scratch(outCols int) {
	n := len(t.cols)
	t.x, t.hi, t.lo = make([]float64, n), make([]float64, n), make([]float64, n)
	t.out = make([]value.Value, outCols)
}

func (t *rcfFunc) Push(row []value.Value, rt int64, emit Emit) error {
	point(row, t.cols, t.x)
	n := copy(t.out, row)
	if !t.explain {
		t.out[n] = value.FloatValue(t.f.Update(t.x))
		emit(t.out, rt)
		return nil
	}
	s := t.f.Explain(t.x, t.hi, t.lo)
	t.out[n] = value.FloatValue(s)
	t.out[n+1] = value.StringValue(string(t.explanation()))
	emit(t.out, rt)
	return nil
}

// explanation is ANOMALY_EXPLANATION for the last Explain.
func (t *rcfFunc) explanation() []byte {
	b := append(t.jsonBuffer[:0], '{')
	num := func(b []byte, f float64) []byte {
		b = append(b, '"')
		b = strconv.AppendFloat(b, f, 'f', 4, 64)
		return append(b, '"')
	}
	for i, name := range t.names {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, name)
		b = append(b, `:{`...)
		hi, lo := t.hi[i], t.lo[i]
		if t.direction {
			dir := "NEUTRAL"
			if hi > lo {
				dir = "HIGH"
			} else if lo > hi {
				dir = "LOW"
			}
			b = append(b, `"DIRECTION":"`...)
			b = append(b, dir...)
			b = append(b, `","STRENGTH":`...)
			b = num(b, math.Abs(hi-lo))
			b = append(b, ',')
		}
		b = append(b, `"ATTRIBUTION_SCORE":`...)
		b = num(b, hi+lo)
		b = append(b, '}')
	}
	t.jsonBuffer = append(b, '}')
	return t.jsonBuffer
}

func (t *rcfFunc) Advance(int64, Emit)         {}
func (t *rcfFunc) NextClose() (int64, bool)    { return 0, false }
func (t *rcfFunc) AppendState(b []byte) []byte { return t.f.AppendState(b) }

func (t *rcfFunc) Restore(state []byte) (TableFunc, error) {
	f, n, err := rcf.Restore(t.cfg, state)
	if err != nil {
		return nil, err
	}
	if n != len(state) {
		return nil, fmt.Errorf("%d bytes after the forest", len(state)-n)
	}
	c := *t
	c.f, c.jsonBuffer = f, nil
	c.scratch(len(t.out))
	return &c, nil
}

type hotspotsFunc struct {
	cfg  hotspots.Config
	d    *hotspots.Detector
	cols []int
	x    []float64
	out  []value.Value
	buf  []byte
}

func newHotspots(a *TableArgs) ([]value.Column, TableFunc, error) {
	if err := a.Count(3, "windowSize", "scanRadius", "minimumNumberOfPointsInAHotspot"); err != nil {
		return nil, nil, err
	}
	cols, err := numericColumns(a)
	if err != nil {
		return nil, nil, err
	}
	cfg := hotspots.Config{Dims: len(cols)}
	w, err := a.Int(0, "windowSize", 1, hotspots.MaxWindowSize)
	if err != nil {
		return nil, nil, err
	}
	if cfg.ScanRadius, err = a.Float(1, "scanRadius", math.SmallestNonzeroFloat64, math.MaxFloat64); err != nil {
		return nil, nil, err
	}
	m, err := a.Int(2, "minimumNumberOfPointsInAHotspot", 2, w)
	if err != nil {
		return nil, nil, err
	}
	cfg.WindowSize, cfg.MinPoints = int(w), int(m)
	t := &hotspotsFunc{cfg: cfg, cols: cols}
	if t.d, err = hotspots.New(cfg); err != nil {
		return nil, nil, a.Errorf("%v", err)
	}
	out := append(append([]value.Column(nil), a.Input...), value.Column{Name: "HOTSPOTS_RESULT", Type: value.Varchar(explanationLen)})
	t.x, t.out = make([]float64, len(cols)), make([]value.Value, len(out))
	return out, t, nil
}

func (t *hotspotsFunc) Push(row []value.Value, rt int64, emit Emit) error {
	point(row, t.cols, t.x)
	n := copy(t.out, row)
	b := append(t.buf[:0], `{"hotspots":[`...)
	for i, h := range t.d.Update(t.x) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"density":`...)
		b = strconv.AppendFloat(b, h.Density, 'g', -1, 64)
		for j, vs := range [][]float64{h.Min, h.Max} {
			b = append(b, []string{`,"minValues":[`, `,"maxValues":[`}[j]...)
			for k, v := range vs {
				if k > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendFloat(b, v, 'g', -1, 64)
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	t.buf = append(b, "]}"...)
	t.out[n] = value.StringValue(string(t.buf))
	emit(t.out, rt)
	return nil
}

func (t *hotspotsFunc) Advance(int64, Emit)         {}
func (t *hotspotsFunc) NextClose() (int64, bool)    { return 0, false }
func (t *hotspotsFunc) AppendState(b []byte) []byte { return t.d.AppendState(b) }

func (t *hotspotsFunc) Restore(state []byte) (TableFunc, error) {
	d, n, err := hotspots.Restore(t.cfg, state)
	if err != nil {
		return nil, err
	}
	if n != len(state) {
		return nil, fmt.Errorf("%d bytes after the window", len(state)-n)
	}
	c := *t
	c.d, c.buf = d, nil
	c.x, c.out = make([]float64, len(t.cols)), make([]value.Value, len(t.out))
	return &c, nil
}
