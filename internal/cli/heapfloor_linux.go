package cli

import "syscall"

// dropPages gives the physical pages behind b back to the OS; b reads as
// zeros afterwards and costs no resident memory until it is written. b
// must start on a page boundary, as every large Go allocation does; if it
// does not, the call fails and nothing changes.
func dropPages(b []byte) {
	_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
}
