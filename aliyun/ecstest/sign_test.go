package ecstest

import (
	"net/url"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// TestSignDocExample reproduces the worked example of the "Request
// signatures" document: AK testid, secret testsecret, DescribeRegions by GET.
func TestSignDocExample(t *testing.T) {
	p := url.Values{
		"Timestamp":        {"2016-02-23T12:46:24Z"},
		"Format":           {"XML"},
		"AccessKeyId":      {"testid"},
		"Action":           {"DescribeRegions"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"Version":          {"2014-05-26"},
		"SignatureVersion": {"1.0"},
	}
	const wantSTS = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML" +
		"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" +
		"%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if got := StringToSign("GET", p); got != wantSTS {
		t.Errorf("StringToSign:\n got %s\nwant %s", got, wantSTS)
	}
	if got := Sign("GET", p, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Errorf("Sign = %s, want OLeaidS1JvxuMvnyHOwuJ+uX5qY=", got)
	}
	p.Set("Signature", "ignored")
	if got := Sign("GET", p, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Errorf("Sign with a Signature parameter = %s", got)
	}
}

func TestPercentEncode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"AZaz09-_.~", "AZaz09-_.~"},
		{"a b", "a%20b"},
		{"*", "%2A"},
		{"+", "%2B"},
		{"/:=&", "%2F%3A%3D%26"},
		{"é", "%C3%A9"},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := percentEncode(tc.in); got != tc.want {
				t.Errorf("percentEncode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestSignMatchesSDK signs requests with the SDK's own signer and checks that
// the fake computes the same string to sign and signature, including for
// values that need every escaping rule and the empty SignatureType.
func TestSignMatchesSDK(t *testing.T) {
	for _, tc := range []struct {
		name  string
		token string
		edit  func(*ecs.DescribeInstancesRequest)
	}{
		{"plain", "", func(*ecs.DescribeInstancesRequest) {}},
		{"tags and attributes", "", func(r *ecs.DescribeInstancesRequest) {
			r.Tag = &[]ecs.DescribeInstancesTag{{Key: "vault", Value: "cluster 1"}, {Key: "k*~"}}
			r.AdditionalAttributes = &[]string{"NETWORK_PRIMARY_ENI_IP"}
			r.Status = "Running"
		}},
		{"escaping", "", func(r *ecs.DescribeInstancesRequest) {
			r.InstanceName = "a b*c~d+e/f=g&h é中"
			r.InstanceIds = `["i-1","i-2"]`
		}},
		{"sts", "token/with+special=chars", func(r *ecs.DescribeInstancesRequest) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := ecs.CreateDescribeInstancesRequest()
			req.RegionId = "cn-hangzhou"
			tc.edit(req)
			if err := requests.InitParams(req); err != nil {
				t.Fatal(err)
			}
			var prov credentials.CredentialsProvider = credentials.NewStaticAKCredentialsProvider("ak", "sk")
			if tc.token != "" {
				prov = credentials.NewStaticSTSCredentialsProvider("ak", "sk", tc.token)
			}
			if err := auth.Sign(req, nil, "cn-hangzhou", prov); err != nil {
				t.Fatal(err)
			}
			p := url.Values{}
			for k, v := range req.GetQueryParams() {
				p.Set(k, v)
			}
			if _, ok := p["SignatureType"]; !ok {
				t.Fatal("SDK no longer sends SignatureType; revisit the empty-parameter rule")
			}
			if got, want := StringToSign(req.GetMethod(), p), req.GetStringToSign(); got != want {
				t.Errorf("StringToSign:\n got %s\nwant %s", got, want)
			}
			if got, want := Sign(req.GetMethod(), p, "sk"), p.Get("Signature"); got != want {
				t.Errorf("Sign = %s, SDK %s", got, want)
			}
		})
	}
}
