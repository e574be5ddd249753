// Package awsmodel reads the botocore API models of the two IVS services
// (ivs and ivs-realtime), embedded in the binary from models/.
//
// The models are the single source of truth for the wire contract: the code
// generator (awsmodel/apigen, run by `go generate ./...`) turns them into Go
// shapes, validation and the operation table of model/ivsapi and
// model/rtapi, and the CLI reads them at run time to know every command,
// flag and member name.
//
// Nothing here blocks or starts goroutines. Load parses once and caches.
package awsmodel
