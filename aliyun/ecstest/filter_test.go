package ecstest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// filterFleet has one instance per interesting property.
func filterFleet() []Instance {
	return []Instance{
		{ID: "i-a", Name: "vault-a", RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-h", VpcID: "vpc-1", VSwitchID: "vsw-1",
			PrivateIPs: []string{"10.0.0.1"}, Tags: []Tag{{"vault", "cluster1"}, {"env", "prod"}}},
		{ID: "i-b", Name: "vault-b", RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-i", VpcID: "vpc-1", VSwitchID: "vsw-2",
			PrivateIPs: []string{"10.0.0.2"}, Tags: []Tag{{"vault", "cluster1"}, {"env", "dev"}}},
		{ID: "i-c", Name: "vault-c", RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-h", VpcID: "vpc-2", Status: StatusStopped,
			PrivateIPs: []string{"10.1.0.3"}, Tags: []Tag{{"vault", "cluster2"}}},
		{ID: "i-d", Name: "old-d", RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-h", NetworkType: NetworkClassic,
			InnerIPs: []string{"10.200.0.4"}, PublicIPs: []string{"47.1.1.4"}, Tags: []Tag{{"vault", ""}}},
		{ID: "i-e", Name: "db-e", RegionID: "cn-hangzhou", ZoneID: "cn-hangzhou-i", VpcID: "vpc-1", Status: StatusPending,
			PrivateIPs: []string{"10.0.0.5"}, EIP: "47.1.1.5"},
		{ID: "i-f", Name: "vault-f", RegionID: "cn-beijing", ZoneID: "cn-beijing-a", VpcID: "vpc-9",
			PrivateIPs: []string{"10.9.0.6"}, Tags: []Tag{{"vault", "cluster1"}}},
	}
}

func TestFiltersWithSDK(t *testing.T) {
	s := startServer(t, WithInstances(filterFleet()))
	c := newClient(t, s, defaultCred())
	tags := func(kv ...string) *[]ecs.DescribeInstancesTag {
		var out []ecs.DescribeInstancesTag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, ecs.DescribeInstancesTag{Key: kv[i], Value: kv[i+1]})
		}
		return &out
	}
	for _, tc := range []struct {
		name   string
		edit   func(*ecsRequest)
		want   []string
		code   string
		status int
	}{
		{"region only", nil, []string{"i-a", "i-b", "i-c", "i-d", "i-e"}, "", 0},
		{"other region", func(r *ecsRequest) { r.RegionId = "cn-beijing" }, []string{"i-f"}, "", 0},
		{"known region without instances", func(r *ecsRequest) { r.RegionId = "ap-southeast-1" }, []string{}, "", 0},
		{"unknown region", func(r *ecsRequest) { r.RegionId = "cn-atlantis" }, nil, "InvalidRegionId.NotFound", 404},
		{"status running", func(r *ecsRequest) { r.Status = "Running" }, []string{"i-a", "i-b", "i-d"}, "", 0},
		{"status stopped", func(r *ecsRequest) { r.Status = "Stopped" }, []string{"i-c"}, "", 0},
		{"status is case-sensitive", func(r *ecsRequest) { r.Status = "running" }, nil, "InvalidStatus.NotFound", 404},
		{"status unknown", func(r *ecsRequest) { r.Status = "Deleted" }, nil, "InvalidStatus.NotFound", 404},
		{"tag key and value", func(r *ecsRequest) { r.Tag = tags("vault", "cluster1") }, []string{"i-a", "i-b"}, "", 0},
		{"two tags are ANDed", func(r *ecsRequest) { r.Tag = tags("vault", "cluster1", "env", "prod") }, []string{"i-a"}, "", 0},
		{"AND with no common instance", func(r *ecsRequest) { r.Tag = tags("vault", "cluster2", "env", "prod") }, []string{}, "", 0},
		{"key without value matches any value", func(r *ecsRequest) { r.Tag = tags("vault", "") }, []string{"i-a", "i-b", "i-c", "i-d"}, "", 0},
		{"tag value is exact", func(r *ecsRequest) { r.Tag = tags("vault", "Cluster1") }, []string{}, "", 0},
		{"tag and status", func(r *ecsRequest) { r.Tag = tags("vault", ""); r.Status = "Running" }, []string{"i-a", "i-b", "i-d"}, "", 0},
		{"value without key", func(r *ecsRequest) { r.Tag = tags("", "cluster1") }, nil, "InvalidTag.Mismatch", 400},
		{"20 tags", func(r *ecsRequest) { r.Tag = manyTags(20) }, []string{}, "", 0},
		{"21 tags", func(r *ecsRequest) { r.Tag = manyTags(21) }, nil, "InvalidTagCount", 400},
		{"vpc", func(r *ecsRequest) { r.VpcId = "vpc-1" }, []string{"i-a", "i-b", "i-e"}, "", 0},
		{"vswitch", func(r *ecsRequest) { r.VSwitchId = "vsw-2" }, []string{"i-b"}, "", 0},
		{"zone", func(r *ecsRequest) { r.ZoneId = "cn-hangzhou-i" }, []string{"i-b", "i-e"}, "", 0},
		{"vpc and zone", func(r *ecsRequest) { r.VpcId = "vpc-1"; r.ZoneId = "cn-hangzhou-h" }, []string{"i-a"}, "", 0},
		{"network classic", func(r *ecsRequest) { r.InstanceNetworkType = "classic" }, []string{"i-d"}, "", 0},
		{"network vpc", func(r *ecsRequest) { r.InstanceNetworkType = "vpc" }, []string{"i-a", "i-b", "i-c", "i-e"}, "", 0},
		{"network unknown", func(r *ecsRequest) { r.InstanceNetworkType = "VPC" }, nil, "InvalidNetworkType.NotFound", 404},
		{"instance ids", func(r *ecsRequest) { r.InstanceIds = `["i-e","i-a","i-f"]` }, []string{"i-a", "i-e"}, "", 0},
		{"instance ids empty array", func(r *ecsRequest) { r.InstanceIds = `[]` }, []string{}, "", 0},
		{"instance ids malformed", func(r *ecsRequest) { r.InstanceIds = `i-a,i-b` }, nil, "InvalidInstanceIds.Malformed", 400},
		{"instance ids over 100", func(r *ecsRequest) { r.InstanceIds = idList(101) }, nil, "InvalidInstanceIds.Malformed", 400},
		{"private ips", func(r *ecsRequest) { r.PrivateIpAddresses = `["10.0.0.2","10.200.0.4"]` }, []string{"i-b"}, "", 0},
		{"inner ips", func(r *ecsRequest) { r.InnerIpAddresses = `["10.200.0.4"]` }, []string{"i-d"}, "", 0},
		{"public ips", func(r *ecsRequest) { r.PublicIpAddresses = `["47.1.1.4"]` }, []string{"i-d"}, "", 0},
		{"eips", func(r *ecsRequest) { r.EipAddresses = `["47.1.1.5"]` }, []string{"i-e"}, "", 0},
		{"name wildcard", func(r *ecsRequest) { r.InstanceName = "vault-*" }, []string{"i-a", "i-b", "i-c"}, "", 0},
		{"name exact", func(r *ecsRequest) { r.InstanceName = "db-e" }, []string{"i-e"}, "", 0},
		{"unmodelled filter refused", func(r *ecsRequest) { r.SecurityGroupId = "sg-1" }, nil, codeFilterNotImplemented, 400},
		{"deprecated lower-case tag", func(r *ecsRequest) {
			r.QueryParams["Tag.1.key"] = "env"
			r.QueryParams["Tag.1.value"] = "dev"
		}, []string{"i-b"}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := describe(c, func(r *ecsRequest) {
				r.PageSize = "100"
				if tc.edit != nil {
					tc.edit(r)
				}
			})
			wantCode(t, err, tc.code, tc.status)
			if tc.code != "" {
				return
			}
			if got := ids(resp); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if resp.TotalCount != len(tc.want) {
				t.Errorf("TotalCount %d, want %d", resp.TotalCount, len(tc.want))
			}
		})
	}
}

func manyTags(n int) *[]ecs.DescribeInstancesTag {
	out := make([]ecs.DescribeInstancesTag, n)
	for i := range out {
		out[i] = ecs.DescribeInstancesTag{Key: fmt.Sprintf("k%d", i+1), Value: "v"}
	}
	return &out
}

func idList(n int) string {
	s := "["
	for i := 0; i < n; i++ {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("%q", fmt.Sprintf("i-%d", i))
	}
	return s + "]"
}

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"vault", "vault", true},
		{"vault", "vault-1", false},
		{"vault*", "vault-1", true},
		{"*-1", "vault-1", true},
		{"*", "", true},
		{"v*t*1", "vault-1", true},
		{"a*a", "a", false},
		{"*ult*", "vault-1", true},
	} {
		t.Run(tc.pattern+"/"+tc.name, func(t *testing.T) {
			if got := wildcardMatch(tc.pattern, tc.name); got != tc.want {
				t.Errorf("wildcardMatch(%q, %q) = %v", tc.pattern, tc.name, got)
			}
		})
	}
}
