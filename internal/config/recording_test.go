package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRecordingSection(t *testing.T) {
	t.Parallel()
	d := Default().Recording
	if err := d.validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if got := d.RecordingDir("/data"); got != filepath.Join("/data", "recordings") {
		t.Errorf("default dir %q", got)
	}
	d.Dir = "/srv/rec"
	if got := d.RecordingDir("/data"); got != "/srv/rec" {
		t.Errorf("dir %q", got)
	}

	file := filepath.Join(t.TempDir(), "c.yaml")
	yaml := "recording:\n  segment_duration: 4s\n  s3:\n    endpoint: http://127.0.0.1:7070\n    access_key_id: AK\n    secret_access_key: SK\n    path_style: false\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load([]string{"--config", file}, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Recording
	if r.SegmentDuration != 4*time.Second || r.S3.Endpoint != "http://127.0.0.1:7070" || r.S3.AccessKeyID != "AK" ||
		r.S3.SecretAccessKey != "SK" || r.S3.PathStyle || r.S3.Region != "us-east-1" || r.QueueSegments != 64 {
		t.Errorf("loaded %+v", r)
	}

	bad := Default().Recording
	bad.S3 = RecordingS3{Endpoint: "ftp://x", AccessKeyID: "only-id"}
	bad.SegmentDuration = 100 * time.Millisecond
	bad.QueueSegments = 0
	bad.UploadAttempts = 99
	bad.UploadBackoff = -time.Second
	err = bad.validate()
	if err == nil {
		t.Fatal("invalid recording section accepted")
	}
	for _, want := range []string{"recording.s3.endpoint", "secret_access_key", "recording.segment_duration",
		"recording.queue_segments", "recording.upload_attempts", "recording.upload_backoff"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %s: %v", want, err)
		}
	}
}
