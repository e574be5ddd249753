package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"time"
)

// Recording configures where channel recordings (IVS auto-record to S3) go:
// a local directory by default, or an S3-compatible server when
// s3.endpoint is set. Either way the bucket is the recording
// configuration's destinationConfiguration.s3.bucketName: a subdirectory of
// Dir locally, a bucket on the server otherwise.
type Recording struct {
	// Dir is the local recordings directory; empty means
	// "<data_dir>/recordings" (see RecordingDir). Unused when s3.endpoint is
	// set.
	Dir string `yaml:"dir"`
	// S3 selects an S3-compatible server instead of Dir.
	S3 RecordingS3 `yaml:"s3"`
	// SegmentDuration is the HLS target segment duration: a segment is cut
	// at the first key frame at or after it.
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// QueueSegments bounds each recording's upload queue (segments,
	// playlists and thumbnails waiting to be written). When the backend is
	// slower than the stream the newest segment is dropped and counted
	// rather than the live path slowed down.
	QueueSegments int `yaml:"queue_segments"`
	// UploadAttempts is how many times one object write is tried, with
	// exponential backoff from UploadBackoff (capped at 8 s), before it is
	// given up and the recording marked failed.
	UploadAttempts int           `yaml:"upload_attempts"`
	UploadBackoff  time.Duration `yaml:"upload_backoff"`
}

// RecordingS3 is an S3-compatible server (AWS S3, MinIO, versitygw, Ceph ...).
type RecordingS3 struct {
	// Endpoint is the server's base URL, e.g. http://127.0.0.1:7070; empty
	// means record to the local directory.
	Endpoint string `yaml:"endpoint"`
	// Region signs the requests; us-east-1 when empty.
	Region string `yaml:"region"`
	// AccessKeyID and SecretAccessKey are static credentials.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	// PathStyle addresses buckets as <endpoint>/<bucket>/<key> rather than
	// <bucket>.<host>; most self-hosted servers need it (default true).
	PathStyle bool `yaml:"path_style"`
}

// Recording limits.
const (
	// maxRecordingQueue bounds queue_segments: each queued segment holds
	// its bytes (a 6 s segment at 8 Mbit/s is 6 MB) in memory.
	maxRecordingQueue = 4096
	// maxRecordingAttempts bounds upload_attempts so that a dead backend
	// cannot hold a recording's shutdown for more than a few minutes.
	maxRecordingAttempts = 20
)

func defaultRecording() Recording {
	return Recording{
		S3:              RecordingS3{Region: "us-east-1", PathStyle: true},
		SegmentDuration: 6 * time.Second,
		QueueSegments:   64,
		UploadAttempts:  6,
		UploadBackoff:   250 * time.Millisecond,
	}
}

// RecordingDir returns the local recordings directory: Dir, or
// "<dataDir>/recordings" when Dir is empty.
func (c Recording) RecordingDir(dataDir string) string {
	if c.Dir != "" {
		return c.Dir
	}
	return filepath.Join(dataDir, "recordings")
}

// validate reports invalid recording settings (nil when valid).
func (c Recording) validate() error {
	var errs []error
	if c.S3.Endpoint != "" {
		if u, err := url.Parse(c.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("recording.s3.endpoint: %q is not an absolute http or https URL", c.S3.Endpoint))
		}
		if (c.S3.AccessKeyID == "") != (c.S3.SecretAccessKey == "") {
			errs = append(errs, errors.New("recording.s3.access_key_id and recording.s3.secret_access_key: set both or neither"))
		}
	}
	if c.SegmentDuration < time.Second || c.SegmentDuration > 30*time.Second {
		errs = append(errs, fmt.Errorf("recording.segment_duration: %s is not 1s-30s", c.SegmentDuration))
	}
	if c.QueueSegments < 1 || c.QueueSegments > maxRecordingQueue {
		errs = append(errs, fmt.Errorf("recording.queue_segments: %d is not 1-%d", c.QueueSegments, maxRecordingQueue))
	}
	if c.UploadAttempts < 1 || c.UploadAttempts > maxRecordingAttempts {
		errs = append(errs, fmt.Errorf("recording.upload_attempts: %d is not 1-%d", c.UploadAttempts, maxRecordingAttempts))
	}
	if c.UploadBackoff < 0 || c.UploadBackoff > 10*time.Second {
		errs = append(errs, fmt.Errorf("recording.upload_backoff: %s is not 0-10s", c.UploadBackoff))
	}
	return errors.Join(errs...)
}
