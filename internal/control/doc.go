// Package control is the shared core of the control plane: the
// dependencies every service implementation receives (store, identity,
// clock, logger, event bus), a generic repository of JSON documents over the
// store, pagination tokens, and tagging.
//
// The two IVS services are implemented in control/channels (ivs,
// low-latency) and control/stages (ivs-realtime); control/api serves both
// over HTTP. Nothing here starts goroutines; every call blocks on the store.
package control
