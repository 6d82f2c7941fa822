package daemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the current output")

var (
	testT0 = time.Date(2026, 12, 3, 18, 41, 10, 0, time.UTC)
	testT1 = time.Date(2026, 12, 3, 19, 0, 0, 987654321, time.UTC) // sub-second part is dropped
)

// testPeers is a small fleet: self first, an IPv6 peer, and names that need
// JSON escaping.
func testPeers() []Peer {
	return []Peer{
		{InstanceID: "i-bp1aaaaaaaaaaaaaaaa1", Name: "vault-1", Hostname: "vault-1", Address: "172.16.1.11",
			PrivateIPv4: "172.16.1.11", PublicIPv4: "47.96.10.11", Zone: "cn-hangzhou-h", VpcID: "vpc-bp1vvvvvvvvvvvvvvvv", Self: true},
		{InstanceID: "i-bp1aaaaaaaaaaaaaaaa2", Name: "vault-2", Hostname: "vault-2", Address: "172.16.1.12",
			PrivateIPv4: "172.16.1.12", Zone: "cn-hangzhou-h", VpcID: "vpc-bp1vvvvvvvvvvvvvvvv"},
		{InstanceID: "i-bp1aaaaaaaaaaaaaaaa3", Name: `vault-3 "v6" <&>`, Hostname: "vault-3", Address: "2408:4005:3a0:c900:1::3",
			PrivateIPv4: "172.16.2.13", IPv6: "2408:4005:3a0:c900:1::3", Zone: "cn-hangzhou-i", VpcID: "vpc-bp1vvvvvvvvvvvvvvvv"},
		{InstanceID: "i-bp1aaaaaaaaaaaaaaaa4", Name: "金库-4\tback\\slash", Hostname: "vault-4", Address: "172.16.3.14",
			PrivateIPv4: "172.16.3.14", PublicIPv4: "47.96.10.14", Zone: "cn-hangzhou-j", VpcID: "vpc-bp1vvvvvvvvvvvvvvvv"},
	}
}

// testTLS sets all four leader TLS settings; the CA path needs every kind of
// HCL escape.
func testTLS() RenderOptions {
	return RenderOptions{
		VaultScheme:          "https",
		VaultPort:            8200,
		LeaderCACertFile:     "/etc/vault/\"ca\" ${HOME}\\%{x}\t$${y}\n.pem",
		LeaderTLSServerName:  "vault.example",
		LeaderClientCertFile: "/etc/vault/client.pem",
		LeaderClientKeyFile:  "/etc/vault/client-key.pem",
	}
}

// testSnapshot builds the Snapshot of peers as a second refresh of an
// unchanged set: revision 1, changed at testT0, updated at testT1.
func testSnapshot(t testing.TB, peers []Peer, ro RenderOptions) *Snapshot {
	t.Helper()
	s0, _, err := NewSnapshot(nil, slices.Clone(peers), "cn-hangzhou", SourceECS, testT0, ro)
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	s1, changed, err := NewSnapshot(s0, slices.Clone(peers), "cn-hangzhou", SourceECS, testT1, ro)
	if err != nil || changed {
		t.Fatalf("NewSnapshot again: changed %v, %v", changed, err)
	}
	return s1
}

var goldenCases = []struct {
	name  string
	peers []Peer
	ro    RenderOptions
}{
	{"tls", testPeers(), testTLS()},
	{"plain", testPeers(), RenderOptions{VaultScheme: "http", VaultPort: 8300}},
	{"empty", nil, testTLS()},
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSnapshot(t, tc.peers, tc.ro)
			for file, got := range map[string][]byte{
				"peers.json":        s.bodies.peersJSON[0],
				"peers.txt":         s.bodies.text,
				"peers.go-discover": s.bodies.goDiscover,
				"retry-join.hcl":    s.bodies.retryHCL,
				"retry-join.json":   s.bodies.retryJSON,
			} {
				checkGolden(t, filepath.Join("testdata", tc.name, file), got)
			}
		})
	}
}

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// peersDocument is the peers document as encoding/json would write it.
type peersDocument struct {
	Revision  uint64 `json:"revision"`
	UpdatedAt string `json:"updated_at"`
	ChangedAt string `json:"changed_at"`
	Stale     bool   `json:"stale"`
	Source    string `json:"source"`
	Region    string `json:"region"`
	Peers     []Peer `json:"peers"`
}

func TestPeersDocumentMatchesEncodingJSON(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			s := testSnapshot(t, tc.peers, tc.ro)
			for i, stale := range []bool{false, true} {
				want, err := json.Marshal(peersDocument{
					Revision:  1,
					UpdatedAt: "2026-12-03T19:00:00Z",
					ChangedAt: "2026-12-03T18:41:10Z",
					Stale:     stale,
					Source:    "ecs",
					Region:    "cn-hangzhou",
					Peers:     append([]Peer{}, tc.peers...),
				})
				if err != nil {
					t.Fatal(err)
				}
				doc := s.bodies.peersJSON[i]
				if !bytes.HasSuffix(doc, []byte("}\n")) {
					t.Errorf("document %d does not end in a newline", i)
				}
				var got bytes.Buffer
				if err := json.Compact(&got, doc); err != nil {
					t.Fatalf("document %d: %v", i, err)
				}
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("document %d, compacted:\n%s\nencoding/json:\n%s", i, got.Bytes(), want)
				}
			}
		})
	}
}

func TestRenderDeterministicAndReused(t *testing.T) {
	ro := testTLS()
	a := testSnapshot(t, testPeers(), ro)
	b := testSnapshot(t, testPeers(), ro)
	if fmt.Sprint(a.bodies) != fmt.Sprint(b.bodies) {
		t.Error("two renderings of the same snapshot differ")
	}

	// A later refresh of the same set only re-renders the peers document,
	// which alone carries updated_at.
	c, changed, err := NewSnapshot(a, testPeers(), "cn-hangzhou", SourceECS, testT1.Add(time.Hour), ro)
	if err != nil || changed {
		t.Fatalf("NewSnapshot: changed %v, %v", changed, err)
	}
	fresh, err := renderBodies(c, ro)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.bodies) != fmt.Sprint(fresh) {
		t.Error("reused bodies differ from a fresh rendering")
	}
	if bytes.Equal(c.bodies.peersJSON[0], a.bodies.peersJSON[0]) {
		t.Error("peers document kept the old updated_at")
	}
}

func TestRenderSkipsPeersWithoutAddress(t *testing.T) {
	peers := []Peer{
		{InstanceID: "i-1", Address: "10.0.0.1"},
		{InstanceID: "i-2"},
		{InstanceID: "i-3", Address: "10.0.0.3"},
	}
	s := testSnapshot(t, peers, RenderOptions{})
	if got, want := string(s.bodies.text), "10.0.0.1\n10.0.0.3\n"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got, want := string(s.bodies.goDiscover), "10.0.0.1 10.0.0.3\n"; got != want {
		t.Errorf("go-discover = %q, want %q", got, want)
	}
	if got := strings.Count(string(s.bodies.retryHCL), "retry_join {"); got != 2 {
		t.Errorf("%d HCL stanzas, want 2", got)
	}
	// The zero RenderOptions mean https and 8200.
	if !bytes.Contains(s.bodies.retryJSON, []byte(`"https://10.0.0.3:8200"`)) {
		t.Errorf("default scheme and port missing:\n%s", s.bodies.retryJSON)
	}
	if !bytes.Contains(s.bodies.peersJSON[0], []byte(`"instance_id": "i-2"`)) {
		t.Error("peer without address missing from the peers document")
	}
}

// retryJoinJSON is Vault's JSON form of the stanzas.
type retryJoinJSON struct {
	RetryJoin []map[string]string `json:"retry_join"`
}

// parseRetryJoinHCL reads the stanzas renderRetryJoin writes, unquoting the
// values with strconv.Unquote: Go's escapes are the ones HCL 1 decodes.
func parseRetryJoinHCL(t testing.TB, body []byte) []map[string]string {
	t.Helper()
	var stanzas []map[string]string
	var cur map[string]string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case line == "retry_join {":
			cur = map[string]string{}
		case line == "}":
			stanzas = append(stanzas, cur)
			cur = nil
		default:
			k, v, ok := strings.Cut(strings.TrimSpace(line), " = ")
			if !ok || cur == nil {
				t.Fatalf("unexpected line %q", line)
			}
			u, err := strconv.Unquote(v)
			if err != nil {
				t.Fatalf("line %q: %v", line, err)
			}
			cur[strings.TrimSpace(k)] = u
		}
	}
	return stanzas
}

func TestRetryJoinStanzas(t *testing.T) {
	ro := testTLS()
	s := testSnapshot(t, testPeers(), ro)
	want := []map[string]string{}
	for _, addr := range []string{"172.16.1.12:8200", "[2408:4005:3a0:c900:1::3]:8200", "172.16.3.14:8200"} {
		want = append(want, map[string]string{
			"leader_api_addr":         "https://" + addr,
			"leader_ca_cert_file":     ro.LeaderCACertFile,
			"leader_tls_servername":   ro.LeaderTLSServerName,
			"leader_client_cert_file": ro.LeaderClientCertFile,
			"leader_client_key_file":  ro.LeaderClientKeyFile,
		})
	}

	if got := parseRetryJoinHCL(t, s.bodies.retryHCL); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("HCL stanzas:\n%v\nwant\n%v", got, want)
	}
	for _, raw := range []string{"${", "%{", "\t"} {
		if bytes.Contains(s.bodies.retryHCL, []byte(raw)) {
			t.Errorf("HCL holds a raw %q", raw)
		}
	}
	if !bytes.HasPrefix(s.bodies.retryHCL, []byte("# joinhintd retry_join stanzas: revision 1, region \"cn-hangzhou\"\n")) {
		t.Errorf("HCL header:\n%s", s.bodies.retryHCL)
	}

	var js retryJoinJSON
	if err := json.Unmarshal(s.bodies.retryJSON, &js); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(js.RetryJoin) != fmt.Sprint(want) {
		t.Errorf("JSON stanzas:\n%v\nwant\n%v", js.RetryJoin, want)
	}

	empty := testSnapshot(t, nil, ro)
	if err := json.Unmarshal(empty.bodies.retryJSON, &js); err != nil || js.RetryJoin == nil || len(js.RetryJoin) != 0 {
		t.Errorf("empty set: %s: %v, want an empty list", empty.bodies.retryJSON, err)
	}
}

func TestRenderErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		peers []Peer
		ro    RenderOptions
		want  string
	}{
		{"scheme", nil, RenderOptions{VaultScheme: "ftp"}, `vault scheme "ftp"`},
		{"port", nil, RenderOptions{VaultPort: 65536}, "vault port 65536"},
		{"negative port", nil, RenderOptions{VaultPort: -1}, "vault port -1"},
		{"bad UTF-8", nil, RenderOptions{LeaderTLSServerName: "a\xffb"}, "leader_tls_servername: not valid UTF-8"},
		{"NUL", nil, RenderOptions{LeaderClientKeyFile: "/a\x00b"}, "leader_client_key_file: contains a NUL"},
		{"newline in address", []Peer{{InstanceID: "i-1", Address: "10.0.0.1\n10.0.0.2"}}, RenderOptions{}, "peer i-1: address"},
		{"space in address", []Peer{{InstanceID: "i-1", Address: "10.0.0.1 x"}}, RenderOptions{}, "whitespace"},
		{"bad UTF-8 address", []Peer{{InstanceID: "i-1", Address: "\xff"}}, RenderOptions{}, "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := NewSnapshot(nil, tc.peers, "r", SourceECS, testT0, tc.ro)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	if err := testTLS().Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range jsonSeeds() {
		checkJSONString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonSeeds() {
		f.Add(s)
	}
	f.Fuzz(checkJSONString)
}

func jsonSeeds() []string {
	return []string{"", "plain", `q"b\s/`, "\x00\x01\b\f\n\r\t\x1f\x7f", "<a&b>", "\u2028\u2029", "\xff\xfe", "é金\U0001F600", "a\xe2\x80"}
}

func checkJSONString(t *testing.T, s string) {
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	got := appendJSONString([]byte("x"), s)[1:]
	if string(got) != string(want) {
		t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
	}
	// Vault reads a JSON configuration's strings with Go's strconv.Unquote
	// (through HCL 1's JSON parser): it must understand every escape.
	if utf8.ValidString(s) {
		if u, err := strconv.Unquote(string(got)); err != nil || u != s {
			t.Errorf("strconv.Unquote(%s) = %q, %v; want %q", got, u, err, s)
		}
	}
}

func TestAppendHCLString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"/etc/vault/ca.pem", `"/etc/vault/ca.pem"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"l1\nl2\r\t\x01\x7f", `"l1\nl2\r\t\u0001\u007f"`},
		{"${x}", `"\u0024{x}"`},
		{"%{x}", `"\u0025{x}"`},
		{"$${x} %%{y}", `"$\u0024{x} %\u0025{y}"`},
		{"$ % $x %y trailing$", `"$ % $x %y trailing$"`},
		{"金\xffé", `"金\ufffdé"`},
	} {
		if got := string(appendHCLString(nil, tc.in)); got != tc.want {
			t.Errorf("appendHCLString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// FuzzAppendHCLString checks that any valid UTF-8 string reads back whole
// (with Go's escapes, a subset of HCL 1's and HCL 2's) and never holds
// anything HCL would read as a template, a line break or a control character.
func FuzzAppendHCLString(f *testing.F) {
	for _, s := range []string{"", "${a}", "%{a}", "$${", "\"\\\n", "$", "%", "金"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		q := string(appendHCLString(nil, s))
		got, err := strconv.Unquote(q)
		if err != nil || got != s {
			t.Fatalf("appendHCLString(%q) = %s, reads back as %q, %v", s, q, got, err)
		}
		if strings.Contains(q, "${") || strings.Contains(q, "%{") {
			t.Errorf("appendHCLString(%q) = %s holds a template", s, q)
		}
		for _, c := range []byte(q) {
			if c < ' ' || c == 0x7f {
				t.Fatalf("appendHCLString(%q) = %s holds control character %#x", s, q, c)
			}
		}
	})
}

// benchPeers returns n distinct peers with realistic field lengths.
func benchPeers(n int) []Peer {
	peers := make([]Peer, n)
	for i := range peers {
		ip := fmt.Sprintf("172.16.%d.%d", i/250, i%250+1)
		peers[i] = Peer{
			InstanceID:  fmt.Sprintf("i-bp1%017d", i),
			Name:        fmt.Sprintf("vault-%d", i),
			Hostname:    fmt.Sprintf("vault-%d", i),
			Address:     ip,
			PrivateIPv4: ip,
			PublicIPv4:  fmt.Sprintf("47.96.%d.%d", i/250, i%250+1),
			Zone:        "cn-hangzhou-h",
			VpcID:       "vpc-bp1vvvvvvvvvvvvvvvvvvv",
			Self:        i == 0,
		}
	}
	return peers
}

func BenchmarkRenderBodies(b *testing.B) {
	s := &Snapshot{Revision: 7, UpdatedAt: testT1, ChangedAt: testT0, Source: SourceECS, Region: "cn-hangzhou", Peers: benchPeers(1000)}
	ro := testTLS()
	b.Run("all", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := renderBodies(s, ro); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The refresh of an unchanged set renders only these.
	b.Run("peers-documents", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := renderPeersDocuments(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
