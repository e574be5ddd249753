// Package app is the composition root: it builds every subsystem from a
// config.Config (store, access keys, identity, the two IVS services, the
// API and media HTTP listeners) and runs them.
//
// New opens the data directory and binds the listeners (so the caller can
// print real addresses before serving); Run serves until its context is
// cancelled, then shuts the listeners down gracefully and closes the store.
// Run owns the two HTTP server goroutines and returns only after both have
// exited. Nothing imports app but cli and tests.
package app
