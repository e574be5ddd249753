package hls

import (
	"errors"
	"strconv"
	"strings"

	"github.com/stagecast/stagecast/internal/segstore"
)

// PlaylistName is the rendition playlist's file name.
const PlaylistName = "playlist.m3u8"

// Name limits: a name longer than maxNameLen or an epoch longer than
// maxEpochLen cannot be one we produced; numbers are bounded by their
// types (MSN uint64, part and generation < maxIndex).
const (
	maxNameLen  = 80
	maxEpochLen = 16
	maxIndex    = 1 << 20
)

// Kind says what a file name refers to.
type Kind int

// File kinds.
const (
	KindInit Kind = iota + 1
	KindSegment
	KindPart
)

// Name is a parsed file name.
type Name struct {
	Kind  Kind
	Epoch string
	MSN   uint64
	Part  int // KindPart
	Gen   int // KindInit
	TS    bool
}

// ErrBadName is returned by ParseName for a name we never produce.
var ErrBadName = errors.New("not a media file name")

func ext(c segstore.Container) string {
	if c == segstore.TS {
		return ".ts"
	}
	return ".m4s"
}

// AppendInitName appends the init segment name.
func AppendInitName(b []byte, epoch string, gen int) []byte {
	b = append(b, "init-"...)
	b = append(b, epoch...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(gen), 10)
	return append(b, ".mp4"...)
}

// AppendSegmentName appends segment msn's name.
func AppendSegmentName(b []byte, epoch string, msn uint64, c segstore.Container) []byte {
	b = append(b, "seg-"...)
	b = append(b, epoch...)
	b = append(b, '-')
	b = strconv.AppendUint(b, msn, 10)
	return append(b, ext(c)...)
}

// AppendPartName appends part idx of segment msn's name.
func AppendPartName(b []byte, epoch string, msn uint64, idx int, c segstore.Container) []byte {
	b = append(b, "part-"...)
	b = append(b, epoch...)
	b = append(b, '-')
	b = strconv.AppendUint(b, msn, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(idx), 10)
	return append(b, ext(c)...)
}

// ParseName parses a name produced by the Append*Name functions.
func ParseName(s string) (Name, error) {
	var n Name
	if len(s) > maxNameLen {
		return n, ErrBadName
	}
	var base string
	switch {
	case strings.HasSuffix(s, ".mp4"):
		base = s[:len(s)-4]
	case strings.HasSuffix(s, ".m4s"):
		base = s[:len(s)-4]
	case strings.HasSuffix(s, ".ts"):
		base, n.TS = s[:len(s)-3], true
	default:
		return n, ErrBadName
	}
	fields := strings.Split(base, "-")
	if len(fields) < 3 || !validEpoch(fields[1]) {
		return n, ErrBadName
	}
	n.Epoch = fields[1]
	switch {
	case fields[0] == "init" && len(fields) == 3 && strings.HasSuffix(s, ".mp4"):
		g, err := smallInt(fields[2])
		if err != nil {
			return n, err
		}
		n.Kind, n.Gen = KindInit, g
	case fields[0] == "seg" && len(fields) == 3 && !strings.HasSuffix(s, ".mp4"):
		m, err := parseMSN(fields[2])
		if err != nil {
			return n, err
		}
		n.Kind, n.MSN = KindSegment, m
	case fields[0] == "part" && len(fields) == 4 && !strings.HasSuffix(s, ".mp4"):
		m, err := parseMSN(fields[2])
		if err != nil {
			return n, err
		}
		p, err := smallInt(fields[3])
		if err != nil {
			return n, err
		}
		n.Kind, n.MSN, n.Part = KindPart, m, p
	default:
		return n, ErrBadName
	}
	return n, nil
}

func validEpoch(e string) bool {
	if e == "" || len(e) > maxEpochLen {
		return false
	}
	for i := 0; i < len(e); i++ {
		c := e[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func parseMSN(s string) (uint64, error) {
	if s == "" || len(s) > 1 && s[0] == '0' || s[0] == '+' {
		return 0, ErrBadName
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, ErrBadName
	}
	return v, nil
}

func smallInt(s string) (int, error) {
	v, err := parseMSN(s)
	if err != nil || v >= maxIndex {
		return 0, ErrBadName
	}
	return int(v), nil
}
