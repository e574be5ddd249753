// Package config is Stagecast's process configuration: one struct tree with
// defaults in code, then a YAML file (unknown keys are an error), then
// STAGECAST_* environment variables, then command-line flags. Validate
// reports every problem at once. Channels, stages and keys are data in the
// store, not configuration.
//
// No goroutines; Load reads one file.
package config
