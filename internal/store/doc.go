// Package store defines how the control plane persists its resources: the
// [Record] model (a JSON document plus the few columns that are indexed),
// the [Store] interface that backends implement, the [Query] and [Page]
// types used to list records, the atomic write batch ([Op], applied with
// [Store.Apply]) and the sentinel errors callers branch on ([ErrNotFound],
// [ErrExists], [ErrStale]; backends wrap them, so test with errors.Is).
//
// The package owns no goroutines and holds no state; it is the contract only.
// Backends live in sub-packages: store/sqlite (the default) and, later,
// store/postgres. The package store/storetest holds the conformance suite
// every backend must pass.
//
// Every Store method blocks on the database until it answers or the context
// is done. Implementations are safe for concurrent use by many goroutines
// and start none of their own beyond what their database driver needs.
package store
