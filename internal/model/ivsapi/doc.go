// Package ivsapi holds the shapes, validation and operation table of the
// Amazon IVS low-latency API ("ivs", 2020-07-14), generated from the
// botocore model by awsmodel/apigen. Do not edit the *_gen.go files; change
// the generator and run `go generate ./...`.
//
// Structure members are pointers (scalars, structures) or nil-able slices
// and maps so that "absent" differs from "zero"; JSON uses the model's
// member names with omitzero. Validate reports every model constraint a
// value breaks as a *wire.ValidationError. AppendJSON (encode_gen.go)
// writes a shape's JSON without reflection, byte for byte what
// encoding/json writes; encode_gen_test.go holds every shape to that on
// random values.
//
// The generated files run past the house limit of 800 lines: they are one
// shape, validator or table per model member, written by the generator and
// never read as a unit, and splitting them by size would only scatter one
// model over arbitrary files.
//
// No goroutines, no I/O.
package ivsapi

//go:generate go run ../../control/awsmodel/apigen -service ivs -pkg ivsapi
