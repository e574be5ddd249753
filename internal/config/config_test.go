package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("region: eu-west-1\ndata_dir: /from/file\napi:\n  listen: 127.0.0.1:9999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--config", file, "--data-dir", "/from/flag"}, env(map[string]string{"STAGECAST_DATA_DIR": "/from/env", "STAGECAST_REGION": "ap-south-1"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/flag" {
		t.Errorf("flag should beat env and file: got %q", c.DataDir)
	}
	if c.Region != "ap-south-1" {
		t.Errorf("env should beat file: got %q", c.Region)
	}
	if c.API.Listen != "127.0.0.1:9999" {
		t.Errorf("file should beat default: got %q", c.API.Listen)
	}
	if c.HTTP.Listen != Default().HTTP.Listen {
		t.Errorf("default kept: got %q", c.HTTP.Listen)
	}
}

func TestLoadRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	unknown := filepath.Join(dir, "u.yaml")
	_ = os.WriteFile(unknown, []byte("regoin: us-east-1\n"), 0o600)
	hugeHeap := filepath.Join(dir, "heap.yaml")
	_ = os.WriteFile(hugeHeap, []byte("gc_min_heap_mib: 100000\n"), 0o600)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want []string
	}{
		{"unknown yaml key", []string{"--config", unknown}, nil, []string{"regoin"}},
		{"every bad value reported", []string{"--region", "Mars", "--account-id", "12", "--api-listen", "nope"}, nil, []string{"region", "account_id", "api.listen"}},
		{"bad env", nil, map[string]string{"STAGECAST_LOG_LEVEL": "loud"}, []string{"log.level"}},
		{"unknown flag", []string{"--bogus"}, nil, []string{"bogus"}},
		{"heap floor out of range", []string{"--config", hugeHeap}, nil, []string{"gc_min_heap_mib"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tc.args, env(tc.env))
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDefaultIsValid(t *testing.T) {
	t.Parallel()
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}
