package ecstest

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// The API the fake serves: the only Version and Action it accepts.
const (
	APIVersion              = "2014-05-26"
	ActionDescribeInstances = "DescribeInstances"
)

// The credential NewServer registers when no WithCredential option is given.
const (
	DefaultAccessKeyID     = "LTAI5tFAKEFAKEFAKE00001"
	DefaultAccessKeySecret = "fake-secret-for-tests-only"
)

// DefaultRegion is the region an Instance without RegionID is placed in.
const DefaultRegion = "cn-hangzhou"

// skew is how far a request Timestamp may be from the server clock, and how
// long a SignatureNonce is remembered.
const skew = 15 * time.Minute

// maxBody bounds a POST body read for form parameters.
const maxBody = 1 << 20

// Instance is one fake ECS instance. Zero fields take defaults where noted.
type Instance struct {
	ID, Name, HostName string
	RegionID           string // DefaultRegion when empty
	ZoneID             string
	Status             string // "Running" (default when empty), "Stopped", "Pending", "Starting", "Stopping"
	NetworkType        string // "vpc" (default when empty) or "classic"
	VpcID, VSwitchID   string
	PrivateIPs         []string // VPC private IPv4s, first = primary (VpcAttributes.PrivateIpAddress, primary ENI PrimaryIpAddress/PrivateIpSets)
	InnerIPs           []string // classic-network inner IPs (InnerIpAddress); ignored for vpc
	PublicIPs          []string // PublicIpAddress
	EIP                string   // EipAddress.IpAddress ("" -> object with empty strings, as the real API)
	IPv6               []string // primary ENI Ipv6Sets, returned only when AdditionalAttributes.N=NETWORK_PRIMARY_ENI_IP is requested
	Tags               []Tag    // Tags.Tag[] {TagKey,TagValue}

	Description      string
	InstanceType     string    // "ecs.g7.large" when empty
	CreationTime     time.Time // 2024-01-15T08:00Z when zero
	SecurityGroupIDs []string  // one id derived from VpcID when empty
}

// Tag is one ECS tag.
type Tag struct{ Key, Value string }

// Credential is an AccessKey the fake accepts.
type Credential struct {
	AccessKeyID, AccessKeySecret string
	// SecurityToken non-empty makes it an STS credential: requests must carry
	// exactly this SecurityToken.
	SecurityToken string
	// Expires is when the credential stops working (zero: never). An STS
	// credential is then refused with InvalidSecurityToken.Expired, a
	// permanent one with InvalidAccessKeyId.Inactive.
	Expires time.Time
	// Denied models a RAM identity without ecs:DescribeInstances: list calls
	// return an empty list (the real API's trap), DryRun=true returns 403
	// Forbidden.RAM.
	Denied bool
}

// Call is one request the Server received.
type Call struct {
	Method string
	Action string
	Params url.Values // query and form merged
	Header http.Header
	// Code is "Success", the error Code returned, or one of CallMalformed,
	// CallTruncated, CallDelay, CallReset for those faults.
	Code string
	Time time.Time // by the server clock
}

// Option configures NewServer.
type Option func(*serverConfig)

type serverConfig struct {
	creds     []Credential
	instances []Instance
	clock     func() time.Time
	regions   []string
	maxCalls  int
}

// WithCredential registers c; when any is given the default credential is not
// registered.
func WithCredential(c Credential) Option {
	return func(cfg *serverConfig) { cfg.creds = append(cfg.creds, c) }
}

// WithInstances sets the initial fleet.
func WithInstances(in []Instance) Option {
	return func(cfg *serverConfig) { cfg.instances = append(cfg.instances, in...) }
}

// WithClock sets the server clock, used for Timestamp, nonce and credential
// expiry checks and for Call.Time. The default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(cfg *serverConfig) { cfg.clock = now }
}

// WithRegions replaces the default set of known regions.
func WithRegions(ids ...string) Option {
	return func(cfg *serverConfig) { cfg.regions = append([]string{}, ids...) }
}

// WithMaxCalls keeps only the n most recent calls for Calls (n <= 0: all, the
// default). A long-running demo server uses it to bound its memory.
func WithMaxCalls(n int) Option {
	return func(cfg *serverConfig) { cfg.maxCalls = n }
}

// DefaultRegions returns the regions a Server knows unless WithRegions is
// given: the regions with an ECS VPC endpoint.
func DefaultRegions() []string {
	return []string{
		"cn-hangzhou", "cn-shanghai", "cn-qingdao", "cn-beijing", "cn-zhangjiakou",
		"cn-huhehaote", "cn-wulanchabu", "cn-shenzhen", "cn-heyuan", "cn-guangzhou",
		"cn-chengdu", "cn-hongkong", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
		"ap-southeast-5", "ap-northeast-1", "ap-south-1", "eu-central-1", "eu-west-1",
		"us-west-1", "us-east-1", "me-east-1",
	}
}

// Server is a fake ECS RPC endpoint serving DescribeInstances on
// http://127.0.0.1:PORT/, and STS's AssumeRole and AssumeRoleWithOIDC on the
// same address (see the package documentation, "STS"). Its methods are safe
// for concurrent use while it serves; Close it when done.
type Server struct {
	URL  string // "http://127.0.0.1:PORT"
	Host string // "127.0.0.1:PORT", for sdk.Client.Domain or request.Domain

	clock     func() time.Time
	maxCalls  int
	srv       *http.Server
	serveDone chan struct{}
	closing   chan struct{} // closed by Close: aborts delayed answers
	closeOnce sync.Once
	inflight  sync.WaitGroup

	mu           sync.Mutex
	closed       bool
	creds        map[string]Credential
	regions      map[string]bool
	fleet        map[string]Instance
	nonces       map[string]time.Time
	noncePruneAt int
	cursors      map[string]cursor
	cursorOrder  []string
	calls        []Call
	faults       []*faultState
	roles        map[string]func() Credential // RoleArn -> issuer (nil: generated)
	oidc         map[string]string            // OIDCProviderArn -> accepted OIDCToken
}

// NewServer starts a Server listening on 127.0.0.1 on a free port. It panics
// if it cannot listen, as httptest.NewServer does.
func NewServer(opts ...Option) *Server {
	cfg := serverConfig{clock: time.Now, regions: DefaultRegions()}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.creds) == 0 {
		cfg.creds = []Credential{{AccessKeyID: DefaultAccessKeyID, AccessKeySecret: DefaultAccessKeySecret}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("ecstest: listen on 127.0.0.1: %v", err))
	}
	s := &Server{
		URL:          "http://" + ln.Addr().String(),
		Host:         ln.Addr().String(),
		clock:        cfg.clock,
		maxCalls:     cfg.maxCalls,
		serveDone:    make(chan struct{}),
		closing:      make(chan struct{}),
		creds:        map[string]Credential{},
		regions:      map[string]bool{},
		fleet:        map[string]Instance{},
		nonces:       map[string]time.Time{},
		noncePruneAt: 1024,
		cursors:      map[string]cursor{},
		roles:        map[string]func() Credential{},
		oidc:         map[string]string{},
	}
	for _, c := range cfg.creds {
		s.creds[c.AccessKeyID] = c
	}
	for _, r := range cfg.regions {
		s.regions[r] = true
	}
	for _, in := range cfg.instances {
		in = normalize(in)
		s.fleet[in.ID] = in
	}
	s.srv = &http.Server{
		Handler:           http.HandlerFunc(s.handle),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(ln)
	}()
	return s
}

// Close stops the server, closes its connections and waits for the handlers
// in flight (delayed answers are abandoned). It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		_ = s.srv.Close()
		close(s.closing)
		<-s.serveDone
		s.inflight.Wait()
	})
}

// AddCredential registers c, replacing a credential with the same AccessKeyID.
func (s *Server) AddCredential(c Credential) {
	s.mu.Lock()
	s.creds[c.AccessKeyID] = c
	s.mu.Unlock()
}

// RemoveCredential forgets the credential with AccessKeyID id.
func (s *Server) RemoveCredential(id string) {
	s.mu.Lock()
	delete(s.creds, id)
	s.mu.Unlock()
}

// AddRegion makes region id known.
func (s *Server) AddRegion(id string) {
	s.mu.Lock()
	s.regions[id] = true
	s.mu.Unlock()
}

// SetInstances replaces the whole fleet with copies of in.
func (s *Server) SetInstances(in []Instance) {
	fleet := make(map[string]Instance, len(in))
	for _, i := range in {
		i = normalize(i)
		fleet[i.ID] = i
	}
	s.mu.Lock()
	s.fleet = fleet
	s.mu.Unlock()
}

// PutInstance adds a copy of in, replacing an instance with the same ID.
func (s *Server) PutInstance(in Instance) {
	in = normalize(in)
	s.mu.Lock()
	s.fleet[in.ID] = in
	s.mu.Unlock()
}

// RemoveInstance deletes the instance with ID id, if any.
func (s *Server) RemoveInstance(id string) {
	s.mu.Lock()
	delete(s.fleet, id)
	s.mu.Unlock()
}

// SetStatus sets the Status of instance id, if it exists.
func (s *Server) SetStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if in, ok := s.fleet[id]; ok {
		in.Status = status
		s.fleet[id] = in
	}
}

// Instances returns copies of the fleet, sorted by ID.
func (s *Server) Instances() []Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Instance, 0, len(s.fleet))
	for _, in := range s.fleet {
		out = append(out, cloneInstance(in))
	}
	slices.SortFunc(out, func(a, b Instance) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Calls returns a copy of every request received (STS calls included) since
// the start or the last ResetCalls (see WithMaxCalls), in the order they were
// answered: a call is recorded just before its answer is written.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Params = cloneValues(c.Params)
		c.Header = c.Header.Clone()
		out[i] = c
	}
	return out
}

// ResetCalls forgets the recorded calls.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	s.calls = nil
	s.mu.Unlock()
}

// CallCount returns how many recorded calls named action, whatever their
// outcome.
func (s *Server) CallCount(action string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Action == action {
			n++
		}
	}
	return n
}

func normalize(in Instance) Instance {
	in = cloneInstance(in)
	if in.RegionID == "" {
		in.RegionID = DefaultRegion
	}
	if in.Status == "" {
		in.Status = StatusRunning
	}
	if in.NetworkType == "" {
		in.NetworkType = NetworkVPC
	}
	return in
}

func cloneInstance(in Instance) Instance {
	in.PrivateIPs = slices.Clone(in.PrivateIPs)
	in.InnerIPs = slices.Clone(in.InnerIPs)
	in.PublicIPs = slices.Clone(in.PublicIPs)
	in.IPv6 = slices.Clone(in.IPv6)
	in.Tags = slices.Clone(in.Tags)
	in.SecurityGroupIDs = slices.Clone(in.SecurityGroupIDs)
	return in
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	if s.maxCalls > 0 && len(s.calls) > s.maxCalls {
		s.calls = slices.Delete(s.calls, 0, len(s.calls)-s.maxCalls)
	}
	s.mu.Unlock()
}

// enter registers a handler in flight; false once the server is closing.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}
