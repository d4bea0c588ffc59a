package asl

import (
	"fmt"
	"strings"
	"testing"
)

// nestedParallels returns a definition of n Parallel states, each the only
// state of its parent's single branch (about 73 bytes per level).
func nestedParallels(n int) []byte {
	var b strings.Builder
	for range n {
		b.WriteString(`{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[`)
	}
	b.WriteString(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)
	for range n {
		b.WriteString(`]}}}`)
	}
	return []byte(b.String())
}

// chain returns a definition of Pass states S0 → S1 → … of about size
// bytes, the last one ending the machine.
func chain(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"StartAt":"S0","States":{`)
	for i := 0; ; i++ {
		if b.Len() > size-100 {
			fmt.Fprintf(&b, `"S%d":{"Type":"Pass","End":true}}}`, i)
			break
		}
		fmt.Fprintf(&b, `"S%d":{"Type":"Pass","Next":"S%d"},`, i, i+1)
	}
	return []byte(b.String())
}

func benchParseValidate(b *testing.B, def []byte) {
	b.SetBytes(int64(len(def)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(def)
		if err == nil {
			err = Validate(m)
		}
		_ = err
	}
}

// BenchmarkParseValidateNestedParallels: 2,000 nested Parallel states
// (146 KB), refused for their depth.
func BenchmarkParseValidateNestedParallels(b *testing.B) {
	benchParseValidate(b, nestedParallels(2000))
}

// BenchmarkParseValidateChain1MB: a chain of Pass states filling the 1 MB
// definition limit.
func BenchmarkParseValidateChain1MB(b *testing.B) {
	benchParseValidate(b, chain(1<<20-1))
}

// deepChain nests a chain of about size bytes inside levels Parallel
// states: the worst case the depth limit allows, each level re-read by
// encoding/json for the one above.
func deepChain(levels, size int) []byte {
	inner := chain(size - levels*80)
	var b strings.Builder
	for range levels {
		b.WriteString(`{"StartAt":"P","States":{"P":{"Type":"Parallel","End":true,"Branches":[`)
	}
	b.Write(inner)
	for range levels {
		b.WriteString(`]}}}`)
	}
	return []byte(b.String())
}

// BenchmarkParseValidateDeepChain1MB: 1 MB of Pass states inside
// MaxParallelNest nested Parallels, the deepest definition accepted.
func BenchmarkParseValidateDeepChain1MB(b *testing.B) {
	def := deepChain(MaxParallelNest, MaxDefinitionBytes)
	if _, err := Parse(def); err != nil {
		b.Fatal(err)
	}
	benchParseValidate(b, def)
}
