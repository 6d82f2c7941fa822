package aliyun

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"go.uber.org/zap"

	"github.com/joinhintd/joinhintd/daemon"
)

const (
	actionDescribeInstances = "DescribeInstances"
	pageSize                = 100
	// tagQueryCap is the most instances a tag-filtered DescribeInstances
	// shows, however it is paged.
	tagQueryCap = 1000
	// maxPages bounds one refresh: the tag cap needs 10 pages of 100.
	maxPages = 50
)

// Discoverer lists the running instances that carry every configured tag
// through DescribeInstances, following NextToken to the last page. It
// implements daemon.Discoverer; Discover must not be called concurrently
// (the SDK client mutates its transport on every call).
type Discoverer struct {
	cfg      Config
	client   *sdk.Client
	source   string
	selfID   string
	log      *zap.Logger
	observer daemon.APIObserver
}

// NewDiscoverer builds a Discoverer for a validated, resolved cfg (Region
// set). selfID is this node's instance id ("" when unknown); its peer is
// marked Self. observer may be nil.
func NewDiscoverer(cfg Config, selfID string, log *zap.Logger, observer daemon.APIObserver) (*Discoverer, error) {
	if cfg.Region == "" {
		return nil, fmt.Errorf("no region: give --region, region= in --auto-join, or run on ECS where the metadata service tells it")
	}
	client, source, err := newSDKClient(&cfg, log)
	if err != nil {
		return nil, err
	}
	return &Discoverer{cfg: cfg, client: client, source: source, selfID: selfID, log: log, observer: observer}, nil
}

// CredentialSource names where credentials come from, for the start log.
func (d *Discoverer) CredentialSource() string { return d.source }

// Discover implements daemon.Discoverer: every page, or an error.
func (d *Discoverer) Discover(ctx context.Context) ([]daemon.Peer, error) {
	var peers []daemon.Peer
	token := ""
	seen := 0
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("refresh abandoned before page %d: %w", page, err)
		}
		if page > maxPages {
			return nil, fmt.Errorf("%s: more than %d pages; the NextToken chain does not end", actionDescribeInstances, maxPages)
		}
		resp, err := d.describe(token)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		seen += len(resp.Instances.Instance)
		d.log.Debug("page read",
			zap.Int("page", page),
			zap.Int("instances", len(resp.Instances.Instance)),
			zap.String("request_id", resp.RequestId),
			zap.Bool("last", resp.NextToken == ""))
		for i := range resp.Instances.Instance {
			if p, ok := d.peer(&resp.Instances.Instance[i]); ok {
				peers = append(peers, p)
			}
		}
		if resp.NextToken == "" {
			break
		}
		if resp.NextToken == token {
			return nil, fmt.Errorf("%s: page %d returned the NextToken it was given", actionDescribeInstances, page)
		}
		token = resp.NextToken
	}
	if seen >= tagQueryCap {
		d.log.Warn("tag query reached the API cap; peers may be missing: tighten the filters",
			zap.Int("instances", seen), zap.Int("cap", tagQueryCap))
		if d.observer != nil {
			d.observer.TagQueryCapped()
		}
	}
	slices.SortFunc(peers, func(a, b daemon.Peer) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	peers = slices.CompactFunc(peers, func(a, b daemon.Peer) bool { return a.InstanceID == b.InstanceID })
	return peers, nil
}

// describe makes one DescribeInstances call for the page after token.
func (d *Discoverer) describe(token string) (*ecs.DescribeInstancesResponse, error) {
	return d.do(d.request(token))
}

// do sends one DescribeInstances request and reports it to the observer.
func (d *Discoverer) do(req *ecs.DescribeInstancesRequest) (*ecs.DescribeInstancesResponse, error) {
	resp := ecs.CreateDescribeInstancesResponse()
	start := time.Now()
	err := doAction(d.client, req, resp)
	var apiErr *APIError
	if err != nil {
		apiErr = classify(actionDescribeInstances, err)
	} else if resp.RequestId == "" {
		// A 2xx that is not a DescribeInstances answer (an empty body, a
		// captive portal): never read it as "no instances".
		apiErr = &APIError{Action: actionDescribeInstances, Code: codeDecode, HTTPStatus: resp.GetHttpStatus(),
			Message: "the answer has no RequestId; it is not a DescribeInstances answer", reason: daemon.ReasonServer}
	}
	code := codeSuccess
	if apiErr != nil {
		code = apiErr.Code
		apiErr.accessKeyID = req.GetQueryParams()["AccessKeyId"]
	}
	if d.observer != nil && code != codeCredentials {
		d.observer.ObserveAPIRequest(actionDescribeInstances, code, time.Since(start))
	}
	if apiErr != nil {
		return nil, apiErr
	}
	return resp, nil
}

// doAction is client.DoAction with a panic inside the SDK turned into an
// error (see recoverSDKPanic).
func doAction(client *sdk.Client, req *ecs.DescribeInstancesRequest, resp *ecs.DescribeInstancesResponse) (err error) {
	defer recoverSDKPanic(&err)
	return client.DoAction(req, resp)
}

// recoverSDKPanic, deferred, turns a panic in the SDK (its lenient JSON
// decoder meeting an answer it did not expect) into a decode error in *err:
// a malformed answer must fail one refresh, not stop the daemon.
func recoverSDKPanic(err *error) {
	if v := recover(); v != nil {
		*err = sdkerrors.NewClientError(sdkerrors.JsonUnmarshalErrorCode, fmt.Sprintf("the SDK panicked reading the answer: %v", v), nil)
	}
}

// request builds the DescribeInstances request for one page.
func (d *Discoverer) request(token string) *ecs.DescribeInstancesRequest {
	req := ecs.CreateDescribeInstancesRequest()
	req.Scheme = d.cfg.EndpointScheme
	req.RegionId = d.cfg.Region
	req.Status = "Running"
	req.MaxResults = requests.NewInteger(pageSize)
	req.NextToken = token
	req.VpcId = d.cfg.VpcID
	req.ZoneId = d.cfg.ZoneID
	tags := make([]ecs.DescribeInstancesTag, len(d.cfg.Tags))
	for i, t := range d.cfg.Tags {
		tags[i] = ecs.DescribeInstancesTag{Key: t.Key, Value: t.Value}
	}
	req.Tag = &tags
	if d.cfg.AddrType == AddrIPv6 {
		// Ipv6Sets carry values only when this is asked for.
		req.AdditionalAttributes = &[]string{"NETWORK_PRIMARY_ENI_IP"}
	}
	return req
}

// peer turns one instance into a Peer; ok is false when the instance has no
// address of the configured type.
func (d *Discoverer) peer(in *ecs.Instance) (daemon.Peer, bool) {
	p := daemon.Peer{
		InstanceID:  in.InstanceId,
		Name:        in.InstanceName,
		Hostname:    in.HostName,
		PrivateIPv4: validIP(privateIPv4(in), false),
		PublicIPv4:  validIP(publicIPv4(in), false),
		IPv6:        validIP(ipv6(in), true),
		Zone:        in.ZoneId,
		VpcID:       in.VpcAttributes.VpcId,
		Self:        d.selfID != "" && in.InstanceId == d.selfID,
	}
	switch d.cfg.AddrType {
	case AddrPublicV4:
		p.Address = p.PublicIPv4
	case AddrIPv6:
		p.Address = p.IPv6
	default:
		p.Address = p.PrivateIPv4
	}
	if p.Address == "" || p.InstanceID == "" {
		d.log.Debug("instance skipped: no valid address of the configured type",
			zap.String("instance_id", in.InstanceId), zap.String("addr_type", string(d.cfg.AddrType)))
		return daemon.Peer{}, false
	}
	return p, true
}

// privateIPv4 is the primary private IPv4: a VPC instance's primary ENI
// address (else the first VPC private IP), a classic instance's first inner IP.
func privateIPv4(in *ecs.Instance) string {
	if in.InstanceNetworkType == "classic" {
		return first(in.InnerIpAddress.IpAddress)
	}
	if eni := primaryENI(in); eni != nil && eni.PrimaryIpAddress != "" {
		return eni.PrimaryIpAddress
	}
	return first(in.VpcAttributes.PrivateIpAddress.IpAddress)
}

// publicIPv4 is the EIP when one is bound, else the instance's public IP.
func publicIPv4(in *ecs.Instance) string {
	if in.EipAddress.IpAddress != "" {
		return in.EipAddress.IpAddress
	}
	return first(in.PublicIpAddress.IpAddress)
}

// ipv6 is the primary ENI's first IPv6 address.
func ipv6(in *ecs.Instance) string {
	if eni := primaryENI(in); eni != nil && len(eni.Ipv6Sets.Ipv6Set) > 0 {
		return eni.Ipv6Sets.Ipv6Set[0].Ipv6Address
	}
	return ""
}

func primaryENI(in *ecs.Instance) *ecs.NetworkInterface {
	for i := range in.NetworkInterfaces.NetworkInterface {
		if eni := &in.NetworkInterfaces.NetworkInterface[i]; eni.Type == "Primary" {
			return eni
		}
	}
	return nil
}

// validIP returns s when it is an IPv4 address (or, with v6, an IPv6 one)
// in canonical form, else "": an answer with garbage in an address field
// must not become a join hint.
func validIP(s string, v6 bool) string {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" || a.Is4() == v6 || a.Is4In6() {
		return ""
	}
	return a.String()
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}
