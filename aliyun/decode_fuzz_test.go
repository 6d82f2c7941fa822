package aliyun

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"go.uber.org/zap"
)

// pageBody is a DescribeInstances answer in the real shape, for seeds.
const pageBody = `{"RequestId":"473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E","TotalCount":2,"PageNumber":1,"PageSize":100,"NextToken":"",
"Instances":{"Instance":[{"InstanceId":"i-bp1a","InstanceName":"vault-1","HostName":"vault-1","Status":"Running","ZoneId":"cn-hangzhou-h",
"InstanceNetworkType":"vpc","VpcAttributes":{"VpcId":"vpc-1","PrivateIpAddress":{"IpAddress":["172.16.1.11"]}},
"InnerIpAddress":{"IpAddress":[]},"PublicIpAddress":{"IpAddress":["47.96.10.11"]},"EipAddress":{"IpAddress":"","AllocationId":""},
"NetworkInterfaces":{"NetworkInterface":[{"Type":"Primary","PrimaryIpAddress":"172.16.1.11","Ipv6Sets":{"Ipv6Set":[{"Ipv6Address":"2408:4005::11"}]}}]},
"Tags":{"Tag":[{"TagKey":"vault","TagValue":"cluster1"}]}},
{"InstanceId":"i-bp1b","InstanceNetworkType":"classic","InnerIpAddress":{"IpAddress":["10.1.1.1"]},"EipAddress":{"IpAddress":"47.1.1.1"}}]}}`

// FuzzDecodePage feeds arbitrary bodies through the SDK's decoding of a 200
// answer and the daemon's address choice: never a panic, and every peer that
// comes out has an instance id and a valid address of the configured type.
func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{pageBody, `{}`, `{"RequestId":"x"}`, `{"RequestId":"x","Instances":{"Instance":[{"InstanceId":"i"}]}}`,
		`{"RequestId":"x","Instances":{"Instance":[{"InstanceId":"i","VpcAttributes":{"PrivateIpAddress":{"IpAddress":"1.2.3.4"}}}]}}`,
		`{"RequestId":1,"TotalCount":"2","Instances":null}`, `<html>`, ``, `{"Instances":{"Instance":[null]}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := ecs.CreateDescribeInstancesResponse()
		httpResp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(bytes.NewReader(body))}
		err := decodeGuarded(resp, httpResp)
		if err != nil {
			var apiErr *APIError
			if e := classify(actionDescribeInstances, err); !errors.As(error(e), &apiErr) || e.Code == "" {
				t.Fatalf("unclassified decode error %v", err)
			}
			return
		}
		for _, at := range []AddrType{AddrPrivateV4, AddrPublicV4, AddrIPv6} {
			d := &Discoverer{cfg: Config{AddrType: at}, log: zap.NewNop()}
			for i := range resp.Instances.Instance {
				p, ok := d.peer(&resp.Instances.Instance[i])
				if !ok {
					continue
				}
				a, err := netip.ParseAddr(p.Address)
				if p.InstanceID == "" || err != nil || a.Is4() == (at == AddrIPv6) || strings.ContainsAny(p.Address, " \n") {
					t.Fatalf("%s peer %+v from %q", at, p, body)
				}
			}
		}
	})
}

// decodeGuarded is the SDK's decoding of an answer, under doAction's guard.
func decodeGuarded(resp *ecs.DescribeInstancesResponse, httpResp *http.Response) (err error) {
	defer recoverSDKPanic(&err)
	return responses.Unmarshal(resp, httpResp, "JSON")
}
