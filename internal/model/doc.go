// Package model holds the resource identity of Stagecast: ARNs and IDs in
// IVS formats, the server's identity (region, account, public endpoints),
// and the error types the control plane returns (mapped to IVS exceptions
// by one table in control/api).
//
// Generated API shapes live in model/ivsapi and model/rtapi; their runtime
// support in model/wire.
//
// No goroutines, no I/O (IDs read crypto/rand).
package model
