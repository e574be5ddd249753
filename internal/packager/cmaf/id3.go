package cmaf

import (
	"encoding/binary"
	"errors"
)

// EmsgSchemeID3 is the emsg scheme hls.js (and the AOM ID3-in-CMAF
// spec) surface as ID3 timed metadata.
const EmsgSchemeID3 = "https://aomedia.org/emsg/ID3"

// MaxMetadata bounds one InsertMetadata payload: IVS PutMetadata allows
// 1 KB; the slack covers callers that enforce limits in characters.
const MaxMetadata = 4096

// maxPendingMetadata bounds tags queued between two parts; PutMetadata is
// rate limited upstream, so more means a stuck segmenter.
const maxPendingMetadata = 64

// ErrMetadataTooLarge is returned for a payload over MaxMetadata.
var ErrMetadataTooLarge = errors.New("metadata payload too large")

// ID3TXXX returns an ID3v2.4 tag holding one TXXX frame (UTF-8, empty
// description) whose value is payload, as IVS timed metadata is delivered.
func ID3TXXX(payload string) []byte {
	frameLen := 1 + 1 + len(payload) // encoding, empty description + NUL, value
	tag := make([]byte, 0, 10+10+frameLen)
	tag = append(tag, 'I', 'D', '3', 4, 0, 0)
	tag = appendSyncsafe(tag, uint32(10+frameLen))
	tag = append(tag, 'T', 'X', 'X', 'X')
	tag = appendSyncsafe(tag, uint32(frameLen))
	tag = append(tag, 0, 0, 3, 0)
	return append(tag, payload...)
}

func appendSyncsafe(b []byte, v uint32) []byte {
	return append(b, byte(v>>21&0x7f), byte(v>>14&0x7f), byte(v>>7&0x7f), byte(v&0x7f))
}

// ParseID3TXXX returns the value of the first TXXX frame of an ID3v2.4
// tag (the inverse of ID3TXXX, for tests and tools).
func ParseID3TXXX(tag []byte) (string, error) {
	if len(tag) < 10 || string(tag[:3]) != "ID3" {
		return "", errors.New("not an id3 tag")
	}
	size := syncsafe(tag[6:10])
	body := tag[10:]
	if int(size) < len(body) {
		body = body[:size]
	}
	for len(body) >= 10 {
		id := string(body[:4])
		n := int(syncsafe(body[4:8]))
		if n > len(body)-10 {
			return "", errors.New("id3 frame overruns tag")
		}
		data := body[10 : 10+n]
		if id == "TXXX" && len(data) >= 2 {
			// encoding, description NUL-terminated, value
			rest := data[1:]
			for i, c := range rest {
				if c == 0 {
					return string(rest[i+1:]), nil
				}
			}
			return "", errors.New("txxx without description terminator")
		}
		body = body[10+n:]
	}
	return "", errors.New("no txxx frame")
}

func syncsafe(b []byte) uint32 {
	return uint32(b[0]&0x7f)<<21 | uint32(b[1]&0x7f)<<14 | uint32(b[2]&0x7f)<<7 | uint32(b[3]&0x7f)
}

// appendEmsg appends an emsg box (version 1) carrying an ID3 tag at
// presentation time pt in timescale ts.
func appendEmsg(b []byte, ts uint32, pt uint64, id uint32, tag []byte) []byte {
	size := 8 + 4 + 4 + 8 + 4 + 4 + len(EmsgSchemeID3) + 1 + 1 + len(tag)
	b = binary.BigEndian.AppendUint32(b, uint32(size))
	b = append(b, 'e', 'm', 's', 'g', 1, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, ts)
	b = binary.BigEndian.AppendUint64(b, pt)
	b = binary.BigEndian.AppendUint32(b, 0xffffffff) // duration unknown
	b = binary.BigEndian.AppendUint32(b, id)
	b = append(b, EmsgSchemeID3...)
	b = append(b, 0) // scheme NUL
	b = append(b, 0) // value "" NUL
	return append(b, tag...)
}

// Emsg is a parsed emsg box.
type Emsg struct {
	Scheme, Value    string
	Timescale        uint32
	PresentationTime uint64
	ID               uint32
	Data             []byte
}

// maxBoxScan bounds how many top-level boxes FindEmsg walks.
const maxBoxScan = 4096

// FindEmsg returns the version-1 emsg boxes among the top-level boxes of
// an fMP4 fragment.
func FindEmsg(b []byte) ([]Emsg, error) {
	var out []Emsg
	for i := 0; len(b) > 0 && i < maxBoxScan; i++ {
		if len(b) < 8 {
			return out, errors.New("truncated box header")
		}
		size := int(binary.BigEndian.Uint32(b))
		if size < 8 || size > len(b) {
			return out, errors.New("bad box size")
		}
		if string(b[4:8]) == "emsg" {
			e, err := parseEmsg(b[8:size])
			if err != nil {
				return out, err
			}
			out = append(out, e)
		}
		b = b[size:]
	}
	return out, nil
}

func parseEmsg(p []byte) (Emsg, error) {
	var e Emsg
	if len(p) < 4+4+8+4+4 || p[0] != 1 {
		return e, errors.New("unsupported emsg")
	}
	e.Timescale = binary.BigEndian.Uint32(p[4:])
	e.PresentationTime = binary.BigEndian.Uint64(p[8:])
	e.ID = binary.BigEndian.Uint32(p[20:])
	rest := p[24:]
	cstr := func() (string, bool) {
		for i, c := range rest {
			if c == 0 {
				s := string(rest[:i])
				rest = rest[i+1:]
				return s, true
			}
		}
		return "", false
	}
	var ok1, ok2 bool
	e.Scheme, ok1 = cstr()
	e.Value, ok2 = cstr()
	if !ok1 || !ok2 {
		return e, errors.New("emsg strings not terminated")
	}
	e.Data = rest
	return e, nil
}
