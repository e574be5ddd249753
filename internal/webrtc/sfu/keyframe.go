package sfu

// maxKeyFrameProbe bounds how far into a packet the key frame parsers
// look (an RTP payload never exceeds the MTU; STAP-A walks stop here).
const maxKeyFrameProbe = 1500

// vp8KeyFrame reports whether a VP8 RTP payload (RFC 7741) starts a key
// frame: S=1, partition 0, and the frame header's P bit clear.
func vp8KeyFrame(b []byte) bool {
	if len(b) > maxKeyFrameProbe {
		b = b[:maxKeyFrameProbe]
	}
	if len(b) < 1 {
		return false
	}
	x, s, pid := b[0]&0x80 != 0, b[0]&0x10 != 0, b[0]&0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(b) < 2 {
			return false
		}
		ext := b[1]
		i = 2
		if ext&0x80 != 0 { // I: picture id
			if len(b) <= i {
				return false
			}
			if b[i]&0x80 != 0 {
				i += 2
			} else {
				i++
			}
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/KEYIDX
			i++
		}
	}
	return len(b) > i && b[i]&0x01 == 0
}

// h264KeyFrame reports whether an H.264 RTP payload (RFC 6184) carries an
// IDR slice start or an SPS (a key frame begins with one of them).
func h264KeyFrame(b []byte) bool {
	if len(b) > maxKeyFrameProbe {
		b = b[:maxKeyFrameProbe]
	}
	if len(b) < 1 {
		return false
	}
	switch t := b[0] & 0x1f; t {
	case 5, 7:
		return true
	case 24: // STAP-A
		for i := 1; i+2 < len(b); {
			n := int(b[i])<<8 | int(b[i+1])
			i += 2
			if n == 0 || i >= len(b) {
				return false
			}
			if nt := b[i] & 0x1f; nt == 5 || nt == 7 {
				return true
			}
			i += n
		}
	case 28: // FU-A
		return len(b) > 1 && b[1]&0x80 != 0 && b[1]&0x1f == 5
	}
	return false
}
