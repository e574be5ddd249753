// Package testutil starts whole Stagecast nodes for tests: in-process, on
// 127.0.0.1 with ports picked by the kernel, data in a test temp dir, and
// official aws-sdk-go-v2 IVS clients pointed at them. Each node's Run
// goroutine is owned by the test and waited for in t.Cleanup.
package testutil
