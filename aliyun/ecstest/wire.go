package ecstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// The JSON shapes of DescribeInstances, field for field as the real API sends
// them (ecs-api.md §1.2): one wrapping level for every list, empty lists and
// objects present rather than omitted.

type wireError struct {
	RequestID          string          `json:"RequestId"`
	HostID             string          `json:"HostId"`
	Code               string          `json:"Code"`
	Message            string          `json:"Message"`
	Recommend          string          `json:"Recommend"`
	AccessDeniedDetail *wireDenyDetail `json:"AccessDeniedDetail,omitempty"`
}

type wireDenyDetail struct {
	AuthAction        string `json:"AuthAction"`
	AuthPrincipalType string `json:"AuthPrincipalType"`
	NoPermissionType  string `json:"NoPermissionType"`
	PolicyType        string `json:"PolicyType"`
}

type wireResponse struct {
	RequestID  string        `json:"RequestId"`
	TotalCount int           `json:"TotalCount"`
	PageNumber int           `json:"PageNumber"`
	PageSize   int           `json:"PageSize"`
	NextToken  string        `json:"NextToken"`
	Instances  wireInstances `json:"Instances"`
}

type wireInstances struct {
	Instance []wireInstance `json:"Instance"`
}

type wireIPList struct {
	IPAddress []string `json:"IpAddress"`
}

type wireInstance struct {
	InstanceID              string                `json:"InstanceId"`
	InstanceName            string                `json:"InstanceName"`
	HostName                string                `json:"HostName"`
	Description             string                `json:"Description"`
	Status                  string                `json:"Status"`
	RegionID                string                `json:"RegionId"`
	ZoneID                  string                `json:"ZoneId"`
	InstanceNetworkType     string                `json:"InstanceNetworkType"`
	InstanceType            string                `json:"InstanceType"`
	InstanceTypeFamily      string                `json:"InstanceTypeFamily"`
	ImageID                 string                `json:"ImageId"`
	OSName                  string                `json:"OSName"`
	OSType                  string                `json:"OSType"`
	Cpu                     int                   `json:"Cpu"`
	Memory                  int                   `json:"Memory"`
	CreationTime            string                `json:"CreationTime"`
	StartTime               string                `json:"StartTime"`
	ExpiredTime             string                `json:"ExpiredTime"`
	AutoReleaseTime         string                `json:"AutoReleaseTime"`
	InstanceChargeType      string                `json:"InstanceChargeType"`
	InternetChargeType      string                `json:"InternetChargeType"`
	InternetMaxBandwidthIn  int                   `json:"InternetMaxBandwidthIn"`
	InternetMaxBandwidthOut int                   `json:"InternetMaxBandwidthOut"`
	SerialNumber            string                `json:"SerialNumber"`
	StoppedMode             string                `json:"StoppedMode"`
	IoOptimized             bool                  `json:"IoOptimized"`
	DeletionProtection      bool                  `json:"DeletionProtection"`
	ResourceGroupID         string                `json:"ResourceGroupId"`
	KeyPairName             string                `json:"KeyPairName"`
	DeploymentSetID         string                `json:"DeploymentSetId"`
	VpcAttributes           wireVpcAttributes     `json:"VpcAttributes"`
	InnerIPAddress          wireIPList            `json:"InnerIpAddress"`
	PublicIPAddress         wireIPList            `json:"PublicIpAddress"`
	EipAddress              wireEip               `json:"EipAddress"`
	NetworkInterfaces       wireNetworkInterfaces `json:"NetworkInterfaces"`
	Tags                    wireTags              `json:"Tags"`
	SecurityGroupIDs        wireSecurityGroupIDs  `json:"SecurityGroupIds"`
	OperationLocks          wireOperationLocks    `json:"OperationLocks"`
	MetadataOptions         wireMetadataOptions   `json:"MetadataOptions"`
}

type wireVpcAttributes struct {
	VpcID            string     `json:"VpcId"`
	VSwitchID        string     `json:"VSwitchId"`
	NatIPAddress     string     `json:"NatIpAddress"`
	PrivateIPAddress wireIPList `json:"PrivateIpAddress"`
}

type wireEip struct {
	AllocationID         string `json:"AllocationId"`
	IPAddress            string `json:"IpAddress"`
	Bandwidth            int    `json:"Bandwidth"`
	InternetChargeType   string `json:"InternetChargeType"`
	IsSupportUnassociate bool   `json:"IsSupportUnassociate"`
}

type wireNetworkInterfaces struct {
	NetworkInterface []wireNetworkInterface `json:"NetworkInterface"`
}

type wireNetworkInterface struct {
	Type               string            `json:"Type"`
	NetworkInterfaceID string            `json:"NetworkInterfaceId"`
	MacAddress         string            `json:"MacAddress"`
	PrimaryIPAddress   string            `json:"PrimaryIpAddress"`
	PrivateIPSets      wirePrivateIPSets `json:"PrivateIpSets"`
	Ipv6Sets           wireIpv6Sets      `json:"Ipv6Sets"`
}

type wirePrivateIPSets struct {
	PrivateIPSet []wirePrivateIPSet `json:"PrivateIpSet"`
}

type wirePrivateIPSet struct {
	PrivateIPAddress string `json:"PrivateIpAddress"`
	Primary          bool   `json:"Primary"`
}

type wireIpv6Sets struct {
	Ipv6Set []wireIpv6Set `json:"Ipv6Set"`
}

type wireIpv6Set struct {
	Ipv6Address string `json:"Ipv6Address"`
}

type wireTags struct {
	Tag []wireTag `json:"Tag"`
}

type wireTag struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

type wireSecurityGroupIDs struct {
	SecurityGroupID []string `json:"SecurityGroupId"`
}

type wireOperationLocks struct {
	LockReason []wireLockReason `json:"LockReason"`
}

type wireLockReason struct {
	LockReason string `json:"LockReason"`
}

type wireMetadataOptions struct {
	HTTPEndpoint            string `json:"HttpEndpoint"`
	HTTPTokens              string `json:"HttpTokens"`
	HTTPPutResponseHopLimit int    `json:"HttpPutResponseHopLimit"`
}

// minuteLayout is the minute-precision ISO 8601 form the API uses for
// CreationTime and friends.
const minuteLayout = "2006-01-02T15:04Z"

// toWire renders one instance. withIPv6 is whether NETWORK_PRIMARY_ENI_IP was
// requested: only then does the primary ENI carry its Ipv6Sets.
func toWire(in Instance, withIPv6 bool) wireInstance {
	created := in.CreationTime
	if created.IsZero() {
		created = time.Date(2024, 1, 15, 8, 0, 0, 0, time.UTC)
	}
	instType := in.InstanceType
	if instType == "" {
		instType = "ecs.g7.large"
	}
	w := wireInstance{
		InstanceID:          in.ID,
		InstanceName:        in.Name,
		HostName:            in.HostName,
		Description:         in.Description,
		Status:              in.Status,
		RegionID:            in.RegionID,
		ZoneID:              in.ZoneID,
		InstanceNetworkType: in.NetworkType,
		InstanceType:        instType,
		InstanceTypeFamily:  typeFamily(instType),
		ImageID:             "aliyun_3_x64_20G_alibase_20240819.vhd",
		OSName:              "Alibaba Cloud Linux 3.2104 LTS 64 bit",
		OSType:              "linux",
		Cpu:                 2,
		Memory:              8192,
		CreationTime:        created.UTC().Format(minuteLayout),
		StartTime:           created.UTC().Format(minuteLayout),
		ExpiredTime:         "2099-12-31T15:59Z",
		InstanceChargeType:  "PostPaid",
		InternetChargeType:  "PayByTraffic",
		SerialNumber:        derivedUUID(in.ID),
		StoppedMode:         "Not-applicable",
		IoOptimized:         true,
		VpcAttributes:       wireVpcAttributes{PrivateIPAddress: ipList(nil)},
		InnerIPAddress:      ipList(nil),
		PublicIPAddress:     ipList(in.PublicIPs),
		EipAddress:          eip(in),
		NetworkInterfaces:   wireNetworkInterfaces{NetworkInterface: []wireNetworkInterface{}},
		Tags:                tags(in.Tags),
		SecurityGroupIDs:    wireSecurityGroupIDs{SecurityGroupID: securityGroups(in)},
		OperationLocks:      wireOperationLocks{LockReason: []wireLockReason{}},
		MetadataOptions:     wireMetadataOptions{HTTPEndpoint: "enabled", HTTPTokens: "optional", HTTPPutResponseHopLimit: 1},
	}
	if len(in.PublicIPs) > 0 || in.EIP != "" {
		w.InternetMaxBandwidthOut = 5
		w.InternetMaxBandwidthIn = 100
	}
	if in.NetworkType == NetworkClassic {
		w.InnerIPAddress = ipList(in.InnerIPs)
		return w
	}
	w.VpcAttributes = wireVpcAttributes{
		VpcID:            in.VpcID,
		VSwitchID:        in.VSwitchID,
		PrivateIPAddress: ipList(in.PrivateIPs),
	}
	w.NetworkInterfaces.NetworkInterface = []wireNetworkInterface{primaryENI(in, withIPv6)}
	return w
}

func primaryENI(in Instance, withIPv6 bool) wireNetworkInterface {
	sum := digest(in.ID)
	eni := wireNetworkInterface{
		Type:               "Primary",
		NetworkInterfaceID: "eni-" + sum[:20],
		MacAddress:         fmt.Sprintf("00:16:3e:%s:%s:%s", sum[0:2], sum[2:4], sum[4:6]),
		PrivateIPSets:      wirePrivateIPSets{PrivateIPSet: []wirePrivateIPSet{}},
		Ipv6Sets:           wireIpv6Sets{Ipv6Set: []wireIpv6Set{}},
	}
	for i, ip := range in.PrivateIPs {
		if i == 0 {
			eni.PrimaryIPAddress = ip
		}
		eni.PrivateIPSets.PrivateIPSet = append(eni.PrivateIPSets.PrivateIPSet, wirePrivateIPSet{PrivateIPAddress: ip, Primary: i == 0})
	}
	if withIPv6 {
		for _, ip := range in.IPv6 {
			eni.Ipv6Sets.Ipv6Set = append(eni.Ipv6Sets.Ipv6Set, wireIpv6Set{Ipv6Address: ip})
		}
	}
	return eni
}

func eip(in Instance) wireEip {
	if in.EIP == "" {
		return wireEip{}
	}
	return wireEip{
		AllocationID:         "eip-" + digest("eip/" + in.ID)[:20],
		IPAddress:            in.EIP,
		Bandwidth:            5,
		InternetChargeType:   "PayByTraffic",
		IsSupportUnassociate: true,
	}
}

func securityGroups(in Instance) []string {
	if len(in.SecurityGroupIDs) > 0 {
		return append([]string(nil), in.SecurityGroupIDs...)
	}
	return []string{"sg-" + digest("sg/" + in.VpcID)[:20]}
}

func tags(in []Tag) wireTags {
	out := wireTags{Tag: make([]wireTag, 0, len(in))}
	for _, t := range in {
		out.Tag = append(out.Tag, wireTag{TagKey: t.Key, TagValue: t.Value})
	}
	return out
}

func ipList(ips []string) wireIPList {
	return wireIPList{IPAddress: append(make([]string, 0, len(ips)), ips...)}
}

func typeFamily(instType string) string {
	if i := strings.LastIndexByte(instType, '.'); i > 0 {
		return instType[:i]
	}
	return instType
}

// digest is a stable hex string derived from s, for ids and MAC addresses that
// must look real and stay the same from call to call.
func digest(s string) string {
	h := fnv.New128a()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func derivedUUID(s string) string {
	d := digest("sn/" + s)
	return d[0:8] + "-" + d[8:12] + "-" + d[12:16] + "-" + d[16:20] + "-" + d[20:32]
}

// newRequestID returns a fresh upper-case UUID-shaped id, as the API's
// RequestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	d := strings.ToUpper(hex.EncodeToString(b[:]))
	return d[0:8] + "-" + d[8:12] + "-" + d[12:16] + "-" + d[16:20] + "-" + d[20:32]
}

// newToken returns a fresh opaque 32-hex-digit token like the API's NextToken.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
