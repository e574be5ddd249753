// Package wire is the hand-written runtime that the generated API packages
// (model/ivsapi, model/rtapi) build on: the operation table entry type, the
// decoded HTTP request handed to generated invokers, the validator that
// generated Validate methods call, and the JSON appenders that generated
// AppendJSON methods call (encode.go; the same bytes as encoding/json with
// HTML escaping off, which wiretest checks).
//
// Validation follows AWS's wording so that messages look like the real
// service's: "2 validation errors detected: Value 'x' at 'name' failed to
// satisfy constraint: Member must ...". Every violation found is reported,
// not only the first.
//
// No goroutines, no I/O.
package wire
