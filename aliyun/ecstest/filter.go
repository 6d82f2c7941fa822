package ecstest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

// Instance statuses ([DOC-STATES]).
const (
	StatusPending  = "Pending"
	StatusStarting = "Starting"
	StatusRunning  = "Running"
	StatusStopping = "Stopping"
	StatusStopped  = "Stopped"
)

// Network types (InstanceNetworkType).
const (
	NetworkVPC     = "vpc"
	NetworkClassic = "classic"
)

// maxTags is the highest N accepted in Tag.N.Key / Tag.N.Value.
const maxTags = 20

// maxIDList is the most entries a JSON array filter (InstanceIds, ...) takes.
const maxIDList = 100

// attrPrimaryENIIP is the AdditionalAttributes value that makes the primary
// ENI carry its IPv6 addresses.
const attrPrimaryENIIP = "NETWORK_PRIMARY_ENI_IP"

// unimplementedFilter reports whether name is a DescribeInstances parameter
// that narrows the result on the real API but that the fake does not model;
// such parameters are refused rather than ignored.
func unimplementedFilter(name string) bool {
	switch name {
	case "SecurityGroupId", "ImageId", "InstanceType", "InstanceTypeFamily",
		"ResourceGroupId", "KeyPairName", "InstanceChargeType", "InternetChargeType",
		"IoOptimized", "LockReason", "DeviceAvailable", "HpcClusterId",
		"RdmaIpAddresses", "HttpEndpoint", "HttpTokens", "HttpPutResponseHopLimit",
		"NeedSaleCycle":
		return true
	}
	return strings.HasPrefix(name, "Filter.") || strings.HasPrefix(name, "Ipv6Address.")
}

// tagFilter is one Tag.N: key, and value unless anyValue.
type tagFilter struct {
	key, value string
	anyValue   bool
}

// query is a validated DescribeInstances request (everything but paging).
type query struct {
	region      string
	status      string
	tags        []tagFilter
	vpcID       string
	vswitchID   string
	zoneID      string
	networkType string
	name        string
	ids         map[string]bool // nil: no InstanceIds filter
	privateIPs  map[string]bool
	innerIPs    map[string]bool
	publicIPs   map[string]bool
	eips        map[string]bool
	wantIPv6    bool
	dryRun      bool
}

// parseQuery validates the DescribeInstances parameters of p against the
// known regions.
func parseQuery(p url.Values, knownRegion func(string) bool) (query, *apiError) {
	var q query
	q.region = p.Get("RegionId")
	if q.region == "" {
		return q, errMissing("RegionId")
	}
	if !knownRegion(q.region) {
		return q, errRegionNotFound()
	}
	for name := range p {
		if unimplementedFilter(name) && p.Get(name) != "" {
			return q, errNotImplemented(name)
		}
	}
	if q.status = p.Get("Status"); q.status != "" && !validStatus(q.status) {
		return q, errStatusNotFound()
	}
	if q.networkType = p.Get("InstanceNetworkType"); q.networkType != "" &&
		q.networkType != NetworkVPC && q.networkType != NetworkClassic {
		return q, errNetworkTypeNotFound()
	}
	var err *apiError
	if q.tags, err = parseTags(p); err != nil {
		return q, err
	}
	q.vpcID, q.vswitchID, q.zoneID = p.Get("VpcId"), p.Get("VSwitchId"), p.Get("ZoneId")
	q.name = p.Get("InstanceName")
	lists := []struct {
		name string
		dst  *map[string]bool
		bad  func() *apiError
	}{
		{"InstanceIds", &q.ids, errInstanceIDs},
		{"PrivateIpAddresses", &q.privateIPs, func() *apiError { return errInvalidParam("InvalidParameter", "PrivateIpAddresses") }},
		{"InnerIpAddresses", &q.innerIPs, func() *apiError { return errInvalidParam("InvalidParameter", "InnerIpAddresses") }},
		{"PublicIpAddresses", &q.publicIPs, func() *apiError { return errInvalidParam("InvalidParameter", "PublicIpAddresses") }},
		{"EipAddresses", &q.eips, func() *apiError { return errInvalidParam("InvalidParameter", "EipAddresses") }},
	}
	for _, l := range lists {
		if _, ok := p[l.name]; !ok {
			continue
		}
		set, ok := parseJSONList(p.Get(l.name))
		if !ok {
			return q, l.bad()
		}
		*l.dst = set
	}
	for name, vs := range p {
		if strings.HasPrefix(name, "AdditionalAttributes.") {
			for _, v := range vs {
				if v == attrPrimaryENIIP {
					q.wantIPv6 = true
				}
			}
		}
	}
	q.dryRun = strings.EqualFold(p.Get("DryRun"), "true")
	return q, nil
}

func validStatus(s string) bool {
	switch s {
	case StatusPending, StatusStarting, StatusRunning, StatusStopping, StatusStopped:
		return true
	}
	return false
}

// parseTags reads Tag.N.Key / Tag.N.Value (and the deprecated lower-case
// Tag.N.key / Tag.N.value). N must be 1..20: a larger N is InvalidTagCount, a
// value without its key InvalidTag.Mismatch. An empty key counts as absent.
func parseTags(p url.Values) ([]tagFilter, *apiError) {
	type pair struct {
		key, value       string
		hasKey, hasValue bool
	}
	byN := map[int]*pair{}
	for name := range p {
		rest, ok := strings.CutPrefix(name, "Tag.")
		if !ok {
			continue
		}
		nStr, field, ok := strings.Cut(rest, ".")
		if !ok {
			return nil, errInvalidParam("InvalidParameter", name)
		}
		n, err := strconv.Atoi(nStr)
		if err != nil || n < 1 {
			return nil, errInvalidParam("InvalidParameter", name)
		}
		if n > maxTags {
			return nil, errTagCount()
		}
		pr := byN[n]
		if pr == nil {
			pr = &pair{}
			byN[n] = pr
		}
		v := p.Get(name)
		switch field {
		case "Key", "key":
			if v != "" {
				pr.key, pr.hasKey = v, true
			}
		case "Value", "value":
			pr.value, pr.hasValue = v, true
		default:
			return nil, errInvalidParam("InvalidParameter", name)
		}
	}
	var out []tagFilter
	for n := 1; n <= maxTags; n++ {
		pr := byN[n]
		if pr == nil {
			continue
		}
		if !pr.hasKey {
			if pr.hasValue {
				return nil, errTagMismatch()
			}
			continue
		}
		out = append(out, tagFilter{key: pr.key, value: pr.value, anyValue: !pr.hasValue})
	}
	return out, nil
}

// parseJSONList reads a JSON array of strings of at most maxIDList entries.
// An empty array is a valid filter that matches nothing.
func parseJSONList(s string) (map[string]bool, bool) {
	var list []string
	if err := json.Unmarshal([]byte(s), &list); err != nil || list == nil || len(list) > maxIDList {
		return nil, false
	}
	set := make(map[string]bool, len(list))
	for _, v := range list {
		set[v] = true
	}
	return set, true
}

// match reports whether in passes every filter of q.
func (q *query) match(in *Instance) bool {
	if in.RegionID != q.region {
		return false
	}
	if q.status != "" && in.Status != q.status {
		return false
	}
	if q.networkType != "" && in.NetworkType != q.networkType {
		return false
	}
	if q.vpcID != "" && in.VpcID != q.vpcID {
		return false
	}
	if q.vswitchID != "" && in.VSwitchID != q.vswitchID {
		return false
	}
	if q.zoneID != "" && in.ZoneID != q.zoneID {
		return false
	}
	if q.name != "" && !wildcardMatch(q.name, in.Name) {
		return false
	}
	if q.ids != nil && !q.ids[in.ID] {
		return false
	}
	if !anyIn(q.privateIPs, privateIPs(in)) || !anyIn(q.innerIPs, innerIPs(in)) ||
		!anyIn(q.publicIPs, in.PublicIPs) || !anyIn(q.eips, nonEmpty(in.EIP)) {
		return false
	}
	for _, t := range q.tags {
		if !hasTag(in.Tags, t) {
			return false
		}
	}
	return true
}

func privateIPs(in *Instance) []string {
	if in.NetworkType == NetworkClassic {
		return nil
	}
	return in.PrivateIPs
}

func innerIPs(in *Instance) []string {
	if in.NetworkType == NetworkClassic {
		return in.InnerIPs
	}
	return nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// anyIn is true when there is no filter (nil set) or one of have is in it.
func anyIn(set map[string]bool, have []string) bool {
	if set == nil {
		return true
	}
	for _, h := range have {
		if set[h] {
			return true
		}
	}
	return false
}

func hasTag(tags []Tag, f tagFilter) bool {
	for _, t := range tags {
		if t.Key == f.key && (f.anyValue || t.Value == f.value) {
			return true
		}
	}
	return false
}

// wildcardMatch matches name against pattern, where * stands for any run of
// characters (InstanceName's only wildcard).
func wildcardMatch(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(name, mid)
		if i < 0 {
			return false
		}
		name = name[i+len(mid):]
	}
	return strings.HasSuffix(name, last)
}
