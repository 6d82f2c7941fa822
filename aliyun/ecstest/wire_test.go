package ecstest

import (
	"encoding/json"
	"regexp"
	"slices"
	"testing"
	"time"
)

// TestResponseShape checks the raw JSON against the real shape: every key
// present, lists wrapped, empty lists and objects present.
func TestResponseShape(t *testing.T) {
	s := startServer(t, WithInstances([]Instance{
		{ID: "i-vpc", Name: "vault-1", HostName: "vault-1", ZoneID: "cn-hangzhou-h", VpcID: "vpc-1", VSwitchID: "vsw-1",
			PrivateIPs: []string{"172.16.1.11", "172.16.1.111"}, IPv6: []string{"2408::11"}, PublicIPs: []string{"47.96.10.11"},
			Tags: []Tag{{"vault", "cluster1"}}},
		{ID: "i-classic", NetworkType: NetworkClassic, InnerIPs: []string{"10.200.0.4"}, EIP: "47.96.10.12"},
	}))
	c := newClient(t, s, defaultCred())
	resp, err := describe(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(resp.GetHttpContentBytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"RequestId", "TotalCount", "PageNumber", "PageSize", "NextToken", "Instances"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("response lacks %s", k)
		}
	}
	if !regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`).MatchString(resp.RequestId) {
		t.Errorf("RequestId %q", resp.RequestId)
	}
	list := doc["Instances"].(map[string]any)["Instance"].([]any)
	if len(list) != 2 {
		t.Fatalf("%d instances", len(list))
	}
	classic, vpc := list[0].(map[string]any), list[1].(map[string]any)
	for _, k := range []string{"InstanceId", "InstanceName", "HostName", "Description", "Status", "RegionId", "ZoneId",
		"InstanceNetworkType", "InstanceType", "CreationTime", "VpcAttributes", "InnerIpAddress", "PublicIpAddress",
		"EipAddress", "NetworkInterfaces", "Tags", "SecurityGroupIds", "OperationLocks"} {
		if _, ok := vpc[k]; !ok {
			t.Errorf("instance lacks %s", k)
		}
		if _, ok := classic[k]; !ok {
			t.Errorf("classic instance lacks %s", k)
		}
	}
	wantJSON := func(name string, v any, want string) {
		t.Helper()
		b, _ := json.Marshal(v)
		if string(b) != want {
			t.Errorf("%s = %s, want %s", name, b, want)
		}
	}
	wantJSON("vpc EipAddress", vpc["EipAddress"], `{"AllocationId":"","Bandwidth":0,"InternetChargeType":"","IpAddress":"","IsSupportUnassociate":false}`)
	wantJSON("vpc InnerIpAddress", vpc["InnerIpAddress"], `{"IpAddress":[]}`)
	wantJSON("OperationLocks", vpc["OperationLocks"], `{"LockReason":[]}`)
	wantJSON("Tags", vpc["Tags"], `{"Tag":[{"TagKey":"vault","TagValue":"cluster1"}]}`)
	wantJSON("classic Tags", classic["Tags"], `{"Tag":[]}`)
	wantJSON("classic VpcAttributes", classic["VpcAttributes"], `{"NatIpAddress":"","PrivateIpAddress":{"IpAddress":[]},"VSwitchId":"","VpcId":""}`)
	wantJSON("classic NetworkInterfaces", classic["NetworkInterfaces"], `{"NetworkInterface":[]}`)
	wantJSON("classic InnerIpAddress", classic["InnerIpAddress"], `{"IpAddress":["10.200.0.4"]}`)
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\dZ$`).MatchString(vpc["CreationTime"].(string)) {
		t.Errorf("CreationTime %v", vpc["CreationTime"])
	}

	// The same through the SDK's typed structs.
	v := resp.Instances.Instance[1]
	if v.InstanceId != "i-vpc" || v.HostName != "vault-1" || v.InstanceNetworkType != "vpc" || v.Status != "Running" ||
		v.RegionId != "cn-hangzhou" || v.VpcAttributes.VpcId != "vpc-1" ||
		!slices.Equal(v.VpcAttributes.PrivateIpAddress.IpAddress, []string{"172.16.1.11", "172.16.1.111"}) ||
		!slices.Equal(v.PublicIpAddress.IpAddress, []string{"47.96.10.11"}) {
		t.Errorf("typed instance %+v", v)
	}
	nis := v.NetworkInterfaces.NetworkInterface
	if len(nis) != 1 || nis[0].Type != "Primary" || nis[0].PrimaryIpAddress != "172.16.1.11" ||
		len(nis[0].PrivateIpSets.PrivateIpSet) != 2 || !nis[0].PrivateIpSets.PrivateIpSet[0].Primary ||
		nis[0].PrivateIpSets.PrivateIpSet[1].Primary || len(nis[0].Ipv6Sets.Ipv6Set) != 0 ||
		!regexp.MustCompile(`^00:16:3e(:[0-9a-f]{2}){3}$`).MatchString(nis[0].MacAddress) {
		t.Errorf("primary ENI %+v", nis)
	}
	if e := resp.Instances.Instance[0].EipAddress; e.IpAddress != "47.96.10.12" || e.AllocationId == "" {
		t.Errorf("classic EIP %+v", e)
	}

	// IPv6 only with NETWORK_PRIMARY_ENI_IP.
	resp, err = describe(c, func(r *ecsRequest) { r.AdditionalAttributes = &[]string{"META_OPTIONS", "NETWORK_PRIMARY_ENI_IP"} })
	if err != nil {
		t.Fatal(err)
	}
	if set := resp.Instances.Instance[1].NetworkInterfaces.NetworkInterface[0].Ipv6Sets.Ipv6Set; len(set) != 1 || set[0].Ipv6Address != "2408::11" {
		t.Errorf("Ipv6Sets with NETWORK_PRIMARY_ENI_IP: %+v", set)
	}
}

func TestInstanceDefaultsAndCopies(t *testing.T) {
	s := startServer(t)
	in := Instance{ID: "i-1", PrivateIPs: []string{"10.0.0.1"}, Tags: []Tag{{"a", "b"}}}
	s.PutInstance(in)
	in.PrivateIPs[0] = "changed"
	in.Tags[0].Value = "changed"
	got := s.Instances()
	if len(got) != 1 || got[0].Status != StatusRunning || got[0].NetworkType != NetworkVPC || got[0].RegionID != DefaultRegion ||
		got[0].PrivateIPs[0] != "10.0.0.1" || got[0].Tags[0].Value != "b" {
		t.Errorf("stored %+v", got)
	}
	s.SetStatus("i-1", StatusStopped)
	s.SetStatus("i-missing", StatusStopped)
	if got := s.Instances(); got[0].Status != StatusStopped || len(got) != 1 {
		t.Errorf("after SetStatus %+v", got)
	}
	w := toWire(got[0], false)
	if w.CreationTime != time.Date(2024, 1, 15, 8, 0, 0, 0, time.UTC).Format(minuteLayout) || w.InstanceType == "" || len(w.SecurityGroupIDs.SecurityGroupID) != 1 {
		t.Errorf("defaults %+v", w)
	}
}
