// Package cli implements stagecast's subcommands: serve (run a node), keys
// (manage API access keys), ivs and ivs-realtime (AWS-CLI-compatible
// clients, in cli/awscmd), bench (reproducible benchmarks) and version.
//
// Main returns the process exit code; only cmd/stagecast calls os.Exit.
// Subcommands that serve block until their context is cancelled.
package cli
