package cmaf

import (
	"bytes"
	"context"
	"fmt"

	"github.com/asticode/go-astits"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mpegts/substructs"

	"github.com/stagecast/stagecast/internal/media"
)

// MPEG-TS layout of a rendition.
const (
	tsVideoPID = 256
	tsAudioPID = 257
	tsID3PID   = 258

	tsStreamIDVideo   = 0xE0
	tsStreamIDAudio   = 0xC0
	tsStreamIDPrivate = 0xBD

	// tsPCRLead keeps the PCR behind the DTS (100 ms), as decoders expect.
	tsPCRLead = 9000

	// id3Identifier is "ID3 " (the timed-ID3 format identifier).
	id3Identifier = 0x49443320
)

// tsMuxer writes MPEG-TS with H.264/H.265 video, ADTS AAC audio and a
// timed-ID3 metadata stream. Continuity counters run across parts, so a
// segment (its parts concatenated) is a valid transport stream; every
// segment starts with PAT and PMT.
type tsMuxer struct {
	video, audio *trackState
	buf          bytes.Buffer
	mux          *astits.Muxer
	aacConf      mpeg4audio.AudioSpecificConfig
	pcrCounter   int
}

func newTSMuxer(video, audio *trackState) *tsMuxer {
	return &tsMuxer{video: video, audio: audio}
}

func (m *tsMuxer) init() ([]byte, error) {
	// Never more tables than we write explicitly at segment starts.
	m.mux = astits.NewMuxer(context.Background(), &m.buf, astits.MuxerOptTablesRetransmitPeriod(1<<30))
	pcr := uint16(tsAudioPID)
	if m.video != nil {
		st := astits.StreamTypeH264Video
		if m.video.t.Codec == media.H265 {
			st = astits.StreamTypeH265Video
		}
		if err := m.mux.AddElementaryStream(astits.PMTElementaryStream{ElementaryPID: tsVideoPID, StreamType: st}); err != nil {
			return nil, err
		}
		pcr = tsVideoPID
	}
	if m.audio != nil {
		if err := m.aacConf.Unmarshal(m.audio.t.AACConfig); err != nil {
			return nil, fmt.Errorf("aac config: %w", err)
		}
		if err := m.mux.AddElementaryStream(astits.PMTElementaryStream{ElementaryPID: tsAudioPID, StreamType: astits.StreamTypeAACAudio}); err != nil {
			return nil, err
		}
	}
	desc, err := substructs.MetadataDescriptor{
		MetadataApplicationFormat:           0xFFFF,
		MetadataApplicationFormatIdentifier: id3Identifier,
		MetadataFormat:                      0xFF,
		MetadataFormatIdentifier:            id3Identifier,
	}.Marshal()
	if err != nil {
		return nil, err
	}
	if err := m.mux.AddElementaryStream(astits.PMTElementaryStream{
		ElementaryPID: tsID3PID, StreamType: astits.StreamTypeMetadata,
		ElementaryStreamDescriptors: []*astits.Descriptor{{
			Length: 1, Tag: substructs.DescriptorTagMetadata,
			Unknown: &astits.DescriptorUnknown{Content: desc},
		}},
	}); err != nil {
		return nil, err
	}
	m.mux.SetPCRPID(pcr)
	return nil, nil
}

func to90k(ticks int64, clock int) int64 {
	if clock == 90000 {
		return ticks
	}
	return ticks * 90000 / int64(clock)
}

func (m *tsMuxer) part(video, audio []sample, newSegment bool, meta [][]byte, start int64) ([]byte, error) {
	m.buf.Reset()
	if newSegment {
		if _, err := m.mux.WriteTables(); err != nil {
			return nil, err
		}
		m.pcrCounter = 0
	}
	lead := m.video
	if lead == nil {
		lead = m.audio
	}
	for _, tag := range meta {
		if err := m.writePES(tsID3PID, tsStreamIDPrivate, to90k(start, lead.t.ClockRate), -1, nil, tag); err != nil {
			return nil, err
		}
	}
	// Interleave by decode time.
	vi, ai := 0, 0
	for vi < len(video) || ai < len(audio) {
		useVideo := ai >= len(audio) ||
			vi < len(video) && to90k(video[vi].dts, m.video.t.ClockRate) <= to90k(audio[ai].dts, m.audio.t.ClockRate)
		if useVideo {
			if err := m.writeVideo(video[vi]); err != nil {
				return nil, err
			}
			vi++
			continue
		}
		if err := m.writeAudio(audio[ai]); err != nil {
			return nil, err
		}
		ai++
	}
	return bytes.Clone(m.buf.Bytes()), nil
}

func (m *tsMuxer) writeVideo(s sample) error {
	var au [][]byte
	for _, n := range s.u.NALUs {
		if len(n) > 0 {
			au = append(au, n)
		}
	}
	if len(au) == 0 {
		return nil
	}
	// Every key frame carries its parameter sets in band: a TS segment
	// must decode on its own, and RTMP/WebRTC sources send them out of
	// band. The access unit delimiter goes first, then the parameter sets.
	t := m.video.t
	if t.Codec == media.H265 {
		if (au[0][0]>>1)&0x3f == 35 {
			au = au[1:]
		}
		if s.u.Key && !hasNALU(au, func(n []byte) bool { return (n[0]>>1)&0x3f == 33 }) {
			au = withParams(au, t.VPS, t.SPS, t.PPS)
		}
		au = append([][]byte{{35 << 1, 1, 0x50}}, au...)
	} else {
		if au[0][0]&0x1f == 9 {
			au = au[1:]
		}
		if s.u.Key && !hasNALU(au, func(n []byte) bool { return n[0]&0x1f == 7 }) {
			au = withParams(au, t.SPS, t.PPS)
		}
		au = append([][]byte{{9, 240}}, au...)
	}
	enc, err := h264.AnnexB(au).Marshal()
	if err != nil {
		return fmt.Errorf("annex-b: %w", err)
	}
	c := m.video.t.ClockRate
	af := &astits.PacketAdaptationField{RandomAccessIndicator: s.u.Key}
	dts := to90k(s.dts, c)
	if s.u.Key || m.pcrCounter == 0 {
		af.HasPCR = true
		af.PCR = &astits.ClockReference{Base: dts - tsPCRLead}
		m.pcrCounter = 3
	}
	m.pcrCounter--
	return m.writePES(tsVideoPID, tsStreamIDVideo, to90k(s.pts, c), dts, af, enc)
}

func (m *tsMuxer) writeAudio(s sample) error {
	pkts := mpeg4audio.ADTSPackets{{
		Type: m.aacConf.Type, SampleRate: m.aacConf.SampleRate,
		ChannelConfig: m.aacConf.ChannelConfig, ChannelCount: m.aacConf.ChannelCount, //nolint:staticcheck
		AU: s.u.Payload,
	}}
	enc, err := pkts.Marshal()
	if err != nil {
		return fmt.Errorf("adts: %w", err)
	}
	pts := to90k(s.pts, m.audio.t.ClockRate)
	var af *astits.PacketAdaptationField
	if m.video == nil {
		af = &astits.PacketAdaptationField{RandomAccessIndicator: true}
		if m.pcrCounter == 0 {
			af.HasPCR = true
			af.PCR = &astits.ClockReference{Base: pts - tsPCRLead}
			m.pcrCounter = 3
		}
		m.pcrCounter--
	}
	return m.writePES(tsAudioPID, tsStreamIDAudio, pts, -1, af, enc)
}

// writePES writes one PES; dts < 0 means PTS only.
func (m *tsMuxer) writePES(pid uint16, streamID uint8, pts, dts int64, af *astits.PacketAdaptationField, data []byte) error {
	oh := &astits.PESOptionalHeader{MarkerBits: 2, DataAlignmentIndicator: true}
	if dts < 0 || dts == pts {
		oh.PTSDTSIndicator = astits.PTSDTSIndicatorOnlyPTS
		oh.PTS = &astits.ClockReference{Base: pts}
	} else {
		oh.PTSDTSIndicator = astits.PTSDTSIndicatorBothPresent
		oh.PTS = &astits.ClockReference{Base: pts}
		oh.DTS = &astits.ClockReference{Base: dts}
	}
	_, err := m.mux.WriteData(&astits.MuxerData{
		PID: pid, AdaptationField: af,
		PES: &astits.PESData{Header: &astits.PESHeader{StreamID: streamID, OptionalHeader: oh}, Data: data},
	})
	return err
}

// hasNALU reports whether a NAL unit of au satisfies is.
func hasNALU(au [][]byte, is func([]byte) bool) bool {
	for _, n := range au {
		if len(n) > 0 && is(n) {
			return true
		}
	}
	return false
}

// withParams puts the non-empty parameter sets before au's NAL units.
func withParams(au [][]byte, params ...[]byte) [][]byte {
	out := make([][]byte, 0, len(au)+len(params))
	for _, p := range params {
		if len(p) > 0 {
			out = append(out, p)
		}
	}
	return append(out, au...)
}
