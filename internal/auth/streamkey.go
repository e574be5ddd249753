package auth

// Lengths of the random parts of generated stream key values.
const (
	// streamKeyPart1Len and streamKeyPart2Len follow the IVS layout
	// sk_<region>_<12 chars>_<30 chars>: 42 base62 characters, ~250 bits.
	streamKeyPart1Len = 12
	streamKeyPart2Len = 30
	// ingestKeyRandomLen is the random suffix of an ingest stream key:
	// 32 base62 characters, ~190 bits.
	ingestKeyRandomLen = 32
)

// NewStreamKeyValue returns a fresh stream key value for a low-latency
// channel in the IVS format "sk_<region>_<12 base62>_<30 base62>", for
// example sk_us-west-2_3jeOhfUEEueC_oCTE4bOeOMVBmj6skVXK1pWvPNaUkL.
// The random part carries about 250 bits of entropy.
func NewStreamKeyValue(region string) Secret {
	return Secret("sk_" + region + "_" +
		RandomString(streamKeyPart1Len, Base62) + "_" +
		RandomString(streamKeyPart2Len, Base62))
}

// NewIngestStreamKeyValue returns a fresh stream key value for a real-time
// ingest configuration: "rt_<accountID>_<region>_<resourceID>_<32 base62>".
// With a numeric accountID, a lower-case region and an alphanumeric (or
// dashed) resourceID the value matches the IVS pattern
// rt_[0-9]+_[a-z0-9-]+_[a-zA-Z0-9-]+_.+; the inputs are not validated here.
func NewIngestStreamKeyValue(accountID, region, resourceID string) Secret {
	return Secret("rt_" + accountID + "_" + region + "_" + resourceID + "_" +
		RandomString(ingestKeyRandomLen, Base62))
}
