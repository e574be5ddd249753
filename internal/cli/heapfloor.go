package cli

import "runtime"

// heapFloor keeps the process's heap goal at least 2 x mib MiB: it
// allocates one pointer-free block of mib MiB and holds it until release
// is called. The garbage collector paces itself on the live heap, so with a
// 2 MiB live heap (an idle node) it collects every 2-3 MiB allocated, which
// at a few thousand API requests a second is twenty collections a second.
// The block raises the live heap the pacer sees without costing resident
// memory by itself: it is never read or written, a pointer-free block is
// not scanned, and its pages are handed back to the OS right after the
// allocation (dropPages). That last step matters: the runtime zeroes a
// large block itself when the pages it picks were used before, which made
// the whole floor resident in some starts (1 in 20 of a bare program here,
// half the runs of this package's test). The cost is up to mib MiB more
// garbage held between collections. mib <= 0 does nothing.
func heapFloor(mib int) (release func()) {
	if mib <= 0 {
		return func() {}
	}
	floor := make([]byte, mib<<20)
	dropPages(floor)
	return func() { runtime.KeepAlive(floor) }
}
