package ecstest

import (
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestSampleFleet(t *testing.T) {
	for _, region := range []string{"cn-hangzhou", "cn-beijing", "ap-southeast-1", "eu-central-1"} {
		t.Run(region, func(t *testing.T) {
			s := startServer(t, WithInstances(SampleFleet(region)))
			c := newClient(t, s, defaultCred())
			tag := &[]ecs.DescribeInstancesTag{{Key: SampleTagKey, Value: SampleTagValue}}
			for _, tc := range []struct {
				name      string
				edit      func(*ecsRequest)
				wantNames []string
			}{
				{"cluster members", func(r *ecsRequest) { r.Tag = tag; r.Status = StatusRunning },
					[]string{"vault-1", "vault-2", "vault-3"}},
				{"tag without status adds the stopped node", func(r *ecsRequest) { r.Tag = tag },
					[]string{"vault-1", "vault-2", "vault-3", "vault-4"}},
				{"key only adds the other cluster", func(r *ecsRequest) {
					r.Tag = &[]ecs.DescribeInstancesTag{{Key: SampleTagKey}}
					r.Status = StatusRunning
				}, []string{"vault-1", "vault-2", "vault-3", "vault-other-1"}},
				{"everything", nil, []string{"vault-1", "vault-2", "vault-3", "vault-4", "vault-other-1", "bastion", "consul-1"}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					resp, err := describe(c, func(r *ecsRequest) {
						r.RegionId = region
						if tc.edit != nil {
							tc.edit(r)
						}
					})
					if err != nil {
						t.Fatal(err)
					}
					var names []string
					for _, in := range resp.Instances.Instance {
						names = append(names, in.InstanceName)
					}
					if !slices.Equal(names, tc.wantNames) {
						t.Errorf("got %v, want %v", names, tc.wantNames)
					}
				})
			}
		})
	}
	fleet := SampleFleet("cn-hangzhou")
	for i, in := range fleet[:SampleNodes] {
		if in.PrivateIPs[0] != "172.16.1.1"+string(rune('1'+i)) || in.ZoneID != "cn-hangzhou-h" ||
			!strings.HasPrefix(in.VpcID, "vpc-bp1demo") || len(in.IPv6) != 1 || len(in.PublicIPs) != 1 {
			t.Errorf("node %d: %+v", i, in)
		}
	}
	fleet[0].Tags[0].Value = "mutated"
	if SampleFleet("cn-hangzhou")[0].Tags[0].Value != SampleTagValue {
		t.Error("SampleFleet shares slices between calls")
	}
	if md := SampleMetadata("cn-hangzhou"); md.InstanceID != fleet[0].ID || md.PrivateIPv4 != "172.16.1.11" || md.RoleName != SampleRoleName {
		t.Errorf("SampleMetadata %+v", md)
	}
}
