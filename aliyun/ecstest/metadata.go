package ecstest

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Metadata service paths and headers ([DOC-MD]).
const (
	MetadataTokenPath      = "/latest/api/token"
	MetadataTokenHeader    = "X-aliyun-ecs-metadata-token"
	MetadataTokenTTLHeader = "X-aliyun-ecs-metadata-token-ttl-seconds"
	MetadataMaxTokenTTL    = 21600 // seconds
)

const (
	metaPrefix = "/latest/meta-data/"
	credPrefix = metaPrefix + "ram/security-credentials/"
)

// credTimeLayout is the layout of Expiration and LastUpdated in a role
// credential document (the SDK parses Expiration with it).
const credTimeLayout = "2006-01-02T15:04:05Z"

// roleCredentialLifetime is the Expiration served for a role credential whose
// Expires is zero.
const roleCredentialLifetime = 6 * time.Hour

// Metadata is what the fake metadata service knows about "its" instance.
type Metadata struct {
	RegionID, InstanceID, ZoneID, PrivateIPv4, Hostname, VpcID string

	// RoleName is the ECS RAM role attached to the instance ("" for none);
	// RoleCredential is served at
	// /latest/meta-data/ram/security-credentials/<RoleName>. Register the same
	// credential with the ECS Server for the role to be usable there.
	RoleName       string
	RoleCredential Credential
	// RoleDocument, when not empty, is served verbatim instead of the
	// document made from RoleCredential: a malformed or failing answer.
	RoleDocument string
	// RoleStatus, when not 0, is the HTTP status of the role document
	// answer (a failing service); the body stays RoleDocument, or the
	// generated document when that is empty.
	RoleStatus int

	// TokenRequired is the "hardened only" mode: GETs without a token get 403.
	TokenRequired bool
	// TokenRefused makes PUT /latest/api/token answer 404, like an older
	// service that has no token endpoint.
	TokenRefused bool
}

// MetaRequest is one request the MetadataServer received.
type MetaRequest struct {
	Method, Path string
	HadToken     bool // an X-aliyun-ecs-metadata-token header was present
}

// MetadataOption configures NewMetadataServer.
type MetadataOption func(*MetadataServer)

// WithMetadataClock sets the clock used for token expiry and credential
// timestamps. The default is time.Now.
func WithMetadataClock(now func() time.Time) MetadataOption {
	return func(m *MetadataServer) { m.clock = now }
}

// MetadataServer is a fake ECS instance metadata service on
// http://127.0.0.1:PORT (standing in for http://100.100.100.200). Its methods
// are safe for concurrent use while it serves; Close it when done.
type MetadataServer struct {
	URL  string // "http://127.0.0.1:PORT"
	Host string // "127.0.0.1:PORT"

	clock     func() time.Time
	srv       *http.Server
	serveDone chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	md       Metadata
	tokens   map[string]time.Time // token -> expiry
	issued   []string             // every token handed out, in order
	requests []MetaRequest
}

// NewMetadataServer starts a MetadataServer serving m on 127.0.0.1 on a free
// port. It panics if it cannot listen.
func NewMetadataServer(m Metadata, opts ...MetadataOption) *MetadataServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("ecstest: listen on 127.0.0.1: %v", err))
	}
	ms := &MetadataServer{
		URL:       "http://" + ln.Addr().String(),
		Host:      ln.Addr().String(),
		clock:     time.Now,
		serveDone: make(chan struct{}),
		md:        m,
		tokens:    map[string]time.Time{},
	}
	for _, o := range opts {
		o(ms)
	}
	ms.srv = &http.Server{
		Handler:           http.HandlerFunc(ms.handle),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(ms.serveDone)
		_ = ms.srv.Serve(ln)
	}()
	return ms
}

// Close stops the server and closes its connections. It is safe to call more
// than once.
func (m *MetadataServer) Close() {
	m.closeOnce.Do(func() {
		_ = m.srv.Close()
		<-m.serveDone
	})
}

// Set replaces everything the service knows. Issued tokens stay valid.
func (m *MetadataServer) Set(md Metadata) {
	m.mu.Lock()
	m.md = md
	m.mu.Unlock()
}

// SetRoleCredential replaces the role credential served, as the real service
// does when it rotates it.
func (m *MetadataServer) SetRoleCredential(c Credential) {
	m.mu.Lock()
	m.md.RoleCredential = c
	m.mu.Unlock()
}

// Requests returns a copy of every request received, in order.
func (m *MetadataServer) Requests() []MetaRequest {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MetaRequest(nil), m.requests...)
}

func (m *MetadataServer) handle(w http.ResponseWriter, r *http.Request) {
	tok := r.Header.Get(MetadataTokenHeader)
	m.mu.Lock()
	m.requests = append(m.requests, MetaRequest{Method: r.Method, Path: r.URL.Path, HadToken: tok != ""})
	md := m.md
	m.mu.Unlock()

	if r.URL.Path == MetadataTokenPath {
		m.issueToken(w, r, md)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		textError(w, http.StatusMethodNotAllowed)
		return
	}
	switch {
	case tok != "":
		if !m.validToken(tok) {
			textError(w, http.StatusUnauthorized)
			return
		}
	case md.TokenRequired:
		textError(w, http.StatusForbidden)
		return
	}
	body, ctype, ok := m.item(r.URL.Path, md)
	if !ok {
		textError(w, http.StatusNotFound)
		return
	}
	status := http.StatusOK
	if md.RoleStatus != 0 && md.RoleName != "" && r.URL.Path == credPrefix+md.RoleName {
		status = md.RoleStatus
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, body)
	}
}

// issueToken serves PUT /latest/api/token.
func (m *MetadataServer) issueToken(w http.ResponseWriter, r *http.Request, md Metadata) {
	if r.Method != http.MethodPut {
		textError(w, http.StatusMethodNotAllowed)
		return
	}
	if md.TokenRefused {
		textError(w, http.StatusNotFound)
		return
	}
	if r.Header.Get("X-Forwarded-For") != "" {
		textError(w, http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(MetadataTokenTTLHeader))
	if err != nil || ttl < 1 || ttl > MetadataMaxTokenTTL {
		textError(w, http.StatusBadRequest)
		return
	}
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	now := m.clock()
	m.mu.Lock()
	for t, exp := range m.tokens {
		if !now.Before(exp) {
			delete(m.tokens, t)
		}
	}
	m.tokens[tok] = now.Add(time.Duration(ttl) * time.Second)
	m.issued = append(m.issued, tok)
	m.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("X-aliyun-ecs-metadata-token-ttl-seconds", strconv.Itoa(ttl))
	_, _ = io.WriteString(w, tok)
}

// IssuedTokens returns every session token handed out so far, so a test can
// check that none of them leaks into logs or answers.
func (m *MetadataServer) IssuedTokens() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.issued)
}

func (m *MetadataServer) validToken(tok string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	exp, ok := m.tokens[tok]
	return ok && m.clock().Before(exp)
}

// item returns the body and content type served at path.
func (m *MetadataServer) item(path string, md Metadata) (string, string, bool) {
	const text = "text/plain"
	switch path {
	case metaPrefix:
		return listing(md), text, true
	case credPrefix:
		return md.RoleName, text, md.RoleName != ""
	}
	if role, ok := strings.CutPrefix(path, credPrefix); ok {
		if md.RoleName == "" || role != md.RoleName {
			return "", "", false
		}
		if md.RoleDocument != "" {
			return md.RoleDocument, "application/json", true
		}
		return m.credentialDocument(md.RoleCredential), "application/json", true
	}
	name, ok := strings.CutPrefix(path, metaPrefix)
	if !ok {
		return "", "", false
	}
	v := metaItems(md)[name]
	return v, text, v != ""
}

func metaItems(md Metadata) map[string]string {
	return map[string]string{
		"region-id":    md.RegionID,
		"instance-id":  md.InstanceID,
		"zone-id":      md.ZoneID,
		"private-ipv4": md.PrivateIPv4,
		"hostname":     md.Hostname,
		"vpc-id":       md.VpcID,
	}
}

// listing is the directory answer of /latest/meta-data/: the items that have
// a value, one a line.
func listing(md Metadata) string {
	var lines []string
	for _, name := range []string{"hostname", "instance-id", "private-ipv4", "region-id", "vpc-id", "zone-id"} {
		if metaItems(md)[name] != "" {
			lines = append(lines, name)
		}
	}
	if md.RoleName != "" {
		lines = append(lines, "ram/")
	}
	return strings.Join(lines, "\n")
}

func (m *MetadataServer) credentialDocument(c Credential) string {
	now := m.clock().UTC()
	exp := c.Expires
	if exp.IsZero() {
		exp = now.Add(roleCredentialLifetime)
	}
	return string(marshal(struct {
		AccessKeyID     string `json:"AccessKeyId"`
		AccessKeySecret string `json:"AccessKeySecret"`
		Expiration      string `json:"Expiration"`
		SecurityToken   string `json:"SecurityToken"`
		LastUpdated     string `json:"LastUpdated"`
		Code            string `json:"Code"`
	}{c.AccessKeyID, c.AccessKeySecret, exp.UTC().Format(credTimeLayout), c.SecurityToken, now.Format(credTimeLayout), "Success"}))
}

func textError(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, http.StatusText(status)+"\n")
}
