// Package wiretest checks generated shapes against the standard library:
// CheckAppendJSON fills shapes with random values (reflection) and requires
// their generated AppendJSON to produce exactly what encoding/json does.
// Only tests import it.
//
// No goroutines, no I/O.
package wiretest
