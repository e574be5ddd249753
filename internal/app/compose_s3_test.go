package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ivsrealtime"
	rttypes "github.com/aws/aws-sdk-go-v2/service/ivsrealtime/types"
	"github.com/stretchr/testify/require"
)

// TestCompositionToStorageConfiguration: a composition of a stage with one
// publisher and an S3 (storage configuration) destination records HLS into
// the configuration's bucket (the local recordings directory) under the
// destination's recordingPrefix; StopComposition finishes it (ENDLIST,
// events/recording-ended.json) and the recording decodes with ffprobe.
func TestCompositionToStorageConfiguration(t *testing.T) {
	for _, b := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s not installed (make test installs it)", b)
		}
	}
	c, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()
	dir := t.TempDir()
	red := makeColourSource(t, t.TempDir(), "red", "red", [3]byte{255, 0, 0}, 440)
	n := startEventsNode(t, dir, nil)

	st, err := n.Realtime.CreateStage(c, &ivsrealtime.CreateStageInput{Name: aws.String("recorded")})
	require.NoError(t, err)
	tok, err := n.Realtime.CreateParticipantToken(c, &ivsrealtime.CreateParticipantTokenInput{StageArn: st.Stage.Arn, UserId: aws.String("red"),
		Capabilities: []rttypes.ParticipantTokenCapability{rttypes.ParticipantTokenCapabilityPublish}})
	require.NoError(t, err)
	stop := publishColour(c, t, n.MediaEndpoint(), *tok.ParticipantToken.Token, red)
	defer stop()

	const bucket = "composite-recordings"
	sc, err := n.Realtime.CreateStorageConfiguration(c, &ivsrealtime.CreateStorageConfigurationInput{
		Name: aws.String("store"), S3: &rttypes.S3StorageConfiguration{BucketName: aws.String(bucket)}})
	require.NoError(t, err)
	enc, err := n.Realtime.CreateEncoderConfiguration(c, &ivsrealtime.CreateEncoderConfigurationInput{
		Video: &rttypes.Video{Width: aws.Int32(640), Height: aws.Int32(360), Framerate: aws.Float32(15), Bitrate: aws.Int32(800_000)}})
	require.NoError(t, err)
	comp, err := n.Realtime.StartComposition(c, &ivsrealtime.StartCompositionInput{StageArn: st.Stage.Arn,
		Destinations: []rttypes.DestinationConfiguration{{S3: &rttypes.S3DestinationConfiguration{
			StorageConfigurationArn:  sc.StorageConfiguration.Arn,
			EncoderConfigurationArns: []string{*enc.EncoderConfiguration.Arn},
			RecordingConfiguration: &rttypes.RecordingConfiguration{Format: rttypes.RecordingConfigurationFormatHls,
				HlsConfiguration: &rttypes.CompositionRecordingHlsConfiguration{TargetSegmentDurationSeconds: aws.Int32(2)}},
		}}}})
	require.NoError(t, err)
	dest := comp.Composition.Destinations[0]
	require.NotNil(t, dest.Detail)
	require.NotNil(t, dest.Detail.S3)
	prefix := *dest.Detail.S3.RecordingPrefix
	require.True(t, strings.HasSuffix(prefix, "/"+*dest.Id+"/composite"), "recordingPrefix %q", prefix)

	require.Eventually(t, func() bool {
		g, err := n.Realtime.GetComposition(c, &ivsrealtime.GetCompositionInput{Arn: comp.Composition.Arn})
		return err == nil && g.Composition.State == rttypes.CompositionStateActive &&
			g.Composition.Destinations[0].State == rttypes.DestinationStateActive
	}, 30*time.Second, 100*time.Millisecond, "composition ACTIVE")

	root := filepath.Join(dir, "recordings", bucket, filepath.FromSlash(prefix))
	rendition := filepath.Join(root, "media", "hls", "640x360")
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(rendition, "playlist.m3u8"))
		return err == nil && strings.Count(string(b), "#EXTINF") >= 2
	}, 25*time.Second, 200*time.Millisecond, "two segments recorded under %s", rendition)

	_, err = n.Realtime.StopComposition(c, &ivsrealtime.StopCompositionInput{Arn: comp.Composition.Arn})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(root, "events", "recording-ended.json"))
		return err == nil
	}, 15*time.Second, 100*time.Millisecond, "recording-ended.json written after StopComposition")

	var started struct {
		CompositionARN  string `json:"composition_arn"`
		StageARN        string `json:"stage_arn"`
		RecordingStatus string `json:"recording_status"`
	}
	b, err := os.ReadFile(filepath.Join(root, "events", "recording-started.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &started))
	require.Equal(t, *comp.Composition.Arn, started.CompositionARN)
	require.Equal(t, *st.Stage.Arn, started.StageARN)
	require.Equal(t, "RECORDING_STARTED", started.RecordingStatus)

	master, err := os.ReadFile(filepath.Join(root, "media", "hls", "master.m3u8"))
	require.NoError(t, err)
	require.Contains(t, string(master), "640x360/playlist.m3u8")
	pl, err := os.ReadFile(filepath.Join(rendition, "playlist.m3u8"))
	require.NoError(t, err)
	require.Contains(t, string(pl), "#EXT-X-ENDLIST")

	// The whole recording decodes: H.264 640x360 and AAC, no errors.
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(c, "ffprobe", "-v", "error", "-count_frames", "-show_entries",
		"stream=codec_type,codec_name,width,height,nb_read_frames", "-of", "json", filepath.Join(rendition, "playlist.m3u8"))
	cmd.Stdout, cmd.Stderr = &out, &stderr
	require.NoError(t, cmd.Run(), "%s", stderr.String())
	require.Empty(t, strings.TrimSpace(stderr.String()), "ffprobe reported decode errors")
	var probe struct {
		Streams []struct {
			CodecType    string `json:"codec_type"`
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			Height       int    `json:"height"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &probe))
	var video, audio bool
	for _, s := range probe.Streams {
		switch {
		case s.CodecType == "video" && s.CodecName == "h264":
			video = s.Width == 640 && s.Height == 360 && s.NbReadFrames != "" && s.NbReadFrames != "0"
		case s.CodecType == "audio" && s.CodecName == "aac":
			audio = s.NbReadFrames != "" && s.NbReadFrames != "0"
		}
	}
	require.True(t, video && audio, "H.264 640x360 and AAC frames decoded: %s", out.String())
}
