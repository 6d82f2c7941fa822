package aliyun

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
	"github.com/joinhintd/joinhintd/daemon"
)

// noCloud keeps the SDK's default credential chain on this machine: no
// metadata service, no CLI profile, no keys from the developer's shell.
func noCloud(t *testing.T) {
	t.Helper()
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")
	for _, v := range []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
		"ALIBABA_CLOUD_ROLE_ARN", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "ALIBABA_CLOUD_CREDENTIALS_URI",
		"ALIBABA_CLOUD_CREDENTIALS_FILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("HOME", t.TempDir())
}

// testConfig points at the fake with its default static keys.
func testConfig(srv *ecstest.Server) Config {
	return Config{
		Region:           "cn-hangzhou",
		Tags:             []Tag{{Key: "vault", Value: "cluster1"}},
		AddrType:         AddrPrivateV4,
		Endpoint:         srv.Host,
		EndpointScheme:   "http",
		Network:          "public",
		MetadataEndpoint: "http://127.0.0.1:1",
		AccessKeyID:      ecstest.DefaultAccessKeyID,
		AccessKeySecret:  ecstest.DefaultAccessKeySecret,
		ReadTimeout:      2 * time.Second,
	}
}

// apiCounts is a daemon.APIObserver that counts calls by code.
type apiCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (a *apiCounts) TagQueryCapped() { a.ObserveAPIRequest("cap", "reached", 0) }

func (a *apiCounts) ObserveAPIRequest(action, code string, _ time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n == nil {
		a.n = map[string]int{}
	}
	a.n[action+"/"+code]++
}

func newDiscoverer(t *testing.T, cfg Config, selfID string, obs daemon.APIObserver) *Discoverer {
	t.Helper()
	noCloud(t)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := NewDiscoverer(cfg, selfID, zaptest.NewLogger(t), obs)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func node(n int, tags ...ecstest.Tag) ecstest.Instance {
	return ecstest.Instance{
		ID: fmt.Sprintf("i-bp1node%05d", n), Name: fmt.Sprintf("vault-%d", n), HostName: fmt.Sprintf("vault-%d", n),
		RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-h", Status: "Running", NetworkType: "vpc", VpcID: "vpc-bp1main",
		PrivateIPs: []string{fmt.Sprintf("172.16.%d.%d", n/250, n%250+1)}, Tags: tags,
	}
}

var cluster1 = ecstest.Tag{Key: "vault", Value: "cluster1"}

// decoys are instances a vault=cluster1 query must never return.
func decoys() []ecstest.Instance {
	other := node(9001, ecstest.Tag{Key: "vault", Value: "cluster2"})
	stopped := node(9002, cluster1)
	stopped.Status = "Stopped"
	untagged := node(9003)
	otherKey := node(9004, ecstest.Tag{Key: "consul", Value: "cluster1"})
	otherRegion := node(9005, cluster1)
	otherRegion.RegionID = "cn-beijing"
	return []ecstest.Instance{other, stopped, untagged, otherKey, otherRegion}
}

func TestDiscoverPagesThrough250(t *testing.T) {
	var fleet []ecstest.Instance
	for n := 1; n <= 250; n++ {
		fleet = append(fleet, node(n, cluster1, ecstest.Tag{Key: "env", Value: "prod"}))
	}
	srv := ecstest.NewServer(ecstest.WithInstances(append(fleet, decoys()...)))
	defer srv.Close()
	obs := &apiCounts{}
	d := newDiscoverer(t, testConfig(srv), "", obs)
	peers, err := d.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 250 {
		t.Fatalf("%d peers, want 250", len(peers))
	}
	for i, p := range peers {
		want := fleet[i]
		if p.InstanceID != want.ID || p.Address != want.PrivateIPs[0] || p.Name != want.Name || p.Hostname != want.HostName || p.Zone != "cn-hangzhou-h" || p.VpcID != "vpc-bp1main" {
			t.Fatalf("peer %d = %+v, want instance %s", i, p, want.ID)
		}
	}
	calls := srv.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d DescribeInstances calls, want 3", len(calls))
	}
	for i, c := range calls {
		p := c.Params
		if p.Get("Status") != "Running" || p.Get("MaxResults") != "100" || p.Get("Tag.1.Key") != "vault" || p.Get("Tag.1.Value") != "cluster1" || p.Get("RegionId") != "cn-hangzhou" || c.Method != "POST" {
			t.Errorf("call %d params %v", i, p)
		}
		if (i == 0) != (p.Get("NextToken") == "") {
			t.Errorf("call %d NextToken %q", i, p.Get("NextToken"))
		}
		if p.Has("AdditionalAttributes.1") || p.Has("PageSize") {
			t.Errorf("call %d sends %v", i, p)
		}
	}
	if obs.n["DescribeInstances/Success"] != 3 {
		t.Errorf("observer saw %v", obs.n)
	}
}

func TestDiscoverOneAddressPerInstance(t *testing.T) {
	a, b := node(1, cluster1), node(2, cluster1)
	secondary := node(3, cluster1)
	secondary.PrivateIPs = []string{"172.16.0.30", "172.16.0.31"}
	classic := node(4, cluster1)
	classic.NetworkType, classic.VpcID, classic.PrivateIPs, classic.InnerIPs = "classic", "", nil, []string{"10.100.0.4", "10.100.0.5"}
	srv := ecstest.NewServer(ecstest.WithInstances(append([]ecstest.Instance{a, b, secondary, classic}, decoys()...)))
	defer srv.Close()
	d := newDiscoverer(t, testConfig(srv), "", nil)
	peers, err := d.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range peers {
		got = append(got, p.InstanceID+"="+p.Address)
	}
	want := []string{a.ID + "=" + a.PrivateIPs[0], b.ID + "=" + b.PrivateIPs[0], secondary.ID + "=172.16.0.30", classic.ID + "=10.100.0.4"}
	if !slices.Equal(got, want) {
		t.Fatalf("peers %v, want %v", got, want)
	}
}

func TestDiscoverAddrTypes(t *testing.T) {
	eip := node(1, cluster1)
	eip.EIP, eip.PublicIPs, eip.IPv6 = "47.1.1.1", []string{"121.1.1.1"}, []string{"2408:4005::1", "2408:4005::2"}
	pub := node(2, cluster1)
	pub.PublicIPs, pub.IPv6 = []string{"121.1.1.2"}, []string{"2408:4005::20"}
	none := node(3, cluster1) // private only
	srv := ecstest.NewServer(ecstest.WithInstances([]ecstest.Instance{eip, pub, none}))
	defer srv.Close()
	tests := []struct {
		addr AddrType
		want []string
	}{
		{AddrPrivateV4, []string{eip.PrivateIPs[0], pub.PrivateIPs[0], none.PrivateIPs[0]}},
		{AddrPublicV4, []string{"47.1.1.1", "121.1.1.2"}},
		{AddrIPv6, []string{"2408:4005::1", "2408:4005::20"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.addr), func(t *testing.T) {
			srv.ResetCalls()
			cfg := testConfig(srv)
			cfg.AddrType = tt.addr
			core, logs := observer.New(zapcore.DebugLevel)
			noCloud(t)
			d, err := NewDiscoverer(cfg, "", zap.New(core), nil)
			if err != nil {
				t.Fatal(err)
			}
			peers, err := d.Discover(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range peers {
				got = append(got, p.Address)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("addresses %v, want %v", got, tt.want)
			}
			asked := srv.Calls()[0].Params.Get("AdditionalAttributes.1") == "NETWORK_PRIMARY_ENI_IP"
			if asked != (tt.addr == AddrIPv6) {
				t.Errorf("NETWORK_PRIMARY_ENI_IP asked: %v", asked)
			}
			if skipped := logs.FilterMessage("instance skipped: no valid address of the configured type").Len(); skipped != 3-len(tt.want) {
				t.Errorf("%d skip logs, want %d", skipped, 3-len(tt.want))
			}
		})
	}
}

func TestDiscoverFiltersAndSelf(t *testing.T) {
	a, b := node(1, cluster1), node(2, cluster1)
	b.ZoneID, b.VpcID = "cn-hangzhou-i", "vpc-bp1other"
	srv := ecstest.NewServer(ecstest.WithInstances([]ecstest.Instance{a, b}))
	defer srv.Close()
	cfg := testConfig(srv)
	cfg.VpcID, cfg.ZoneID = "vpc-bp1main", "cn-hangzhou-h"
	cfg.Tags = []Tag{{Key: "vault", Value: "cluster1"}, {Key: "env"}}
	d := newDiscoverer(t, cfg, a.ID, nil)
	peers, err := d.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// env has no value: b and a lack the env tag entirely, so nothing matches.
	if len(peers) != 0 {
		t.Fatalf("peers %+v, want none (no instance has the env tag)", peers)
	}
	p := srv.Calls()[0].Params
	if p.Get("VpcId") != "vpc-bp1main" || p.Get("ZoneId") != "cn-hangzhou-h" || p.Get("Tag.2.Key") != "env" || p.Has("Tag.2.Value") {
		t.Errorf("params %v", p)
	}
	cfg.Tags = cfg.Tags[:1]
	d = newDiscoverer(t, cfg, a.ID, nil)
	peers, err = d.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || peers[0].InstanceID != a.ID || !peers[0].Self {
		t.Fatalf("peers %+v, want only %s marked self", peers, a.ID)
	}
}

func TestDiscoverErrors(t *testing.T) {
	fleet := []ecstest.Instance{node(1, cluster1)}
	tests := []struct {
		name   string
		setup  func(srv *ecstest.Server, cfg *Config)
		code   string
		reason daemon.Reason
	}{
		{"wrong secret", func(_ *ecstest.Server, c *Config) { c.AccessKeySecret = "wrong" }, "SignatureDoesNotMatch", daemon.ReasonAuth},
		{"unknown key", func(_ *ecstest.Server, c *Config) { c.AccessKeyID = "LTAIunknown" }, "InvalidAccessKeyId.NotFound", daemon.ReasonAuth},
		{"unknown region", func(_ *ecstest.Server, c *Config) { c.Region = "xx-nowhere-1" }, "InvalidRegionId.NotFound", daemon.ReasonOther},
		{"throttled", func(s *ecstest.Server, _ *Config) { s.Inject(ecstest.Fault{Kind: ecstest.FaultThrottling}) }, "Throttling.User", daemon.ReasonThrottled},
		{"throttled, plain code", func(s *ecstest.Server, _ *Config) {
			s.Inject(ecstest.Fault{Kind: ecstest.FaultThrottling, Code: "Throttling"})
		}, "Throttling", daemon.ReasonThrottled},
		{"503", func(s *ecstest.Server, _ *Config) { s.Inject(ecstest.Fault{Kind: ecstest.FaultServiceUnavailable}) }, "ServiceUnavailable", daemon.ReasonServer},
		{"500", func(s *ecstest.Server, _ *Config) { s.Inject(ecstest.Fault{Kind: ecstest.FaultInternalError}) }, "InternalError", daemon.ReasonServer},
		{"malformed body", func(s *ecstest.Server, _ *Config) { s.Inject(ecstest.Fault{Kind: ecstest.FaultMalformedBody}) }, "decode", daemon.ReasonServer},
		{"truncated body", func(s *ecstest.Server, _ *Config) { s.Inject(ecstest.Fault{Kind: ecstest.FaultTruncatedBody}) }, "transport", daemon.ReasonNetwork},
		{"connection reset", func(s *ecstest.Server, _ *Config) { s.Inject(ecstest.Fault{Kind: ecstest.FaultReset}) }, "transport", daemon.ReasonNetwork},
		{"slower than the read timeout", func(s *ecstest.Server, c *Config) {
			c.ReadTimeout = 200 * time.Millisecond
			s.Inject(ecstest.Fault{Kind: ecstest.FaultDelay, Delay: 2 * time.Second})
		}, "transport", daemon.ReasonNetwork},
		{"https to a plain server", func(_ *ecstest.Server, c *Config) { c.EndpointScheme = "https" }, "transport", daemon.ReasonNetwork},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := ecstest.NewServer(ecstest.WithInstances(fleet))
			defer srv.Close()
			cfg := testConfig(srv)
			tt.setup(srv, &cfg)
			obs := &apiCounts{}
			d := newDiscoverer(t, cfg, "", obs)
			peers, err := d.Discover(t.Context())
			if err == nil {
				t.Fatalf("no error; peers %v", peers)
			}
			if peers != nil {
				t.Errorf("peers returned with an error: %v", peers)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %T %v is not an *APIError", err, err)
			}
			if apiErr.Code != tt.code || daemon.ReasonOf(err) != tt.reason {
				t.Errorf("code %q reason %q, want %q %q (%v)", apiErr.Code, daemon.ReasonOf(err), tt.code, tt.reason, err)
			}
			if strings.Contains(err.Error(), "string to sign") || strings.Contains(err.Error(), "Signature=") {
				t.Errorf("error echoes the signed request: %v", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			if obs.n["DescribeInstances/"+tt.code] != 1 {
				t.Errorf("observer saw %v", obs.n)
			}
		})
	}
}

func TestDiscoverServerErrorKeepsRequestID(t *testing.T) {
	srv := ecstest.NewServer(ecstest.WithInstances([]ecstest.Instance{node(1, cluster1)}))
	defer srv.Close()
	srv.Inject(ecstest.Fault{Kind: ecstest.FaultServiceUnavailable})
	d := newDiscoverer(t, testConfig(srv), "", nil)
	_, err := d.Discover(t.Context())
	var det daemon.Detailed
	if !errors.As(err, &det) || det.RequestID() == "" || det.ErrorCode() != "ServiceUnavailable" {
		t.Fatalf("error %v: details missing", err)
	}
}

func TestDiscoverFaultOnAnyPageReturnsNoPeers(t *testing.T) {
	var fleet []ecstest.Instance
	for n := 1; n <= 250; n++ {
		fleet = append(fleet, node(n, cluster1))
	}
	for page := 0; page < 3; page++ {
		t.Run(fmt.Sprintf("page %d", page+1), func(t *testing.T) {
			srv := ecstest.NewServer(ecstest.WithInstances(fleet))
			defer srv.Close()
			srv.Inject(ecstest.Fault{Kind: ecstest.FaultServiceUnavailable, Skip: page})
			d := newDiscoverer(t, testConfig(srv), "", nil)
			peers, err := d.Discover(t.Context())
			if err == nil || peers != nil {
				t.Fatalf("fault on page %d: peers %d, err %v", page+1, len(peers), err)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("page %d", page+1)) {
				t.Errorf("error does not name the page: %v", err)
			}
		})
	}
}

func TestDiscoverStopsBetweenPagesOnCancel(t *testing.T) {
	var fleet []ecstest.Instance
	for n := 1; n <= 150; n++ {
		fleet = append(fleet, node(n, cluster1))
	}
	srv := ecstest.NewServer(ecstest.WithInstances(fleet))
	defer srv.Close()
	d := newDiscoverer(t, testConfig(srv), "", nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := d.Discover(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if n := len(srv.Calls()); n != 0 {
		t.Errorf("%d calls after cancel", n)
	}
}

func TestDiscoverCredentialsFromEnvironment(t *testing.T) {
	sts := ecstest.Credential{AccessKeyID: "STS.envkey", AccessKeySecret: "env-sts-secret", SecurityToken: "env-sts-token"}
	srv := ecstest.NewServer(ecstest.WithInstances([]ecstest.Instance{node(1, cluster1)}),
		ecstest.WithCredential(ecstest.Credential{AccessKeyID: "LTAIenv", AccessKeySecret: "env-secret"}),
		ecstest.WithCredential(sts))
	defer srv.Close()
	for _, tt := range []struct {
		name, id, secret, token string
	}{
		{"static keys", "LTAIenv", "env-secret", ""},
		{"sts token", sts.AccessKeyID, sts.AccessKeySecret, sts.SecurityToken},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetCalls()
			cfg := testConfig(srv)
			cfg.AccessKeyID, cfg.AccessKeySecret = "", ""
			noCloud(t)
			t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", tt.id)
			t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", tt.secret)
			t.Setenv("ALIBABA_CLOUD_SECURITY_TOKEN", tt.token)
			d, err := NewDiscoverer(cfg, "", zaptest.NewLogger(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			if d.CredentialSource() != SourceEnv {
				t.Errorf("source %q", d.CredentialSource())
			}
			peers, err := d.Discover(t.Context())
			if err != nil || len(peers) != 1 {
				t.Fatalf("peers %v err %v", peers, err)
			}
			c := srv.Calls()[0]
			if c.Params.Get("AccessKeyId") != tt.id || c.Params.Get("SecurityToken") != tt.token {
				t.Errorf("signed with %s token %q", c.Params.Get("AccessKeyId"), c.Params.Get("SecurityToken"))
			}
		})
	}
	t.Run("sts token missing", func(t *testing.T) {
		cfg := testConfig(srv)
		cfg.AccessKeyID, cfg.AccessKeySecret = "", ""
		noCloud(t)
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", sts.AccessKeyID)
		t.Setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", sts.AccessKeySecret)
		d, err := NewDiscoverer(cfg, "", zaptest.NewLogger(t), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Discover(t.Context()); daemon.ReasonOf(err) != daemon.ReasonAuth {
			t.Fatalf("err %v, want an auth failure", err)
		}
	})
}

func TestNewDiscovererNeedsRegion(t *testing.T) {
	cfg := Config{Tags: []Tag{{Key: "k"}}, AddrType: AddrPrivateV4, EndpointScheme: "https", Network: "public", MetadataEndpoint: DefaultMetadataEndpoint}
	if _, err := NewDiscoverer(cfg, "", zap.NewNop(), nil); err == nil || !strings.Contains(err.Error(), "--region") {
		t.Fatalf("err %v", err)
	}
}

// The API shows at most 1,000 instances of a tag query: reaching that is
// warned about and counted, since peers beyond it may be missing.
func TestDiscoverWarnsAtTheTagCap(t *testing.T) {
	var fleet []ecstest.Instance
	for n := 1; n <= 1100; n++ {
		fleet = append(fleet, node(n, cluster1))
	}
	srv := ecstest.NewServer(ecstest.WithInstances(fleet))
	defer srv.Close()
	noCloud(t)
	core, logs := observer.New(zapcore.InfoLevel)
	obs := &apiCounts{}
	d, err := NewDiscoverer(testConfig(srv), "", zap.New(core), obs)
	if err != nil {
		t.Fatal(err)
	}
	peers, err := d.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1000 || len(srv.Calls()) != 10 {
		t.Fatalf("%d peers in %d calls, want the cap of 1000 in 10", len(peers), len(srv.Calls()))
	}
	if logs.FilterMessage("tag query reached the API cap; peers may be missing: tighten the filters").FilterLevelExact(zapcore.WarnLevel).Len() != 1 {
		t.Errorf("no warning: %v", logs.All())
	}
	if obs.n["cap/reached"] != 1 {
		t.Errorf("cap not counted: %v", obs.n)
	}
}

// An address field holding garbage never becomes a join hint.
func TestDiscoverSkipsInvalidAddresses(t *testing.T) {
	good := node(1, cluster1)
	bad := node(2, cluster1)
	bad.PrivateIPs = []string{"not-an-ip"}
	v6 := node(3, cluster1)
	v6.PrivateIPs = []string{"2408:4005::3"} // an IPv6 where IPv4 belongs
	srv := ecstest.NewServer(ecstest.WithInstances([]ecstest.Instance{good, bad, v6}))
	defer srv.Close()
	d := newDiscoverer(t, testConfig(srv), "", nil)
	peers, err := d.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(peers) != 1 || peers[0].InstanceID != good.ID {
		t.Fatalf("peers %+v, want only %s", peers, good.ID)
	}
}
