package rtmp

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestSelfSignedCertificate(t *testing.T) {
	t.Parallel()
	cert, err := SelfSignedCertificate("ingest.example.test", "10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	leaf := cert.Leaf
	key, ok := cert.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || key.Curve != elliptic.P256() {
		t.Fatalf("key %T, want P-256 ECDSA", cert.PrivateKey)
	}
	if !slices.Contains(leaf.DNSNames, "ingest.example.test") || !slices.Contains(leaf.DNSNames, "localhost") {
		t.Errorf("DNS names %v", leaf.DNSNames)
	}
	for _, ip := range []string{"10.1.2.3", "127.0.0.1", "::1"} {
		if !slices.ContainsFunc(leaf.IPAddresses, func(a net.IP) bool { return a.Equal(net.ParseIP(ip)) }) {
			t.Errorf("IP %s missing from %v", ip, leaf.IPAddresses)
		}
	}
	if err := leaf.VerifyHostname("ingest.example.test"); err != nil {
		t.Error(err)
	}
	if leaf.Subject.CommonName != "ingest.example.test" {
		t.Errorf("CN %q", leaf.Subject.CommonName)
	}
}

func TestTLSConfigFiles(t *testing.T) {
	t.Parallel()
	cert, err := SelfSignedCertificate("files.example.test")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	der, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := TLSConfig(certFile, keyFile, "ignored.example.test")
	if err != nil {
		t.Fatal(err)
	}
	got, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil || got.Subject.CommonName != "files.example.test" {
		t.Fatalf("loaded %v %v", got, err)
	}
	if _, err := TLSConfig(certFile, "", "x"); err == nil {
		t.Error("certificate without key accepted")
	}
	if _, err := TLSConfig(filepath.Join(dir, "missing.pem"), keyFile); err == nil {
		t.Error("missing file accepted")
	}
}
