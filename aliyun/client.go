package aliyun

import (
	"fmt"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"go.uber.org/zap"

	"github.com/joinhintd/joinhintd/daemon"
)

// Default per-call timeouts: the SDK's own.
const (
	defaultConnectTimeout = 5 * time.Second
	defaultReadTimeout    = 10 * time.Second
)

// NewDiscovererWithCredentials is NewDiscoverer signing with cred, a provider
// from NewCredentialsProvider, whose source name it reports as
// CredentialSource. NewDiscoverer itself uses NewCredentialsProvider with
// cfg.CredentialOptions.
func NewDiscovererWithCredentials(cfg Config, selfID string, log *zap.Logger, observer daemon.APIObserver,
	cred credentials.CredentialsProvider, source string) (*Discoverer, error) {
	if cfg.Region == "" {
		return nil, fmt.Errorf("no region: give --region, region= in --auto-join, or run on ECS where the metadata service tells it")
	}
	if cred == nil {
		return nil, fmt.Errorf("no credentials provider")
	}
	client, err := newSDKClientWith(&cfg, cred)
	if err != nil {
		return nil, err
	}
	return &Discoverer{cfg: cfg, client: client, source: source, selfID: selfID, log: log, observer: observer}, nil
}

// newSDKClient builds the SDK client with the credentials c's settings
// choose, and the name of their source. Credential refresh warnings go to log.
func newSDKClient(c *Config, log *zap.Logger) (*sdk.Client, string, error) {
	cred, source, err := NewCredentialsProvider(c.CredentialOptions(log))
	if err != nil {
		return nil, "", err
	}
	client, err := newSDKClientWith(c, cred)
	return client, source, err
}

// newSDKClientWith builds a plain SDK client (not the generated ecs.Client,
// which keeps every ECS API method alive in the binary) bound to the
// configured endpoint and signing with cred, with the SDK's retries off: the
// refresh loop owns the policy.
func newSDKClientWith(c *Config, cred credentials.CredentialsProvider) (*sdk.Client, error) {
	conf := sdk.NewConfig().WithAutoRetry(false).WithScheme(strings.ToUpper(c.EndpointScheme))
	client, err := sdk.NewClientWithOptions(c.Region, conf, cred)
	if err != nil {
		return nil, fmt.Errorf("ECS client: %w", err)
	}
	client.Domain = c.EndpointHost()
	ct, rt := c.ConnectTimeout, c.ReadTimeout
	if ct == 0 {
		ct = defaultConnectTimeout
	}
	if rt == 0 {
		rt = defaultReadTimeout
	}
	client.SetConnectTimeout(ct)
	client.SetReadTimeout(rt)
	return client, nil
}
