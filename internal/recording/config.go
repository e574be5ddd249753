package recording

import (
	"github.com/stagecast/stagecast/internal/config"
	"github.com/stagecast/stagecast/internal/recording/objstore"
)

// StoreFrom builds the object store of a recording section: an S3 client
// when s3.endpoint is set, otherwise the local directory (dataDir/recordings
// unless dir is set).
func StoreFrom(c config.Recording, dataDir string) objstore.Store {
	if c.S3.Endpoint != "" {
		return objstore.NewS3(objstore.S3Config{
			Endpoint:        c.S3.Endpoint,
			Region:          c.S3.Region,
			AccessKeyID:     c.S3.AccessKeyID,
			SecretAccessKey: c.S3.SecretAccessKey,
			PathStyle:       c.S3.PathStyle,
		})
	}
	return objstore.NewLocal(c.RecordingDir(dataDir))
}

// ConfigFrom builds a Manager configuration from a recording section; the
// caller adds a Thumbnailer.
func ConfigFrom(c config.Recording, dataDir string) Config {
	return Config{
		Store:           StoreFrom(c, dataDir),
		SegmentDuration: c.SegmentDuration,
		QueueSegments:   c.QueueSegments,
		UploadAttempts:  c.UploadAttempts,
		UploadBackoff:   c.UploadBackoff,
	}
}
