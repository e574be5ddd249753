package cli

import "runtime"

// heapFloor keeps the process's heap goal at least 2 x mib MiB: it
// allocates one pointer-free block of mib MiB and holds it until release
// is called. The garbage collector paces itself on the live heap, so with a
// 2 MiB live heap (an idle node) it collects every 2-3 MiB allocated, which
// at a few thousand API requests a second is twenty collections a second.
// The block raises the live heap the pacer sees without costing resident
// memory by itself (its pages come zeroed from the OS and are never
// touched, and a pointer-free block is not scanned); the cost is up to mib
// MiB more garbage held between collections. mib <= 0 does nothing.
func heapFloor(mib int) (release func()) {
	if mib <= 0 {
		return func() {}
	}
	floor := make([]byte, mib<<20)
	return func() { runtime.KeepAlive(floor) }
}
