package cmaf

import (
	"testing"
)

func TestID3RoundTrip(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"", "hello", `{"a":1}`, string(make([]byte, 300))} {
		got, err := ParseID3TXXX(ID3TXXX(p))
		if err != nil || got != p {
			t.Errorf("round trip of %d bytes: %q, %v", len(p), got, err)
		}
		box := appendEmsg(nil, 90000, 12345, 7, ID3TXXX(p))
		ems, err := FindEmsg(box)
		if err != nil || len(ems) != 1 || ems[0].Scheme != EmsgSchemeID3 || ems[0].PresentationTime != 12345 || ems[0].ID != 7 || ems[0].Timescale != 90000 {
			t.Fatalf("FindEmsg = %+v, %v", ems, err)
		}
	}
}

func FuzzFindEmsg(f *testing.F) {
	f.Add(appendEmsg(nil, 1000, 1, 1, ID3TXXX("x")))
	f.Add([]byte{0, 0, 0, 8, 'm', 'o', 'o', 'f'})
	f.Fuzz(func(t *testing.T, b []byte) {
		ems, _ := FindEmsg(b)
		for _, e := range ems {
			if len(e.Data) > len(b) {
				t.Fatal("emsg data larger than input")
			}
		}
	})
}

func FuzzParseID3TXXX(f *testing.F) {
	f.Add(ID3TXXX("payload"))
	f.Add([]byte("ID3\x04\x00\x00\x00\x00\x00\x0aTXXX\x00\x00\x00\x7f\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseID3TXXX(b)
		if err == nil && len(v) > len(b) {
			t.Fatal("value longer than tag")
		}
	})
}
