package ecstest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func startMetadata(t *testing.T, md Metadata, opts ...MetadataOption) *MetadataServer {
	t.Helper()
	m := NewMetadataServer(md, opts...)
	t.Cleanup(m.Close)
	return m
}

// metaDo sends one request with the given headers and returns status and body.
func metaDo(t *testing.T, m *MetadataServer, method, path string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, m.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func token(t *testing.T, m *MetadataServer, ttl string) string {
	t.Helper()
	status, body, _ := metaDo(t, m, "PUT", MetadataTokenPath, map[string]string{MetadataTokenTTLHeader: ttl})
	if status != 200 || body == "" {
		t.Fatalf("token: %d %q", status, body)
	}
	return body
}

func sampleMD() Metadata {
	md := SampleMetadata("cn-hangzhou")
	md.RoleCredential = Credential{AccessKeyID: "STS.role", AccessKeySecret: "role-secret", SecurityToken: "role-token",
		Expires: time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)}
	return md
}

func TestMetadataTokenPUT(t *testing.T) {
	m := startMetadata(t, sampleMD())
	for _, tc := range []struct {
		name   string
		method string
		header map[string]string
		status int
	}{
		{"ttl 21600", "PUT", map[string]string{MetadataTokenTTLHeader: "21600"}, 200},
		{"ttl 1", "PUT", map[string]string{MetadataTokenTTLHeader: "1"}, 200},
		{"ttl 0", "PUT", map[string]string{MetadataTokenTTLHeader: "0"}, 400},
		{"ttl 21601", "PUT", map[string]string{MetadataTokenTTLHeader: "21601"}, 400},
		{"ttl missing", "PUT", nil, 400},
		{"ttl not a number", "PUT", map[string]string{MetadataTokenTTLHeader: "6h"}, 400},
		{"forwarded", "PUT", map[string]string{MetadataTokenTTLHeader: "60", "X-Forwarded-For": "10.0.0.1"}, 403},
		{"GET on the token path", "GET", map[string]string{MetadataTokenTTLHeader: "60"}, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := metaDo(t, m, tc.method, MetadataTokenPath, tc.header)
			if status != tc.status {
				t.Errorf("status %d, want %d (%q)", status, tc.status, body)
			}
		})
	}
}

func TestMetadataItems(t *testing.T) {
	md := sampleMD()
	md.VpcID = ""
	m := startMetadata(t, md)
	tok := token(t, m, "21600")
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/latest/meta-data/region-id", 200, "cn-hangzhou"},
		{"/latest/meta-data/instance-id", 200, md.InstanceID},
		{"/latest/meta-data/zone-id", 200, "cn-hangzhou-h"},
		{"/latest/meta-data/private-ipv4", 200, "172.16.1.11"},
		{"/latest/meta-data/hostname", 200, "vault-1"},
		{"/latest/meta-data/vpc-id", 404, ""},
		{"/latest/meta-data/owner-account-id", 404, ""},
		{"/latest/meta-data/", 200, "hostname\ninstance-id\nprivate-ipv4\nregion-id\nzone-id\nram/"},
		{"/latest/meta-data/ram/security-credentials/", 200, SampleRoleName},
		{"/latest/meta-data/ram/security-credentials/other-role", 404, ""},
		{"/latest/user-data", 404, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, body, h := metaDo(t, m, "GET", tc.path, map[string]string{MetadataTokenHeader: tok})
			if status != tc.status || (tc.status == 200 && body != tc.want) {
				t.Errorf("got %d %q, want %d %q", status, body, tc.status, tc.want)
			}
			if status == 200 && h.Get("Content-Type") != "text/plain" {
				t.Errorf("Content-Type %q", h.Get("Content-Type"))
			}
		})
	}
}

// TestMetadataRoleCredential parses the credential document the way SDK
// v1.63.107 does: Code must be "Success", Expiration in 2006-01-02T15:04:05Z.
func TestMetadataRoleCredential(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	m := startMetadata(t, sampleMD(), WithMetadataClock(func() time.Time { return now }))
	get := func() map[string]*string {
		t.Helper()
		status, body, h := metaDo(t, m, "GET", "/latest/meta-data/ram/security-credentials/"+SampleRoleName, nil)
		if status != 200 || h.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %s %q", status, h.Get("Content-Type"), body)
		}
		var doc map[string]*string
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"AccessKeyId", "AccessKeySecret", "Expiration", "SecurityToken", "LastUpdated", "Code"} {
			if doc[k] == nil {
				t.Fatalf("document lacks %s: %s", k, body)
			}
		}
		if _, err := time.Parse("2006-01-02T15:04:05Z", *doc["Expiration"]); err != nil || *doc["Code"] != "Success" {
			t.Fatalf("Expiration %q Code %q", *doc["Expiration"], *doc["Code"])
		}
		return doc
	}
	doc := get()
	if *doc["AccessKeyId"] != "STS.role" || *doc["SecurityToken"] != "role-token" || *doc["Expiration"] != "2026-03-01T18:00:00Z" ||
		*doc["LastUpdated"] != "2026-03-01T12:00:00Z" {
		t.Errorf("document %v", doc)
	}
	m.SetRoleCredential(Credential{AccessKeyID: "STS.role2", AccessKeySecret: "s2", SecurityToken: "t2"})
	doc = get()
	if *doc["AccessKeyId"] != "STS.role2" || *doc["Expiration"] != "2026-03-01T18:00:00Z" {
		t.Errorf("rotated document %v (zero Expires serves clock+6h)", doc)
	}
}

func TestMetadataTokenModes(t *testing.T) {
	const item = "/latest/meta-data/instance-id"
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	t.Run("optional tokens", func(t *testing.T) {
		m := startMetadata(t, sampleMD(), WithMetadataClock(clock.Now))
		if status, _, _ := metaDo(t, m, "GET", item, nil); status != 200 {
			t.Errorf("token-less GET: %d", status)
		}
		if status, _, _ := metaDo(t, m, "GET", item, map[string]string{MetadataTokenHeader: "forged"}); status != 401 {
			t.Errorf("forged token: %d", status)
		}
		tok := token(t, m, "60")
		if status, _, _ := metaDo(t, m, "GET", item, map[string]string{MetadataTokenHeader: tok}); status != 200 {
			t.Errorf("fresh token: %d", status)
		}
		clock.Add(61 * time.Second)
		if status, _, _ := metaDo(t, m, "GET", item, map[string]string{MetadataTokenHeader: tok}); status != 401 {
			t.Errorf("expired token: %d", status)
		}
		reqs := m.Requests()
		if len(reqs) != 5 || reqs[0].HadToken || !reqs[1].HadToken || reqs[2].Method != "PUT" || reqs[2].Path != MetadataTokenPath {
			t.Errorf("requests %+v", reqs)
		}
	})
	t.Run("hardened only", func(t *testing.T) {
		md := sampleMD()
		md.TokenRequired = true
		m := startMetadata(t, md, WithMetadataClock(clock.Now))
		if status, _, _ := metaDo(t, m, "GET", item, nil); status != 403 {
			t.Errorf("token-less GET: %d", status)
		}
		tok := token(t, m, "21600")
		if status, body, _ := metaDo(t, m, "GET", item, map[string]string{MetadataTokenHeader: tok}); status != 200 || body != md.InstanceID {
			t.Errorf("with token: %d %q", status, body)
		}
	})
	t.Run("old service refuses tokens", func(t *testing.T) {
		md := sampleMD()
		md.TokenRefused = true
		m := startMetadata(t, md, WithMetadataClock(clock.Now))
		if status, _, _ := metaDo(t, m, "PUT", MetadataTokenPath, map[string]string{MetadataTokenTTLHeader: "21600"}); status != 404 {
			t.Errorf("PUT token: %d", status)
		}
		if status, _, _ := metaDo(t, m, "GET", item, nil); status != 200 {
			t.Errorf("token-less GET: %d", status)
		}
	})
	t.Run("Set replaces the metadata", func(t *testing.T) {
		m := startMetadata(t, sampleMD(), WithMetadataClock(clock.Now))
		md := sampleMD()
		md.RegionID = "cn-beijing"
		m.Set(md)
		if status, body, _ := metaDo(t, m, "GET", "/latest/meta-data/region-id", nil); status != 200 || !strings.EqualFold(body, "cn-beijing") {
			t.Errorf("%d %q", status, body)
		}
	})
}
