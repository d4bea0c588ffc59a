package convert

import (
	"context"
	"io"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// genReader produces rows of CSV on demand, so the input never exists
// in memory as a whole.
type genReader struct {
	rows, next int
	pending    []byte
}

func (g *genReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(g.pending) == 0 {
			if g.next > g.rows {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			if g.next == 0 {
				g.pending = []byte("id,name,amount,day\n")
			} else {
				i := g.next
				g.pending = strconv.AppendInt(g.pending[:0], int64(i), 10)
				g.pending = append(g.pending, ",\"name, number "...)
				g.pending = strconv.AppendInt(g.pending, int64(i*7919%100000), 10)
				g.pending = append(g.pending, "\","...)
				g.pending = strconv.AppendFloat(g.pending, float64(i%1000)/10, 'f', 1, 64)
				g.pending = append(g.pending, ",2021-03-"...)
				g.pending = append(g.pending, byte('1'+i%2), byte('0'+i%10), '\n')
			}
			g.next++
		}
		k := copy(p[n:], g.pending)
		g.pending = g.pending[k:]
		n += k
	}
	return n, nil
}

// peakHeap converts rows generated rows with small row groups and
// returns the peak heap in use.
func peakHeap(t *testing.T, rows int) uint64 {
	stop := peakSampler()
	res, err := mustConverter(&discardSink{memSink{files: map[string][]byte{}}}, func(o *ConverterOptions) {
		o.RowGroupRows = 8192 // ≈ 370 KB of CSV per chunk
		o.Workers = 2
	}).Convert(context.Background(), &genReader{rows: rows})
	peak := stop()
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != int64(rows) {
		t.Fatalf("rows %d, want %d", res.Rows, rows)
	}
	t.Logf("peak heap %d MiB for %d MB of input", peak>>20, res.BytesIn/1e6)
	return peak
}

// peakSampler samples the heap in use every 5 ms until the returned stop
// is called, which returns the peak. Meanwhile GOGC is 20, which keeps
// the figure close to the live heap (see TestConvertMemoryBounded).
func peakSampler() (stop func() uint64) {
	gc := debug.SetGCPercent(20)
	runtime.GC()
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak.Store(max(peak.Load(), ms.HeapInuse))
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		debug.SetGCPercent(gc)
		return peak.Load()
	}
}

// TestConvertMemoryBounded converts 4 MB and 40 MB streamed from a
// generator: the peak heap follows the row-group size, not the input size.
func TestConvertMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("converts 44 MB")
	}
	// HeapInuse counts garbage not yet collected too, and with the default
	// GOGC the collector lets that grow to the size of the live heap, at a
	// pace that depends on machine load. A low GOGC keeps the measured peak
	// close to the live heap, which is what the row-group bound is about.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	small := peakHeap(t, 90_000)
	large := peakHeap(t, 900_000)
	if large > small+16<<20 || large > 64<<20 {
		t.Fatalf("peak heap %d MiB for 10× the input of %d MiB: not bounded by the row group", large>>20, small>>20)
	}
}
