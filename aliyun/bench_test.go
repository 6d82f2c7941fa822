package aliyun

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"go.uber.org/zap"

	"github.com/joinhintd/joinhintd/aliyun/ecstest"
)

// BenchmarkDiscover1000 is one refresh of a 1,000-node cluster: ten signed
// DescribeInstances pages through the real SDK to the fake API on loopback,
// decoding and address selection included (the fake's own work too).
func BenchmarkDiscover1000(b *testing.B) {
	var fleet []ecstest.Instance
	for n := 1; n <= 1000; n++ {
		fleet = append(fleet, node(n, cluster1))
	}
	srv := ecstest.NewServer(ecstest.WithInstances(fleet))
	defer srv.Close()
	b.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	d, err := NewDiscoverer(testConfig(srv), "", zap.NewNop(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		peers, err := d.Discover(b.Context())
		if err != nil || len(peers) != 1000 {
			b.Fatalf("%d peers, %v", len(peers), err)
		}
	}
}

// go-discover's aliyun provider makes one DescribeInstances call with
// RegionId, Status=Running and one tag, and never pages. Against the same
// fake region of 25 nodes it sees 10; Discover sees all 25.
func TestGoDiscoverStyleCallDropsPeers(t *testing.T) {
	var fleet []ecstest.Instance
	for n := 1; n <= 25; n++ {
		fleet = append(fleet, node(n, cluster1))
	}
	srv := ecstest.NewServer(ecstest.WithInstances(fleet))
	defer srv.Close()
	noCloud(t)

	client, err := sdk.NewClientWithAccessKey("cn-hangzhou", ecstest.DefaultAccessKeyID, ecstest.DefaultAccessKeySecret)
	if err != nil {
		t.Fatal(err)
	}
	client.Domain = srv.Host
	req := ecs.CreateDescribeInstancesRequest()
	req.Scheme = "http"
	req.RegionId = "cn-hangzhou"
	req.Status = "Running"
	req.Tag = &[]ecs.DescribeInstancesTag{{Key: "vault", Value: "cluster1"}}
	resp := ecs.CreateDescribeInstancesResponse()
	if err := client.DoAction(req, resp); err != nil {
		t.Fatal(err)
	}
	single := len(resp.Instances.Instance)

	d := newDiscoverer(t, testConfig(srv), "", nil)
	peers, err := d.Discover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if single != 10 || len(peers) != 25 {
		t.Fatalf("one unpaged call saw %d, Discover saw %d; want 10 and 25", single, len(peers))
	}
	t.Logf("go-discover-style call: %d of 25 peers; joinhintd: %d", single, len(peers))
}
