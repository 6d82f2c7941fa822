package aliyun

import (
	"fmt"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
)

// Default per-call timeouts: the SDK's own.
const (
	defaultConnectTimeout = 5 * time.Second
	defaultReadTimeout    = 10 * time.Second
)

// newSDKClient builds a plain SDK client (not the generated ecs.Client, which
// keeps every ECS API method alive in the binary) bound to the configured
// endpoint, with the SDK's retries off: the refresh loop owns the policy.
func newSDKClient(c *Config) (*sdk.Client, string, error) {
	cred, source := credentialProvider(c)
	conf := sdk.NewConfig().WithAutoRetry(false).WithScheme(strings.ToUpper(c.EndpointScheme))
	client, err := sdk.NewClientWithOptions(c.Region, conf, cred)
	if err != nil {
		return nil, "", fmt.Errorf("ECS client: %w", err)
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
	return client, source, nil
}

// credentialProvider returns the static keys of the auto_join string when
// given, else the SDK's default chain (environment, OIDC, profile files, ECS
// RAM role, credentials URI), with the name logs show for it.
func credentialProvider(c *Config) (credentials.CredentialsProvider, string) {
	if c.AccessKeyID != "" {
		return credentials.NewStaticAKCredentialsProvider(c.AccessKeyID, c.AccessKeySecret), "auto_join"
	}
	return credentials.NewDefaultCredentialsProvider(), "default_chain"
}
