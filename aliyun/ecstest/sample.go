package ecstest

import "fmt"

// The demo fleet of SampleFleet: query tag SampleTagKey=SampleTagValue with
// Status=Running to find exactly the SampleNodes cluster members.
const (
	SampleTagKey   = "vault"
	SampleTagValue = "cluster1"
	SampleNodes    = 3
	SampleRegion   = DefaultRegion
	SampleRoleName = "joinhintd-demo"
)

// SampleFleet returns the demo fleet in region: three running Vault nodes
// vault-1..3 tagged vault=cluster1 (and env=demo), private IPs
// 172.16.1.11-13, public IPs 47.96.10.11-13, IPv6 2408:4005:3ff:1a00::11-13,
// zone <region>-h, one VPC and vSwitch; plus four decoys in the same VPC: a
// running node of another cluster (vault=cluster2), a stopped vault=cluster1
// node, an untagged bastion and a node carrying another tag key
// (consul=cluster1). Every call returns fresh slices.
func SampleFleet(region string) []Instance {
	p := regionIDPrefix(region)
	zone := region + "-h"
	vpc := "vpc-" + p + "demo0000000001"
	vsw := "vsw-" + p + "demo0000000001"
	inst := func(n int, name, status string, ip string, tags ...Tag) Instance {
		return Instance{
			ID:          fmt.Sprintf("i-%sdemo%08d", p, n),
			Name:        name,
			HostName:    name,
			RegionID:    region,
			ZoneID:      zone,
			Status:      status,
			NetworkType: NetworkVPC,
			VpcID:       vpc,
			VSwitchID:   vsw,
			PrivateIPs:  []string{ip},
			Tags:        tags,
		}
	}
	cluster1 := func() []Tag { return []Tag{{SampleTagKey, SampleTagValue}, {"env", "demo"}} }
	var fleet []Instance
	for n := 1; n <= SampleNodes; n++ {
		in := inst(n, fmt.Sprintf("vault-%d", n), StatusRunning, fmt.Sprintf("172.16.1.%d", 10+n), cluster1()...)
		in.PublicIPs = []string{fmt.Sprintf("47.96.10.%d", 10+n)}
		in.IPv6 = []string{fmt.Sprintf("2408:4005:3ff:1a00::%d", 10+n)}
		in.Description = "Vault server (demo)"
		fleet = append(fleet, in)
	}
	fleet = append(fleet,
		inst(4, "vault-4", StatusStopped, "172.16.1.14", cluster1()...),
		inst(5, "vault-other-1", StatusRunning, "172.16.1.21", Tag{SampleTagKey, "cluster2"}),
		inst(6, "bastion", StatusRunning, "172.16.1.5"),
		inst(7, "consul-1", StatusRunning, "172.16.1.31", Tag{"consul", SampleTagValue}),
	)
	fleet[5].EIP = "47.96.10.99" // the bastion
	return fleet
}

// SampleMetadata returns the metadata of vault-1 of SampleFleet(region), with
// role SampleRoleName attached but no RoleCredential set.
func SampleMetadata(region string) Metadata {
	first := SampleFleet(region)[0]
	return Metadata{
		RegionID:    region,
		InstanceID:  first.ID,
		ZoneID:      first.ZoneID,
		PrivateIPv4: first.PrivateIPs[0],
		Hostname:    first.HostName,
		VpcID:       first.VpcID,
		RoleName:    SampleRoleName,
	}
}

// regionIDPrefix is the resource id prefix Alibaba Cloud uses in region, so
// the sample ids look like that region's.
func regionIDPrefix(region string) string {
	switch region {
	case "cn-hangzhou":
		return "bp1"
	case "cn-shanghai":
		return "uf6"
	case "cn-beijing":
		return "2ze"
	case "cn-shenzhen":
		return "wz9"
	case "ap-southeast-1":
		return "t4n"
	}
	return "x0"
}
