package main

import (
	"context"
	"fmt"

	"github.com/joinhintd/joinhintd/aliyun"
	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

// demoRegion is the simulated region of `joinhintd demo`.
const demoRegion = "cn-hangzhou"

// cmdDemo is `joinhintd demo`: the daemon against an embedded, simulated ECS
// region and metadata service on loopback, so it can be tried without a cloud
// account. Nothing leaves the machine: the endpoints, the credentials and the
// metadata service are all the embedded fakes, whatever the environment says.
func cmdDemo(ctx context.Context, env environ, args []string) int {
	o := newFlagSet("demo", env.stderr)
	if code := parseFlags(o, env, args); code >= 0 {
		return code
	}
	fleet := ecstest.SampleFleet(demoRegion)
	api := ecstest.NewServer(ecstest.WithInstances(fleet))
	defer api.Close()
	md := ecstest.NewMetadataServer(ecstest.Metadata{
		RegionID:   demoRegion,
		InstanceID: fleet[0].ID,
		ZoneID:     fleet[0].ZoneID,
	})
	defer md.Close()

	cfg := aliyun.Config{
		Region:           demoRegion,
		Tags:             []aliyun.Tag{{Key: ecstest.SampleTagKey, Value: ecstest.SampleTagValue}},
		AddrType:         aliyun.AddrPrivateV4,
		Endpoint:         api.Host,
		EndpointScheme:   "http",
		Network:          "public",
		MetadataEndpoint: md.URL,
		AccessKeyID:      ecstest.DefaultAccessKeyID,
		AccessKeySecret:  ecstest.DefaultAccessKeySecret,
		CredentialSource: aliyun.SourceStatic,
		// No credential variable (ALIBABA_CLOUD_ROLE_ARN would send the
		// static keys to STS) reaches the demo.
		Getenv: func(string) string { return "" },
	}
	log, err := newLogger(env, o)
	if err != nil {
		fmt.Fprintf(env.stderr, "joinhintd: %v\n", err)
		return exitConfig
	}
	defer func() { _ = log.Sync() }()
	return serve(ctx, env, o, log, cfg, func(addr string) {
		fmt.Fprintf(env.stdout, `joinhintd demo: a simulated ECS region %s with %d instances, %d of them tagged %s=%s and running.
This node is %s. Try:
  curl http://%s/v1/peers
  curl 'http://%s/v1/peers?format=text'
  curl http://%s/v1/retry-join
  curl http://%s/-/ready
  curl http://%s/metrics
Stop with Ctrl-C.
`, demoRegion, len(fleet), ecstest.SampleNodes, ecstest.SampleTagKey, ecstest.SampleTagValue, fleet[0].ID, addr, addr, addr, addr, addr)
	})
}
