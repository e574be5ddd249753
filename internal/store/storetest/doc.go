// Package storetest is the conformance suite for [store.Store] backends.
// A backend's tests call [Run] with a function that opens a fresh, empty
// store; the suite checks every behaviour documented in package store
// (error semantics, atomicity of Apply, List filtering and pagination,
// concurrent writers). Backend-specific properties (files, persistence
// across restarts) stay in the backend's own tests.
//
// The package owns no goroutines beyond the ones its tests start and wait
// for; every check blocks on the store under test.
package storetest
