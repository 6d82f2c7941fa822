package ecstest

import (
	"net/url"
	"sort"
	"strconv"
)

// Paging limits of DescribeInstances ([DOC-DI], [TEA]).
const (
	DefaultPageSize = 10   // PageSize when absent; MaxResults when absent or below 10
	MaxPageSize     = 100  // largest PageSize; MaxResults above it is clamped to it
	TagQueryCap     = 1000 // a tag-filtered query shows at most this many instances in total
)

// maxCursors bounds the NextToken cursors remembered; the oldest are forgotten
// first (a forgotten token is then an unknown token).
const maxCursors = 10000

// pageRequest is the validated paging part of a request. token selects the
// NextToken/MaxResults method, which wins over PageNumber/PageSize whenever
// MaxResults or NextToken is present.
type pageRequest struct {
	token      bool
	nextToken  string
	maxResults int
	pageNumber int
	pageSize   int
}

func parsePaging(p url.Values) (pageRequest, *apiError) {
	pg := pageRequest{pageNumber: 1, pageSize: DefaultPageSize, maxResults: DefaultPageSize}
	pg.nextToken = p.Get("NextToken")
	mr := p.Get("MaxResults")
	if mr != "" || pg.nextToken != "" {
		pg.token = true
		if mr != "" {
			n, err := strconv.Atoi(mr)
			if err != nil || n < 0 {
				return pg, errInvalidParam("InvalidParameter.MaxResults", "MaxResults")
			}
			pg.maxResults = min(max(n, DefaultPageSize), MaxPageSize)
		}
		return pg, nil
	}
	if v := p.Get("PageNumber"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return pg, errInvalidParam("InvalidParam.PageNumber", "PageNumber")
		}
		pg.pageNumber = n
	}
	if v := p.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return pg, errInvalidParam("InvalidParam.PageSize", "PageSize")
		}
		pg.pageSize = n
	}
	return pg, nil
}

// cursor is what a NextToken stands for: the query it belongs to, the last
// instance id already returned and how many instances were returned so far
// (for the 1,000 cap). Paging resumes after lastID in the fleet as it is at the
// time of the next call, like a real cursor: instances added or removed behind
// the cursor do not shift later pages.
type cursor struct {
	filter string
	lastID string
	served int
}

// nonFilterParam reports whether name is a parameter that does not select
// instances; such parameters are left out of a cursor's query identity.
func nonFilterParam(name string) bool {
	switch name {
	case "AccessKeyId", "Action", "Format", "Signature", "SignatureMethod", "SignatureNonce",
		"SignatureType", "SignatureVersion", "Timestamp", "Version", "SecurityToken",
		"NextToken", "MaxResults", "PageNumber", "PageSize", "DryRun",
		"OwnerId", "OwnerAccount", "ResourceOwnerId", "ResourceOwnerAccount":
		return true
	}
	return false
}

// filterKey identifies the instance selection of a request, so that a
// NextToken is only accepted for the query that produced it.
func filterKey(p url.Values) string {
	sel := url.Values{}
	for k, v := range p {
		if !nonFilterParam(k) {
			sel[k] = v
		}
	}
	return canonicalQuery(sel)
}

// page cuts one page out of matches (sorted by instance id) and builds the
// response. It mints a NextToken when the token method has more to give.
// The caller holds s.mu.
func (s *Server) page(q *query, pg pageRequest, filter string, matches []*Instance) (wireResponse, *apiError) {
	capped := len(q.tags) > 0
	total := len(matches)
	if capped {
		total = min(total, TagQueryCap)
	}
	resp := wireResponse{TotalCount: total, PageNumber: pg.pageNumber, PageSize: pg.pageSize}
	var out []*Instance
	if pg.token {
		resp.PageNumber, resp.PageSize = 1, pg.maxResults
		start, served := 0, 0
		if pg.nextToken != "" {
			c, ok := s.cursors[pg.nextToken]
			if !ok || c.filter != filter {
				return resp, errInvalidParam("InvalidParameter.NextToken", "NextToken")
			}
			start = sort.Search(len(matches), func(i int) bool { return matches[i].ID > c.lastID })
			served = c.served
		}
		limit := pg.maxResults
		if capped {
			limit = max(min(limit, TagQueryCap-served), 0)
		}
		end := min(start+limit, len(matches))
		out = matches[start:end]
		more := end < len(matches) && (!capped || served+len(out) < TagQueryCap)
		if more && len(out) > 0 {
			resp.NextToken = s.remember(cursor{filter: filter, lastID: out[len(out)-1].ID, served: served + len(out)})
		}
	} else {
		if capped && len(matches) > TagQueryCap {
			matches = matches[:TagQueryCap]
		}
		if skip := pg.pageNumber - 1; skip <= len(matches)/pg.pageSize {
			start := skip * pg.pageSize
			out = matches[start:min(start+pg.pageSize, len(matches))]
		}
	}
	resp.Instances.Instance = make([]wireInstance, 0, len(out))
	for _, in := range out {
		resp.Instances.Instance = append(resp.Instances.Instance, toWire(*in, q.wantIPv6))
	}
	return resp, nil
}

// remember stores c under a fresh token. The caller holds s.mu.
func (s *Server) remember(c cursor) string {
	tok := newToken()
	s.cursors[tok] = c
	s.cursorOrder = append(s.cursorOrder, tok)
	if len(s.cursorOrder) > maxCursors {
		delete(s.cursors, s.cursorOrder[0])
		s.cursorOrder = s.cursorOrder[1:]
	}
	return tok
}
