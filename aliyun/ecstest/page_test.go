package ecstest

import (
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestPageNumberPaging(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(25)))
	c := newClient(t, s, defaultCred())
	for _, tc := range []struct {
		name               string
		number, size       string
		wantN              int
		wantFirst          string
		wantPage, wantSize int
		code               string
	}{
		{"defaults", "", "", 10, "i-0000", 1, 10, ""},
		{"page 2", "2", "", 10, "i-0010", 2, 10, ""},
		{"last partial page", "3", "10", 5, "i-0020", 3, 10, ""},
		{"past the end", "4", "10", 0, "", 4, 10, ""},
		{"far past the end", "999999999", "100", 0, "", 999999999, 100, ""},
		{"size 100", "", "100", 25, "i-0000", 1, 100, ""},
		{"size 1", "7", "1", 1, "i-0006", 7, 1, ""},
		{"size 101", "", "101", 0, "", 0, 0, "InvalidParam.PageSize"},
		{"size 0", "", "0", 0, "", 0, 0, "InvalidParam.PageSize"},
		{"size not a number", "", "ten", 0, "", 0, 0, "InvalidParam.PageSize"},
		{"number 0", "0", "", 0, "", 0, 0, "InvalidParam.PageNumber"},
		{"number negative", "-1", "", 0, "", 0, 0, "InvalidParam.PageNumber"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := describe(c, func(r *ecsRequest) {
				r.PageNumber = requests.Integer(tc.number)
				r.PageSize = requests.Integer(tc.size)
			})
			if tc.code != "" {
				wantCode(t, err, tc.code, 400)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ids(resp)
			if len(got) != tc.wantN || (tc.wantN > 0 && got[0] != tc.wantFirst) {
				t.Errorf("got %v", got)
			}
			if resp.TotalCount != 25 || resp.PageNumber != tc.wantPage || resp.PageSize != tc.wantSize || resp.NextToken != "" {
				t.Errorf("TotalCount %d PageNumber %d PageSize %d NextToken %q", resp.TotalCount, resp.PageNumber, resp.PageSize, resp.NextToken)
			}
		})
	}
}

func TestTokenPaging(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(250)))
	c := newClient(t, s, defaultCred())
	for _, tc := range []struct {
		name       string
		maxResults string
		pageSize   string
		wantPages  []int
	}{
		{"max 100", "100", "", []int{100, 100, 50}},
		{"max below 10 is 10", "5", "", pages(250, 10)},
		{"max 0 is 10", "0", "", pages(250, 10)},
		{"max above 100 is 100", "1000", "", []int{100, 100, 50}},
		{"PageSize ignored", "50", "3", []int{50, 50, 50, 50, 50}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sizes []int
			var all []string
			token := ""
			for i := 0; ; i++ {
				resp, err := describe(c, func(r *ecsRequest) {
					r.MaxResults = requests.Integer(tc.maxResults)
					r.PageSize = requests.Integer(tc.pageSize)
					r.NextToken = token
				})
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, len(resp.Instances.Instance))
				all = append(all, ids(resp)...)
				if resp.TotalCount != 250 {
					t.Errorf("TotalCount %d", resp.TotalCount)
				}
				if token = resp.NextToken; token == "" || i > 50 {
					break
				}
			}
			if !slices.Equal(sizes, tc.wantPages) {
				t.Errorf("page sizes %v, want %v", sizes, tc.wantPages)
			}
			if len(all) != 250 || !slices.IsSorted(all) || len(slices.Compact(slices.Clone(all))) != 250 {
				t.Errorf("collected %d ids, sorted %v", len(all), slices.IsSorted(all))
			}
		})
	}
}

func pages(total, size int) []int {
	var out []int
	for ; total > 0; total -= size {
		out = append(out, min(total, size))
	}
	return out
}

func TestTokenErrors(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(30)))
	c := newClient(t, s, defaultCred())
	first, err := describe(c, func(r *ecsRequest) {
		r.MaxResults = "10"
		r.Tag = &[]ecs.DescribeInstancesTag{{Key: "vault", Value: "cluster1"}}
	})
	if err != nil || first.NextToken == "" {
		t.Fatalf("first page: %v, token %q", err, first.NextToken)
	}
	for _, tc := range []struct {
		name string
		edit func(*ecsRequest)
		code string
	}{
		{"unknown token", func(r *ecsRequest) { r.NextToken = "caeba0bbb2be03f84eb48b699f0a4883" }, "InvalidParameter.NextToken"},
		{"token of another query", func(r *ecsRequest) { r.NextToken = first.NextToken }, "InvalidParameter.NextToken"},
		{"token reused with its query", func(r *ecsRequest) {
			r.NextToken = first.NextToken
			r.Tag = &[]ecs.DescribeInstancesTag{{Key: "vault", Value: "cluster1"}}
		}, ""},
		{"MaxResults negative", func(r *ecsRequest) { r.MaxResults = "-1" }, "InvalidParameter.MaxResults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := describe(c, tc.edit)
			wantCode(t, err, tc.code, 400)
		})
	}
}

// TestTokenIsCursor changes the fleet between pages: the next page resumes
// after the last instance returned, without repeats or gaps among the
// instances that stayed.
func TestTokenIsCursor(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(25)))
	c := newClient(t, s, defaultCred())
	p1, err := describe(c, func(r *ecsRequest) { r.MaxResults = "10" })
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(p1); got[9] != "i-0009" {
		t.Fatalf("page 1 %v", got)
	}
	s.RemoveInstance("i-0003")                            // behind the cursor
	s.RemoveInstance("i-0010")                            // first of the next page
	s.PutInstance(Instance{ID: "i-0000a"})                // new, behind the cursor
	s.PutInstance(Instance{ID: "i-0012a"})                // new, ahead of it
	s.PutInstance(Instance{ID: "i-0009", Name: "edited"}) // the cursor itself, replaced
	p2, err := describe(c, func(r *ecsRequest) { r.MaxResults = "10"; r.NextToken = p1.NextToken })
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"i-0011", "i-0012", "i-0012a", "i-0013", "i-0014", "i-0015", "i-0016", "i-0017", "i-0018", "i-0019"}
	if got := ids(p2); !slices.Equal(got, want) {
		t.Errorf("page 2 %v, want %v", got, want)
	}
	s.SetInstances(fleetOf(5))
	p3, err := describe(c, func(r *ecsRequest) { r.MaxResults = "10"; r.NextToken = p2.NextToken })
	if err != nil {
		t.Fatal(err)
	}
	if len(p3.Instances.Instance) != 0 || p3.NextToken != "" {
		t.Errorf("page 3 after shrinking: %v, token %q", ids(p3), p3.NextToken)
	}
}

// TestTagQueryCap checks the 1,000 cap of tag-filtered queries in both paging
// methods, and its absence without a tag filter.
func TestTagQueryCap(t *testing.T) {
	s := startServer(t, WithInstances(fleetOf(1050)))
	c := newClient(t, s, defaultCred())
	tag := &[]ecs.DescribeInstancesTag{{Key: "vault", Value: "cluster1"}}
	collect := func(t *testing.T, tagged bool) (int, int) {
		t.Helper()
		n, token := 0, ""
		total := 0
		for i := 0; i < 20; i++ {
			resp, err := describe(c, func(r *ecsRequest) {
				r.MaxResults = "100"
				r.NextToken = token
				if tagged {
					r.Tag = tag
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			n += len(resp.Instances.Instance)
			total = resp.TotalCount
			if token = resp.NextToken; token == "" {
				break
			}
		}
		return n, total
	}
	t.Run("token method stops at 1000", func(t *testing.T) {
		if n, total := collect(t, true); n != TagQueryCap || total != TagQueryCap {
			t.Errorf("got %d instances, TotalCount %d", n, total)
		}
	})
	t.Run("no tag filter, no cap", func(t *testing.T) {
		if n, total := collect(t, false); n != 1050 || total != 1050 {
			t.Errorf("got %d instances, TotalCount %d", n, total)
		}
	})
	t.Run("page method stops at 1000", func(t *testing.T) {
		for _, tc := range []struct {
			page string
			want int
		}{{"10", 100}, {"11", 0}} {
			resp, err := describe(c, func(r *ecsRequest) { r.Tag = tag; r.PageSize = "100"; r.PageNumber = requests.Integer(tc.page) })
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Instances.Instance) != tc.want || resp.TotalCount != TagQueryCap {
				t.Errorf("page %s: %d instances, TotalCount %d", tc.page, len(resp.Instances.Instance), resp.TotalCount)
			}
		}
	})
}

func TestDryRunAndDenied(t *testing.T) {
	s := startServer(t,
		WithCredential(Credential{AccessKeyID: DefaultAccessKeyID, AccessKeySecret: DefaultAccessKeySecret}),
		WithCredential(Credential{AccessKeyID: "LTAIdenied", AccessKeySecret: "denied-secret", Denied: true}),
		WithInstances(fleetOf(3)),
	)
	allowed := newClient(t, s, defaultCred())
	denied := newClient(t, s, credentials.NewAccessKeyCredential("LTAIdenied", "denied-secret"))
	for _, tc := range []struct {
		name   string
		c      *sdk.Client
		edit   func(*ecsRequest)
		code   string
		status int
		wantN  int
	}{
		{"allowed list", allowed, nil, "", 0, 3},
		{"allowed dry run", allowed, func(r *ecsRequest) { r.DryRun = "true" }, "DryRunOperation", 400, 0},
		{"dry run validates parameters first", allowed, func(r *ecsRequest) { r.DryRun = "true"; r.Status = "Up" }, "InvalidStatus.NotFound", 404, 0},
		{"denied list is empty, not an error", denied, nil, "", 0, 0},
		{"denied token list is empty", denied, func(r *ecsRequest) { r.MaxResults = "100" }, "", 0, 0},
		{"denied dry run", denied, func(r *ecsRequest) { r.DryRun = "true" }, "Forbidden.RAM", 403, 0},
		{"denied still validated", denied, func(r *ecsRequest) { r.RegionId = "xx-none-1" }, "InvalidRegionId.NotFound", 404, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := describe(tc.c, tc.edit)
			wantCode(t, err, tc.code, tc.status)
			if tc.code == "Forbidden.RAM" {
				se := serverError(t, err)
				if se.AccessDeniedDetail() == nil || se.Message() != msgForbiddenRAM {
					t.Errorf("detail %v message %q", se.AccessDeniedDetail(), se.Message())
				}
			}
			if tc.code == "DryRunOperation" && serverError(t, err).Message() != msgDryRun {
				t.Errorf("message %q", serverError(t, err).Message())
			}
			if tc.code == "" && (len(resp.Instances.Instance) != tc.wantN || resp.TotalCount != tc.wantN) {
				t.Errorf("got %d instances, TotalCount %d", len(resp.Instances.Instance), resp.TotalCount)
			}
		})
	}
}
