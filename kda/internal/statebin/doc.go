// Package statebin writes and reads the binary checkpoint state of kda's
// windows and models (the engine's window state, package rcf's forests,
// package hotspots' windows).
//
// Writing is appending: AppendUvarint, AppendVarint, AppendUint64,
// AppendFloat, AppendString, AppendFlag. Reading goes through a Decoder,
// because the bytes come from a checkpoint store and are outside input:
// every read is bounds-checked, a count is bounded by the bytes left (so
// that a corrupt length cannot make a large allocation), a string by a
// length limit as well, and the first error sticks — later reads return
// zero values — so that a decoder reads a whole structure and checks once:
//
//	d := statebin.NewDecoder(state)
//	d.In("window")
//	start := d.Varint()
//	groups := make([]group, d.Count(9)) // each group takes at least 9 bytes
//	...
//	if err := d.Err(); err != nil {
//		return err // "at byte 17, window: count 400000 is more than the 12 bytes left hold"
//	}
//
// # Errors
//
// Decoder.Err is a *Error with the byte offset where reading stopped and a
// reason that starts with what was being decoded (Decoder.In). The packages
// that use it report their own *StateError with the same offset and reason.
//
// # Concurrency
//
// A Decoder is for one goroutine; the Append functions are pure.
package statebin
