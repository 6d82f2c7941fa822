package daemon

import (
	"fmt"
	"net"
	"strconv"
	"time"
	"unicode/utf8"
)

// Rendering runs once per successful refresh, on up to about a thousand peers,
// and its output is served as is. So the renderers append into buffers sized
// up front instead of going through encoding/json's reflection, and the parts
// that are the same for every peer (the TLS settings of a retry_join stanza)
// are rendered once. The JSON they write is byte for byte what encoding/json
// would escape; render_test.go holds them to that.
//
// Every renderer is a pure function of its arguments: the same Snapshot and
// RenderOptions give the same bytes.

// Defaults of RenderOptions' zero fields, the same as the flags' defaults.
const (
	defaultVaultScheme = "https"
	defaultVaultPort   = 8200
)

// Validate reports whether ro can be rendered. VaultScheme must be "https" or
// "http" (empty means "https"), VaultPort 1 to 65535 (0 means 8200), and the
// leader TLS settings valid UTF-8 without NUL bytes. The command line checks
// its flags with it, so that a bad value is a configuration error at start-up
// rather than a failure of every refresh.
func (ro RenderOptions) Validate() error {
	switch ro.VaultScheme {
	case "", "https", "http":
	default:
		return fmt.Errorf("vault scheme %q: want https or http", ro.VaultScheme)
	}
	if ro.VaultPort < 0 || ro.VaultPort > 65535 {
		return fmt.Errorf("vault port %d: want 1 to 65535", ro.VaultPort)
	}
	for _, o := range ro.leaderOptions() {
		if !utf8.ValidString(o.value) {
			return fmt.Errorf("%s: not valid UTF-8", o.key)
		}
		for i := 0; i < len(o.value); i++ {
			if o.value[i] == 0 {
				return fmt.Errorf("%s: contains a NUL byte", o.key)
			}
		}
	}
	return nil
}

// leaderOption is one leader TLS setting under its retry_join key.
type leaderOption struct{ key, value string }

// leaderOptions returns the leader TLS settings in the order they are
// rendered, set or not.
func (ro RenderOptions) leaderOptions() [4]leaderOption {
	return [4]leaderOption{
		{"leader_ca_cert_file", ro.LeaderCACertFile},
		{"leader_tls_servername", ro.LeaderTLSServerName},
		{"leader_client_cert_file", ro.LeaderClientCertFile},
		{"leader_client_key_file", ro.LeaderClientKeyFile},
	}
}

// renderBodies renders every body of s. Peers without an address are listed in
// the peers document but left out of the address lists and retry_join stanzas;
// an address with whitespace, control characters or invalid UTF-8 is an error
// (it would break the line-oriented formats), as is an invalid ro.
func renderBodies(s *Snapshot, ro RenderOptions) (bodies, error) {
	if err := ro.Validate(); err != nil {
		return bodies{}, fmt.Errorf("render retry_join: %w", err)
	}
	for i := range s.Peers {
		if err := checkAddress(s.Peers[i].Address); err != nil {
			return bodies{}, fmt.Errorf("peer %s: %w", s.Peers[i].InstanceID, err)
		}
	}
	var b bodies
	var err error
	if b.peersJSON, err = renderPeersDocuments(s); err != nil {
		return bodies{}, err
	}
	b.text, b.goDiscover = renderAddressLists(s.Peers)
	b.retryHCL, b.retryJSON = renderRetryJoin(s, ro)
	return b, nil
}

// checkAddress rejects addresses that would split or corrupt a line of text.
func checkAddress(addr string) error {
	if !utf8.ValidString(addr) {
		return fmt.Errorf("address %q is not valid UTF-8", addr)
	}
	for i := 0; i < len(addr); i++ {
		if c := addr[i]; c <= ' ' || c == 0x7f {
			return fmt.Errorf("address %q holds whitespace or a control character", addr)
		}
	}
	return nil
}

// renderPeersDocuments renders the peers document of s twice, identical but
// for "stale": index 0 says false, index 1 true. The document is indented
// two spaces with one peer a line, and ends in a newline. Both share one
// allocation. The error is always nil today; it is there for the caller's
// sake.
func renderPeersDocuments(s *Snapshot) ([2][]byte, error) {
	head := make([]byte, 0, 160)
	head = append(head, "{\n  \"revision\": "...)
	head = strconv.AppendUint(head, s.Revision, 10)
	head = append(head, ",\n  \"updated_at\": "...)
	head = appendJSONTime(head, s.UpdatedAt)
	head = append(head, ",\n  \"changed_at\": "...)
	head = appendJSONTime(head, s.ChangedAt)
	head = append(head, ",\n  \"stale\": "...)

	// Everything after "stale" is rendered once, into the first document,
	// and copied into the second.
	buf := make([]byte, 0, 2*(len(head)+len("false")+peersTailSize(s)))
	buf = append(append(buf, head...), "false"...)
	tail := len(buf)
	buf = appendPeersTail(buf, s)
	n0 := len(buf)
	buf = append(append(buf, head...), "true"...)
	buf = append(buf, buf[tail:n0]...)
	return [2][]byte{buf[:n0:n0], buf[n0:]}, nil
}

// appendPeersTail appends the peers document from the field after "stale"
// to its end.
func appendPeersTail(b []byte, s *Snapshot) []byte {
	b = append(b, ",\n  \"source\": "...)
	b = appendJSONString(b, s.Source)
	b = append(b, ",\n  \"region\": "...)
	b = appendJSONString(b, s.Region)
	if len(s.Peers) == 0 {
		return append(b, ",\n  \"peers\": []\n}\n"...)
	}
	b = append(b, ",\n  \"peers\": [\n"...)
	for i := range s.Peers {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = append(b, "    "...)
		b = appendPeerJSON(b, &s.Peers[i])
	}
	return append(b, "\n  ]\n}\n"...)
}

// peersTailSize estimates the bytes of the peers document after "stale", so
// that the buffer rarely grows: the keys and punctuation of a peer line take
// under 170 bytes, plus the values, which seldom need escaping.
func peersTailSize(s *Snapshot) int {
	n := 64 + len(s.Source) + len(s.Region)
	for i := range s.Peers {
		p := &s.Peers[i]
		n += 176 + len(p.InstanceID) + len(p.Name) + len(p.Hostname) + len(p.Address) +
			len(p.PrivateIPv4) + len(p.PublicIPv4) + len(p.IPv6) + len(p.Zone) + len(p.VpcID)
	}
	return n
}

// appendPeerJSON appends p as one line of JSON object, keys in the order of
// Peer's fields and named by its json tags.
func appendPeerJSON(b []byte, p *Peer) []byte {
	b = append(b, `{"instance_id": `...)
	b = appendJSONString(b, p.InstanceID)
	b = append(b, `, "name": `...)
	b = appendJSONString(b, p.Name)
	b = append(b, `, "hostname": `...)
	b = appendJSONString(b, p.Hostname)
	b = append(b, `, "address": `...)
	b = appendJSONString(b, p.Address)
	b = append(b, `, "private_ipv4": `...)
	b = appendJSONString(b, p.PrivateIPv4)
	b = append(b, `, "public_ipv4": `...)
	b = appendJSONString(b, p.PublicIPv4)
	b = append(b, `, "ipv6": `...)
	b = appendJSONString(b, p.IPv6)
	b = append(b, `, "zone": `...)
	b = appendJSONString(b, p.Zone)
	b = append(b, `, "vpc_id": `...)
	b = appendJSONString(b, p.VpcID)
	b = append(b, `, "self": `...)
	b = strconv.AppendBool(b, p.Self)
	return append(b, '}')
}

// appendJSONTime appends t in UTC as an RFC 3339 JSON string, to the second.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// renderAddressLists renders the text format (one address a line) and the
// go-discover format (one line, space separated, as `discover addrs` prints
// it: an empty set is a lone newline). Self is included in both; peers
// without an address are not.
func renderAddressLists(peers []Peer) (text, goDiscover []byte) {
	n := 0
	for i := range peers {
		n += len(peers[i].Address) + 1
	}
	text = make([]byte, 0, n)
	for i := range peers {
		if a := peers[i].Address; a != "" {
			text = append(append(text, a...), '\n')
		}
	}
	// text's length is exactly that of the addresses, their separators and
	// the final newline.
	goDiscover = make([]byte, 0, max(len(text), 1))
	for i := range peers {
		if a := peers[i].Address; a != "" {
			if len(goDiscover) > 0 {
				goDiscover = append(goDiscover, ' ')
			}
			goDiscover = append(goDiscover, a...)
		}
	}
	goDiscover = append(goDiscover, '\n')
	return text, goDiscover
}

// renderRetryJoin renders the retry_join stanzas of every peer of s that is
// not Self and has an address, as HCL and as Vault's JSON configuration
// syntax. ro must be valid.
//
// The HCL starts with a comment naming the revision and region: both are the
// same for as long as the peer set is, so the body stays valid when
// NewSnapshot reuses it for an unchanged set.
func renderRetryJoin(s *Snapshot, ro RenderOptions) (hcl, js []byte) {
	scheme, port := ro.VaultScheme, ro.VaultPort
	if scheme == "" {
		scheme = defaultVaultScheme
	}
	if port == 0 {
		port = defaultVaultPort
	}
	portStr := strconv.Itoa(port)

	// The TLS lines are the same in every stanza: render them once. The
	// keys are aligned on "=" as hclfmt would.
	opts := ro.leaderOptions()
	width := len("leader_api_addr")
	for _, o := range opts {
		if o.value != "" {
			width = max(width, len(o.key))
		}
	}
	var hclTLS, jsTLS []byte
	for _, o := range opts {
		if o.value == "" {
			continue
		}
		hclTLS = appendHCLKey(hclTLS, o.key, width)
		hclTLS = append(appendHCLString(hclTLS, o.value), '\n')
		jsTLS = append(append(append(jsTLS, ", \""...), o.key...), "\": "...)
		jsTLS = appendJSONString(jsTLS, o.value)
	}

	// Size the buffers for every peer: a stanza's fixed text is under 40
	// bytes in HCL and 30 in JSON besides the key padding, the URL and the
	// TLS lines.
	addrs := 0
	for i := range s.Peers {
		addrs += len(s.Peers[i].Address)
	}
	urlLen := len(scheme) + len("://[]:") + len(portStr)
	hcl = make([]byte, 0, 96+len(s.Region)+addrs+len(s.Peers)*(40+width+urlLen+len(hclTLS)))
	js = make([]byte, 0, 48+addrs+len(s.Peers)*(30+urlLen+len(jsTLS)))

	hcl = append(hcl, "# joinhintd retry_join stanzas: revision "...)
	hcl = strconv.AppendUint(hcl, s.Revision, 10)
	hcl = append(hcl, ", region "...)
	hcl = append(appendHCLString(hcl, s.Region), '\n')
	js = append(js, "{\n  \"retry_join\": ["...)

	first := true
	for i := range s.Peers {
		p := &s.Peers[i]
		if p.Self || p.Address == "" {
			continue
		}
		url := scheme + "://" + net.JoinHostPort(p.Address, portStr)

		hcl = append(hcl, "\nretry_join {\n"...)
		hcl = appendHCLKey(hcl, "leader_api_addr", width)
		hcl = append(appendHCLString(hcl, url), '\n')
		hcl = append(append(hcl, hclTLS...), "}\n"...)

		if !first {
			js = append(js, ',')
		}
		first = false
		js = append(js, "\n    {\"leader_api_addr\": "...)
		js = appendJSONString(js, url)
		js = append(append(js, jsTLS...), '}')
	}
	if first {
		js = append(js, "]\n}\n"...)
	} else {
		js = append(js, "\n  ]\n}\n"...)
	}
	return hcl, js
}

// appendHCLKey appends an indented attribute name padded to width and " = ".
func appendHCLKey(b []byte, key string, width int) []byte {
	b = append(append(b, "  "...), key...)
	for range width - len(key) {
		b = append(b, ' ')
	}
	return append(b, " = "...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped exactly as
// encoding/json.Marshal escapes it: quote, backslash and control characters,
// "<", ">" and "&", U+2028 and U+2029, and each byte of invalid UTF-8 as
// U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendHCLString appends s as a quoted HCL string that reads back as s both
// in HCL 1, which Vault and OpenBao parse their server configuration with,
// and in HCL 2. Quote and backslash are escaped, \n, \r and \t written as
// such, other control characters as \u00XX and invalid UTF-8 as \ufffd.
//
// The template introducers "${" and "%{" are written as "\u0024{" and
// "\u0025{". HCL 2's own escapes "$${" and "%%{" are not escapes in HCL 1,
// which would keep both characters and so name a different file; a \u escape
// is decoded by both, and neither then starts a template.
func appendHCLString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(append(b, s[start:i]...), `\ufffd`...)
				start = i + 1
			}
			i += size
			continue
		}
		var esc string
		switch {
		case c == '"':
			esc = `\"`
		case c == '\\':
			esc = `\\`
		case c == '\n':
			esc = `\n`
		case c == '\r':
			esc = `\r`
		case c == '\t':
			esc = `\t`
		case c < ' ' || c == 0x7f:
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			i++
			start = i
			continue
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			if c == '$' {
				esc = `\u0024`
			} else {
				esc = `\u0025`
			}
		default:
			i++
			continue
		}
		b = append(append(b, s[start:i]...), esc...)
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
