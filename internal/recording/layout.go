package recording

import (
	"fmt"
	"time"
)

// Object names inside a recording's prefix, as IVS writes them.
const (
	keyStarted        = "events/recording-started.json"
	keyEnded          = "events/recording-ended.json"
	keyFailed         = "events/recording-failed.json"
	hlsPath           = "media/hls"
	masterPlaylist    = "master.m3u8"
	renditionPlaylist = "playlist.m3u8"
	thumbnailsPath    = "media/thumbnails"
	latestThumbPath   = "media/latest_thumbnail"
	latestThumbName   = "thumb.jpg"
	metadataVersion   = "v1"
)

// recording_status values of the metadata files.
const (
	statusStarted      = "RECORDING_STARTED"
	statusEnded        = "RECORDING_ENDED"
	statusEndedFailure = "RECORDING_ENDED_WITH_FAILURE"
)

// EventDetailType is the EventBridge detail-type of recording events.
const EventDetailType = "IVS Recording State Change"

// recording_status values of the events.
const (
	EventStart        = "Recording Start"
	EventEnd          = "Recording End"
	EventStartFailure = "Recording Start Failure"
	EventEndFailure   = "Recording End Failure"
)

// KeyPrefix returns a recording's S3 key prefix (no leading or trailing
// slash): ivs/v1/<account>/<channel id>/<year>/<month>/<day>/<hours>/<minutes>/<recording id>,
// with the UTC start time's fields unpadded as in the IVS examples
// ("2020/6/23/20/12").
func KeyPrefix(account, channelID string, start time.Time, recordingID string) string {
	t := start.UTC()
	return fmt.Sprintf("ivs/v1/%s/%s/%d/%d/%d/%d/%d/%s", account, channelID,
		t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), recordingID)
}

func segmentName(seq int) string { return fmt.Sprintf("%d.ts", seq) }

func thumbName(seq int) string { return fmt.Sprintf("thumb%d.jpg", seq) }

// Metadata is the schema of events/recording-started.json,
// recording-ended.json and recording-failed.json.
type Metadata struct {
	Version            string `json:"version"`
	RecordingStartedAt string `json:"recording_started_at"`
	RecordingEndedAt   string `json:"recording_ended_at,omitempty"`
	ChannelARN         string `json:"channel_arn,omitempty"`
	// StageARN, CompositionARN and DestinationID name a composite
	// recording's source (instead of ChannelARN).
	StageARN               string    `json:"stage_arn,omitempty"`
	CompositionARN         string    `json:"composition_arn,omitempty"`
	DestinationID          string    `json:"destination_id,omitempty"`
	RecordingStatus        string    `json:"recording_status"`
	RecordingStatusMessage string    `json:"recording_status_message,omitempty"`
	Media                  MediaInfo `json:"media"`
}

// MediaInfo describes the recorded media.
type MediaInfo struct {
	HLS             *HLSInfo       `json:"hls,omitempty"`
	Thumbnails      *ThumbnailInfo `json:"thumbnails,omitempty"`
	LatestThumbnail *ThumbnailInfo `json:"latest_thumbnail,omitempty"`
}

// HLSInfo describes the HLS output. DurationMS is set in the end files.
type HLSInfo struct {
	DurationMS *int64          `json:"duration_ms,omitempty"`
	Path       string          `json:"path"`
	Playlist   string          `json:"playlist"`
	Renditions []RenditionInfo `json:"renditions"`
}

// RenditionInfo is one recorded rendition; Path is relative to HLSInfo.Path.
type RenditionInfo struct {
	Path             string `json:"path"`
	Playlist         string `json:"playlist"`
	ResolutionWidth  int    `json:"resolution_width,omitempty"`
	ResolutionHeight int    `json:"resolution_height,omitempty"`
}

// ThumbnailInfo describes a thumbnail folder; images are in
// <path>/<rendition>/.
type ThumbnailInfo struct {
	Path             string `json:"path"`
	ResolutionWidth  int    `json:"resolution_width,omitempty"`
	ResolutionHeight int    `json:"resolution_height,omitempty"`
}

func timeString(t time.Time) string { return t.UTC().Format(time.RFC3339) }
